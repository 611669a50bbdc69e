"""The transactional outbox: what the web server decided, published to Kafka after it committed.

Operator decisions (``review_decisions`` -> documents.reviewed), saved labels (``label_sets`` ->
labels), template publishes and rollbacks (``template_events`` -> templates.events), model registry
steps (``model_events`` -> models.events) and the monitor's alerts (``alerts`` -> monitoring.alerts) are each
committed with the change they describe and its audit entry, in one transaction; this relay then
publishes every unpublished row and marks it. A broker that is down delays them, never loses
them; a crash between publish and mark publishes a row twice, and every message carries a stable
id its consumers apply once (decision_id, label_id, template id and version, model event seq, alert_id).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from labeling import store as label_store
from services import topics
from services.codec import encode
from services.contracts import Contract
from services.extraction import registry
from services.log_setup import get_logger
from services.models import store as models
from services.monitoring import alerts as alerting
from services.review import store
from services.storage.db import session_scope

POLL_S = 2.0

# A row's id and the messages it stands for, each with its key.
Pending = list[tuple[Any, list[tuple[str, Contract]]]]


@dataclass(frozen=True)
class Source:
    name: str
    pending: Callable[[Session], Pending]
    mark: Callable[[Session, list[Any]], None]


def _decisions(s: Session) -> Pending:
    return [(d.decision_id, [(d.document_id, d)]) for d in store.unpublished(s)]


def _label_sets(s: Session) -> Pending:
    return [(row_id, [(m.document_id, m) for m in labels]) for row_id, labels in label_store.unpublished(s)]


def _template_events(s: Session) -> Pending:
    return [(row.seq, [(row.template_id, registry.as_event(row))]) for row in registry.unpublished_events(s)]


def _model_events(s: Session) -> Pending:
    return [(row.seq, [(row.model_version, models.as_event(row))]) for row in models.unpublished_events(s)]


def _alerts(s: Session) -> Pending:
    return [(row.alert_id, [(row.scope, alerting.as_alert(row))]) for row in alerting.unpublished(s)]


DECISIONS = Source(topics.REVIEWED, _decisions, store.mark_published)
LABEL_SETS = Source(topics.LABELS, _label_sets, label_store.mark_published)
TEMPLATE_EVENTS = Source(topics.TEMPLATES_EVENTS, _template_events, registry.mark_events_published)
MODEL_EVENTS = Source(topics.MODELS_EVENTS, _model_events, models.mark_events_published)
ALERTS = Source(topics.MONITORING_ALERTS, _alerts, alerting.mark_published)
ALL = [DECISIONS, LABEL_SETS, TEMPLATE_EVENTS, MODEL_EVENTS, ALERTS]


class Outbox:
    def __init__(self, engine: Engine, bootstrap: str, max_request_bytes: int, sources: list[Source]):
        self.engine, self.bootstrap, self.max_request_bytes = engine, bootstrap, max_request_bytes
        self.sources = sources
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        from aiokafka import AIOKafkaProducer

        log = get_logger(stage="outbox")
        producer = None
        while True:
            try:
                if producer is None:
                    producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                                max_request_size=self.max_request_bytes)
                    await producer.start()
                for source, sent in (await self.flush(producer)).items():
                    if sent:
                        log.info("outbox published", source=source, rows=sent)
            except asyncio.CancelledError:
                if producer is not None:
                    await producer.stop()
                raise
            except Exception as exc:  # broker or database away: keep the rows, try again
                log.warning("outbox publish failed; will retry", error=type(exc).__name__)
                if producer is not None:
                    with contextlib.suppress(Exception):
                        await producer.stop()
                producer = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL_S)
            self.wake.clear()

    async def flush(self, producer) -> dict[str, int]:  # type: ignore[no-untyped-def]
        sent = {}
        for source in self.sources:
            with session_scope(self.engine) as s:
                pending = source.pending(s)
            for row_id, messages in pending:
                for key, message in messages:
                    await producer.send_and_wait(message.topic, value=encode(message), key=key.encode())
                with session_scope(self.engine) as s:
                    source.mark(s, [row_id])
            sent[source.name] = len(pending)
        return sent
