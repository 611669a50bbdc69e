"""The monitor's pure parts: windows, per-vendor checks, one alert per drifted scope, the series,
and the features recorded of each document."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from services.contracts import Detection, DocumentRef, ExtractedDocument, FieldValue
from services.models.policy import Drift
from services.monitoring.features import language, vendor_key
from services.monitoring.monitor import alerts, run_checks, windows
from services.monitoring.series import buckets, summarise
from services.storage.lifecycle import Observation

T0 = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = Drift(reference=20, current=10, vendor_reference=6, vendor_current=6, p_alert=0.01)


def row(i: int, vendor: str, *, outcome: str = "accepted", words: float = 300, conf: float = 0.95) -> Observation:
    return Observation(document_id=f"d{i}", at=T0 + timedelta(minutes=i), vendor=vendor, detection="unknown",
                       pages=1, words_per_page=words, text_layer="full", language="en", outcome=outcome,
                       confidence={"total_amount": conf, "invoice_number": conf}, latency_ms=800 + i, cpu_ms=120,
                       model_role="production")


def stream(changed_from: int | None = None, count: int = 60) -> list[Observation]:
    """Three vendors in turn; from ``changed_from`` on, vendor b prints a new layout the model fails on."""
    rng = random.Random(11)
    rows = []
    for i in range(count):
        vendor = "abc"[i % 3]
        if vendor == "b" and changed_from is not None and i >= changed_from:
            rows.append(row(i, vendor, outcome="exception", words=rng.gauss(180, 20), conf=rng.uniform(0.2, 0.5)))
        else:
            rows.append(row(i, vendor, words=rng.gauss(300, 20), conf=rng.uniform(0.85, 0.99)))
    return rows


def test_windows_take_the_newest_and_the_ones_before() -> None:
    rows = stream()
    ref, cur = windows(rows, 20, 10)
    assert [r.document_id for r in cur] == [f"d{i}" for i in range(50, 60)]
    assert [r.document_id for r in ref] == [f"d{i}" for i in range(30, 50)]
    assert windows(rows[:5], 20, 10) == ([], [])


def test_a_steady_stream_raises_nothing() -> None:
    checks = run_checks(stream(), set(), POLICY)
    assert checks and not any(c.drift for c in checks)
    assert {c.scope for c in checks} == {"all", "vendor:a", "vendor:b", "vendor:c"}
    assert alerts(checks) == []


def test_one_vendor_changing_its_layout_raises_its_alert_with_the_evidence() -> None:
    checks = run_checks(stream(changed_from=42), set(), POLICY)
    raised = {a["scope"]: a for a in alerts(checks)}
    assert "vendor:b" in raised and "vendor:a" not in raised and "vendor:c" not in raised
    drifted = {(f["feature"], f["test"]) for f in raised["vendor:b"]["evidence"]["features"]}
    assert {("outcome", "chi2"), ("words_per_page", "ks"), ("min_confidence", "ks")} <= drifted
    assert "outcome exception 0.00 -> 1.00" in raised["vendor:b"]["summary"]
    assert raised["vendor:b"]["severity"] == "critical"


def test_a_change_is_caught_however_seldom_the_monitor_looks() -> None:
    """Once both windows hold the new layout, the newest position no longer drifts; a look that
    checks every document since the last look still finds where it did."""
    rows = stream(changed_from=30, count=90)
    assert "vendor:b" not in {a["scope"] for a in alerts(run_checks(rows, set(), POLICY))}
    caught = alerts(run_checks(rows, set(), POLICY, since=rows[20].at))
    assert "vendor:b" in {a["scope"] for a in caught}
    assert alerts(run_checks(rows, set(), POLICY, since=rows[-2].at)) == []  # nothing new: nothing again


def test_psi_joins_in_on_large_windows() -> None:
    policy = Drift(reference=100, current=60, vendor_reference=6, vendor_current=6, p_alert=0.01)
    checks = run_checks(stream(changed_from=150, count=240), set(), policy)
    psi = next(c for c in checks if c.scope == "all" and c.feature == "words_per_page" and c.test == "psi")
    assert psi.drift and psi.statistic > 0.25 and psi.current_n == 60
    assert not any(c.test == "psi" for c in checks if c.scope != "all")  # 6 a side: KS only


def test_corrections_are_a_feature_too() -> None:
    rows = stream()
    corrected = {r.document_id for r in rows[-10:]}  # operators start correcting everything
    hits = [c for c in run_checks(rows, corrected, POLICY) if c.drift]
    assert [(c.scope, c.feature) for c in hits] == [("all", "correction")]


def test_series_in_time_buckets() -> None:
    rows = stream(changed_from=30)
    series = buckets(rows, set(), count=6)
    assert len(series) == 6 and sum(b["documents"] for b in series) == 60
    assert series[0]["exception_rate"] == 0 and series[-1]["exception_rate"] >= 0.3
    overall = summarise(rows, {"d1"})
    assert overall["cpu_s_per_1000"] == 120 and overall["correction_rate"] == 1 / 60
    assert overall["latency_p50_s"] == (800 + 30) / 1000


def test_language_and_vendor_key() -> None:
    assert language(["Rechnung", "Rechnungsdatum:", "Gesamtbetrag", "EUR"]) == "de"
    assert language(["Factuur", "Totaal", "BTW"]) == "nl"
    assert language(["12.50", "EUR"]) == "und"
    ref = DocumentRef(document_id="x", source="t", filename="x.pdf", content_type="application/pdf", sha256="0" * 64,
                      size=1, blob_uri="blob://sha256/" + "0" * 64, submitted_at=T0)
    doc = ExtractedDocument(doc=ref, detection=Detection(status="unknown"), page_count=1, text_layer="full",
                            fields={"vendor_vat_id": FieldValue(value="DE 123 456 789", confidence=0.9, source="m")})
    assert vendor_key(doc) == "vat:DE123456789"
    named = doc.model_copy(update={"fields": doc.fields | {"vendor_name": FieldValue(value="Acme", confidence=0.9,
                                                                                      source="m")}})
    assert vendor_key(named) == "Acme"
