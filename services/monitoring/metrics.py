"""Prometheus metrics per stage: messages, failures, seconds.

Worker processes started by ``docflow up`` share ``PROMETHEUS_MULTIPROC_DIR`` so the HTTP
server's ``/metrics`` adds up every worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.monitoring.privacy import public_scope

MESSAGES = Counter("docflow_stage_messages", "Messages handled per stage and outcome", ["stage", "outcome"])
FAILURES = Counter("docflow_stage_failures", "Documents a stage sent to dead-letter", ["stage", "reason"])
SECONDS = Histogram(
    "docflow_stage_seconds", "Time a stage spent on one message", ["stage"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TERMINAL = Counter("docflow_documents_terminal", "Documents reaching a terminal state", ["state"])
PARSE_PEAK_MB = Gauge("docflow_parse_peak_megabytes", "Peak resident memory of the parse sandbox",
                      multiprocess_mode="max")
TEMPLATE_RELOADS = Counter("docflow_template_reloads", "Template sets reloaded after a publish or rollback")


def render(extra: list[Collector] | None = None) -> tuple[bytes, str]:
    """Every metric of this process (or, under ``docflow up``, of every worker), plus ``extra``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    if extra:
        own = CollectorRegistry()
        for collector in extra:
            own.register(collector)
        body += generate_latest(own)
    return body, CONTENT_TYPE_LATEST


class QueueCollector(Collector):
    """The exception queue as it stands, read from the database at scrape time: items per
    status and reason, and overdue items, so an alert can fire on a growing or late queue."""

    def __init__(self, listing: Callable[[], dict]):
        self.listing = listing

    def collect(self) -> Iterator[GaugeMetricFamily]:
        data = self.listing()
        status = GaugeMetricFamily("docflow_queue_items", "Exception queue items per status", labels=["status"])
        for name, count in sorted(data["counts"]["status"].items()):
            status.add_metric([name], count)
        reason = GaugeMetricFamily("docflow_queue_active_by_reason", "Active queue items per reason",
                                   labels=["reason"])
        for name, count in sorted(data["counts"]["reason"].items()):
            reason.add_metric([name], count)
        yield status
        yield reason
        yield GaugeMetricFamily("docflow_queue_overdue", "Active queue items past their SLA", value=data["overdue"])


class LifecycleCollector(Collector):
    """Drift, the rollout and cost, read from the database at scrape time: the latest drift check
    per scope and feature, each live model's status, and over the newest documents (up to 5,000)
    latency, CPU cost per 1,000 documents, exception and correction rates."""

    def __init__(self, listing: Callable[[], dict]):
        self.listing = listing

    def collect(self) -> Iterator[GaugeMetricFamily]:
        data = self.listing()
        statistic = GaugeMetricFamily("docflow_drift_statistic", "Latest drift test statistic (PSI, chi2, KS D)",
                                      labels=["scope", "feature", "test"])
        p_value = GaugeMetricFamily("docflow_drift_p_value", "Latest drift test p-value",
                                    labels=["scope", "feature", "test"])
        drifted = GaugeMetricFamily("docflow_drift_detected", "1 when the latest test says the feature drifted",
                                    labels=["scope", "feature", "test"])
        for c in data["checks"]:  # /metrics needs no login: a vendor's scope by pseudonym only
            key = [public_scope(c["scope"]), c["feature"], c["test"]]
            statistic.add_metric(key, c["statistic"])
            drifted.add_metric(key, 1.0 if c["drift"] else 0.0)
            if c["p_value"] is not None:
                p_value.add_metric(key, c["p_value"])
        yield from (statistic, p_value, drifted)
        models = GaugeMetricFamily("docflow_model_info", "Models in the registry by status",
                                   labels=["version", "status"])
        for m in data["models"]:
            if m["status"] in ("shadow", "canary", "production"):
                models.add_metric([m["version"], m["status"]], m["share"] if m["status"] != "production" else 1.0)
        yield models
        overall = data["overall"]
        for name, help_text in (("cpu_s_per_1000", "CPU seconds per 1,000 documents (newest documents)"),
                                ("latency_p50_s", "Seconds from receipt to a terminal topic, median"),
                                ("latency_p95_s", "Seconds from receipt to a terminal topic, 95th percentile"),
                                ("exception_rate", "Share of documents sent to the exception queue"),
                                ("correction_rate", "Share of documents an operator corrected")):
            if overall.get(name) is not None:
                yield GaugeMetricFamily(f"docflow_{name}", help_text, value=overall[name])
