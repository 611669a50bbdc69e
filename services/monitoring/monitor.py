"""Drift checks and the canary's health, as pure functions over observations.

The current window (the newest documents) is compared with the reference window (the documents
before it), over all documents and per vendor, each feature with the test that suits it:

- categorical inputs and outcomes (chi-square): vendor mix, detection status (template matched,
  new layout, unknown), text layer, OCR, language, outcome (the exception rate), validation reasons;
- numeric inputs (PSI and Kolmogorov-Smirnov): pages, words per page;
- outputs (Kolmogorov-Smirnov): each header field's confidence, and the lowest per document;
- operator corrections (chi-square): corrected or not, per document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.contracts import HEADER_FIELDS
from services.models.policy import Drift, Rollout
from services.monitoring import drift
from services.storage.lifecycle import Observation

Row = Observation
CATCH_UP = 50  # window ends checked per look and scope
# PSI over deciles needs samples this large on each side; smaller windows (a vendor's) rely on KS,
# whose p-value accounts for the sample size.
PSI_MIN_COUNT = 50


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # categorical | numeric | confidence
    value: Callable[[Row, set[str]], Any]  # (row, corrected document ids) -> value or None


def _corrected(row: Row, corrected: set[str]) -> str:
    return "corrected" if row.document_id in corrected else "as read"


def _min_confidence(row: Row, _c: set[str]) -> float | None:
    return min(row.confidence.values()) if row.confidence else 0.0


def _confidence_of(name: str) -> Callable[[Row, set[str]], float | None]:
    return lambda row, _c: row.confidence.get(name)


FEATURES: list[Feature] = [
    Feature("vendor", "categorical", lambda r, _c: r.vendor or "unknown"),
    Feature("detection", "categorical", lambda r, _c: r.detection),
    Feature("text_layer", "categorical", lambda r, _c: r.text_layer),
    Feature("ocr", "categorical", lambda r, _c: "ocr" if r.ocr else "text"),
    Feature("language", "categorical", lambda r, _c: r.language),
    Feature("outcome", "categorical", lambda r, _c: r.outcome),
    Feature("reason", "categorical", lambda r, _c: r.reasons[0] if r.reasons else "none"),
    Feature("correction", "categorical", _corrected),
    Feature("pages", "numeric", lambda r, _c: float(r.pages)),
    Feature("words_per_page", "numeric", lambda r, _c: r.words_per_page),
    Feature("min_confidence", "confidence", _min_confidence),
    *[Feature(f"confidence.{name}", "confidence", _confidence_of(name)) for name in HEADER_FIELDS],
]
# Per vendor, the vendor mix says nothing; the rest do.
VENDOR_FEATURES = [f for f in FEATURES if f.name != "vendor"]


@dataclass(frozen=True)
class Check:
    scope: str
    feature: str
    test: str
    statistic: float
    p_value: float | None
    reference_n: int
    current_n: int
    drift: bool
    evidence: dict


def compare(scope: str, reference: Sequence[Row], current: Sequence[Row], corrected: set[str], policy: Drift,
            features: list[Feature] = FEATURES) -> list[Check]:
    """Every feature of ``current`` against ``reference``; a feature needs 3 values on each side."""
    checks = []
    for feature in features:
        ref = [v for v in (feature.value(r, corrected) for r in reference) if v is not None]
        cur = [v for v in (feature.value(r, corrected) for r in current) if v is not None]
        if len(ref) < 3 or len(cur) < 3:
            continue
        results = []
        if feature.kind == "categorical":
            results.append(drift.chi_square(ref, cur, alpha=policy.p_alert))
        else:
            results.append(drift.ks(ref, cur, alpha=policy.p_alert))
            if feature.kind == "numeric" and min(len(ref), len(cur)) >= PSI_MIN_COUNT:
                results.append(drift.psi(ref, cur, alert=policy.psi_alert))
        for result in results:
            checks.append(Check(scope, feature.name, result.test, result.statistic, result.p_value, len(ref), len(cur),
                                result.drift, result.detail))
    return checks


def windows(rows: Sequence[Row], reference: int, current: int) -> tuple[list[Row], list[Row]]:
    """``rows`` oldest first: the newest ``current`` and the ``reference`` before them."""
    rows = list(rows)
    cur = rows[-current:] if len(rows) > current else []
    ref = rows[-(current + reference):-current] if cur else []
    return ref, cur


def run_checks(rows: Sequence[Row], corrected: set[str], policy: Drift, since: datetime | None = None) -> list[Check]:
    """All documents, then each vendor with enough documents in both of its windows.

    ``since``: the newest observation the previous look saw. Each document that arrived after it
    is checked as the end of a window (the latest CATCH_UP of them), so a change is caught while
    the windows straddle it, however seldom the monitor looks; the first position that drifted is
    reported, else the newest.
    """
    checks = _scan("all", list(rows), policy.reference, policy.current, corrected, policy, since, FEATURES)
    by_vendor: dict[str, list[Row]] = {}
    for row in rows:
        if row.vendor:
            by_vendor.setdefault(row.vendor, []).append(row)
    for vendor, vendor_rows in sorted(by_vendor.items()):
        checks += _scan(f"vendor:{vendor}", vendor_rows, policy.vendor_reference, policy.vendor_current, corrected,
                        policy, since, VENDOR_FEATURES)
    return checks


def _scan(scope: str, rows: list[Row], reference: int, current: int, corrected: set[str], policy: Drift,
          since: datetime | None, features: list[Feature]) -> list[Check]:
    ends = [len(rows)]
    if since is not None:
        ends = [i for i in range(1, len(rows) + 1) if rows[i - 1].at > since][-CATCH_UP:] or ends
    latest: list[Check] = []
    for end in ends:
        ref, cur = windows(rows[:end], reference, current)
        if len(ref) < current:
            continue
        latest = compare(scope, ref, cur, corrected, policy, features)
        if any(c.drift for c in latest):
            return latest
    return latest


def alerts(checks: list[Check]) -> list[dict]:
    """One alert per scope that drifted, with every drifted feature as evidence."""
    out = []
    for scope in dict.fromkeys(c.scope for c in checks):
        hits = [c for c in checks if c.scope == scope and c.drift]
        if not hits:
            continue
        parts = [_describe(c) for c in hits[:6]]
        out.append({
            "kind": "drift", "scope": scope, "severity": "critical" if len(hits) >= 3 else "warning",
            "summary": f"{scope}: {len(hits)} feature(s) drifted: " + "; ".join(parts),
            "evidence": {"features": [{"feature": c.feature, "test": c.test, "statistic": c.statistic,
                                       "p_value": c.p_value, "reference_n": c.reference_n,
                                       "current_n": c.current_n} | c.evidence for c in hits]},
        })
    return out


def _describe(c: Check) -> str:
    if c.test == "chi2":
        ref, cur = c.evidence.get("reference", {}), c.evidence.get("current", {})
        # the category that moved most; of two that moved alike, the one that grew (what is new)
        moved = max(sorted(set(ref) | set(cur)), key=lambda k: (round(abs(cur.get(k, 0) - ref.get(k, 0)), 6),
                                                                cur.get(k, 0) - ref.get(k, 0)))
        return f"{c.feature} {moved} {ref.get(moved, 0):.2f} -> {cur.get(moved, 0):.2f} (chi2 p={c.p_value:.1e})"
    if c.test == "ks":
        return (f"{c.feature} median {c.evidence.get('reference_median')} -> {c.evidence.get('current_median')} "
                f"(KS D={c.statistic:.2f} p={c.p_value:.1e})")
    return f"{c.feature} PSI {c.statistic:.2f}"


@dataclass(frozen=True)
class Arm:
    """A model's documents in the rollout: settled ones (accepted, or their exception decided),
    how many an operator corrected, and how many went to the queue."""

    documents: int
    corrected: int
    exceptions: int

    @property
    def correction_rate(self) -> float:
        return self.corrected / self.documents if self.documents else 0.0


def judge_canary(canary: Arm, production: Arm, policy: Rollout) -> tuple[str | None, dict]:
    """rollback: corrected more often than production, by more than the margin and beyond chance;
    promote (with auto-promote only): enough documents and no worse; otherwise wait."""
    p = drift.two_proportions((canary.corrected, canary.documents), (production.corrected, production.documents))
    evidence = {"canary": canary.__dict__ | {"correction_rate": round(canary.correction_rate, 4)},
                "production": production.__dict__ | {"correction_rate": round(production.correction_rate, 4)},
                "p_value": round(p, 6), "max_increase": policy.max_correction_increase, "alpha": policy.alpha,
                "min_documents": policy.min_documents}
    if canary.documents < policy.min_documents or production.documents < policy.min_documents:
        return None, evidence
    worse = canary.correction_rate - production.correction_rate
    if worse > policy.max_correction_increase and p < policy.alpha:
        return "rollback", evidence
    if policy.auto_promote and worse <= policy.max_correction_increase:
        return "promote", evidence
    return None, evidence


def judge_shadow(outputs: int, shadow_accepts: int, served_accepts: int, policy: Rollout) -> tuple[str | None, dict]:
    """With auto-promote: a shadow that would have accepted at least as many of the same documents
    as the served model, over enough documents, becomes the canary."""
    evidence = {"documents": outputs, "shadow_would_accept": shadow_accepts, "served_accepted": served_accepts,
                "min_documents": policy.min_documents}
    if policy.auto_promote and outputs >= policy.min_documents and shadow_accepts >= served_accepts:
        return "canary", evidence
    return None, evidence
