"""Prometheus metrics per stage: messages, failures, seconds.

Worker processes started by ``docflow up`` share ``PROMETHEUS_MULTIPROC_DIR`` so the HTTP
server's ``/metrics`` adds up every worker.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MESSAGES = Counter("docflow_stage_messages", "Messages handled per stage and outcome", ["stage", "outcome"])
FAILURES = Counter("docflow_stage_failures", "Documents a stage sent to dead-letter", ["stage", "reason"])
SECONDS = Histogram(
    "docflow_stage_seconds", "Time a stage spent on one message", ["stage"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TERMINAL = Counter("docflow_documents_terminal", "Documents reaching a terminal state", ["state"])


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
