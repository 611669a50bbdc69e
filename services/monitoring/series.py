"""Time series for the monitoring page and the Prometheus gauges: observations in time buckets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np

from services.storage.lifecycle import Observation

SERIES = (
    ("documents", "documents", ""),
    ("exception_rate", "exception rate", "%"),
    ("unknown_template_rate", "no template matched", "%"),
    ("correction_rate", "corrected by an operator", "%"),
    ("min_confidence", "lowest field confidence (mean)", ""),
    ("latency_p50_s", "latency p50", "s"),
    ("latency_p95_s", "latency p95", "s"),
    ("cpu_s_per_1000", "CPU seconds per 1,000 documents", "s"),
    ("canary_share", "served by a canary", "%"),
)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile as one of the values (numpy's "higher": of the two a linear interpolation
    would blend, the upper; of an even number of latencies the upper median); None of nothing."""
    if not len(values):
        return None
    return float(np.quantile(values, q, method="higher"))


def summarise(rows: Sequence[Observation], corrected: set[str]) -> dict[str, float | None]:
    """The figures of one bucket (or of any set of observations)."""
    n = len(rows)
    if not n:
        return {name: None for name, _, _ in SERIES} | {"documents": 0}
    latency = [r.latency_ms / 1000 for r in rows if r.latency_ms is not None]
    cpu = [r.cpu_ms for r in rows if r.cpu_ms is not None]
    mins = [min(r.confidence.values()) if r.confidence else 0.0 for r in rows]
    return {
        "documents": n,
        "exception_rate": sum(r.outcome == "exception" for r in rows) / n,
        "unknown_template_rate": sum(r.detection != "matched" for r in rows) / n,
        "correction_rate": sum(r.document_id in corrected for r in rows) / n,
        "min_confidence": sum(mins) / n,
        "latency_p50_s": quantile(latency, 0.5),
        "latency_p95_s": quantile(latency, 0.95),
        "cpu_s_per_1000": sum(cpu) / len(cpu) if cpu else None,  # ms per document = s per 1,000 documents
        "canary_share": sum(r.model_role == "canary" for r in rows) / n,
    }


def buckets(rows: Sequence[Observation], corrected: set[str], count: int = 24) -> list[dict]:
    """``rows`` (oldest first) in ``count`` equal time buckets from the first to the last."""
    if not rows:
        return []
    start, end = rows[0].at, rows[-1].at
    width = max((end - start) / count, timedelta(seconds=1))
    out: list[dict] = []
    group: list[Observation] = []
    edge = start + width
    for row in rows:
        while row.at >= edge and len(out) < count - 1:
            out.append({"start": (edge - width).isoformat()} | summarise(group, corrected))
            group, edge = [], edge + width
        group.append(row)
    out.append({"start": (edge - width).isoformat()} | summarise(group, corrected))
    return out

