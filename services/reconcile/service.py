"""The reconciler: finds documents that entered and never ended, and re-drives them.

Two moments call it. When an embedded broker has just started (``docflow up``, or the
supervisor's restart of one that died), the broker is empty: every unfinished document is
lost from it and is re-driven at once (``recover``). Otherwise it runs every
``DOCFLOW_RECONCILE_EVERY_S`` (``docflow reconcile``, a child of ``docflow up``) and re-drives a
document that has not moved for ``DOCFLOW_REDRIVE_AFTER_S`` only while the stream is idle (every
stage topic's committed offset at its end): a document queued behind a backlog is not lost,
and a second copy of it would only lengthen the queue.

After ``DOCFLOW_MAX_REDRIVES`` re-drives a document is dead-lettered as ``POISON``; one whose
bytes are gone as ``BLOB_NOT_FOUND``. Dead letters are published first and recorded after, as
every stage does. Re-drives are idempotent: the stages skip what a document already did, and a
terminal document's events are skipped.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import topics
from services.codec import encode
from services.contracts import Reason
from services.log_setup import get_logger
from services.reconcile import store
from services.reconcile.logic import Unfinished, Verdict, explain, verdict
from services.settings import Settings
from services.storage.blobs import BlobStore
from services.storage.db import make_engine, session_scope
from services.storage.models import Document

# The topics the workers read a document from, by topology; lag on any of them means work is still
# queued. Chained, a worker reads documents.incoming alone: the stages' topics are sent to, read by
# no agent of the path (lag there would never end).
STREAM_TOPICS = {"chain": (topics.INCOMING,),
                 "stages": (topics.INCOMING, topics.PARSED, topics.CLASSIFIED, topics.EXTRACTED)}


@dataclass
class Report:
    redriven: list[str] = field(default_factory=list)
    dead_lettered: dict[str, str] = field(default_factory=dict)  # id -> reason
    deferred: int = 0  # unfinished, but the stream is busy


def send(bootstrap: str, messages: list[tuple[str, str, bytes]]) -> None:
    """(topic, key, value) each, acknowledged by the broker before this returns."""
    async def go() -> None:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=8 * 1024 * 1024,
                                    request_timeout_ms=15000)
        await producer.start()
        try:
            for topic, key, value in messages:
                await producer.send_and_wait(topic, value=value, key=key.encode())
        finally:
            await producer.stop()

    asyncio.run(go())


def stream_lag(bootstrap: str, group: str, names: tuple[str, ...]) -> int:
    """Messages published to the stage topics and not yet committed by the workers' group."""
    async def go() -> int:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                    request_timeout_ms=15000)
        await consumer.start()
        try:
            await consumer.topics()
            parts = [TopicPartition(t, p) for t in names for p in sorted(consumer.partitions_for_topic(t) or ())]
            ends = await consumer.end_offsets(parts)
            lag = 0
            for tp in parts:
                lag += max(0, ends.get(tp, 0) - (await consumer.committed(tp) or 0))
            return lag
        finally:
            await consumer.stop()

    return asyncio.run(go())


def redrive(engine: Engine, bootstrap: str, blobs: BlobStore, document_ids: list[str], *, actor: str,
            reason: str, dead_letters_too: bool = False) -> list[str]:
    """Reset each document and publish it again to documents.incoming; the ids re-driven.

    The reset commits before the publish: a publish that fails leaves the document unfinished,
    and the next reconcile finds it again. Raises ``RedriveError`` for the first that cannot be.
    """
    envelopes = []
    try:
        for document_id in document_ids:
            with session_scope(engine) as s:
                envelopes.append(store.reset(s, document_id, actor=actor, reason=reason, blobs=blobs,
                                             dead_letters_too=dead_letters_too))
    finally:  # the ones reset before a refusal still go
        if envelopes:
            send(bootstrap, [(topics.INCOMING, e.document_id or "", encode(e)) for e in envelopes])
    return [e.document_id or "" for e in envelopes]


def settle(engine: Engine, bootstrap: str, blobs: BlobStore, docs: list[Unfinished], *, max_redrives: int,
           actor: str) -> Report:
    """Re-drive or dead-letter each unfinished document, as its verdict says."""
    report = Report()
    letters = []
    for doc in docs:
        decision = verdict(doc, max_redrives=max_redrives)
        if decision is Verdict.REDRIVE:
            report.redriven += redrive(engine, bootstrap, blobs, [doc.document_id], actor=actor,
                                       reason=explain(doc, decision))
            continue
        with Session(engine) as s:
            row = s.get(Document, doc.document_id)
            filename = row.filename if row else None
        reason = Reason.POISON if decision is Verdict.POISON else Reason.BLOB_NOT_FOUND
        letters.append(store.dead_letter(doc, reason, explain(doc, decision), filename))
    if letters:
        send(bootstrap, [(topics.DEADLETTER, x.document_id, encode(x)) for x in letters])
        for letter in letters:
            with session_scope(engine) as s:
                if store.end(s, letter):
                    report.dead_lettered[letter.document_id] = str(letter.reason)
    return report


def recover(settings: Settings, bootstrap: str, *, actor: str = "reconciler") -> Report:
    """After an embedded broker (re)started empty: every unfinished document, now."""
    engine = make_engine(settings.db_url)
    blobs = BlobStore(settings.blob_root)
    report, seen = Report(), set[str]()
    cutoff = datetime.now(UTC)  # a document re-driven here moves past it
    while True:  # in pages of the oldest
        with Session(engine) as s:
            docs = [d for d in store.unfinished(s, blobs, before=cutoff) if d.document_id not in seen]
        if not docs:
            break
        seen.update(d.document_id for d in docs)
        page = settle(engine, bootstrap, blobs, docs, max_redrives=settings.max_redrives, actor=actor)
        report.redriven += page.redriven
        report.dead_lettered |= page.dead_lettered
    _log(report, actor)
    engine.dispose()
    return report


def reconcile_once(settings: Settings, bootstrap: str, engine: Engine, blobs: BlobStore, *,
                   actor: str = "reconciler") -> Report:
    """One look: documents that have not moved for ``redrive_after_s``, re-driven when the stream is idle."""
    before = datetime.now(UTC) - timedelta(seconds=settings.redrive_after_s)
    with Session(engine) as s:
        docs = store.unfinished(s, blobs, before=before)
    if not docs:
        return Report()
    if stream_lag(bootstrap, settings.app_id, STREAM_TOPICS[settings.topology]) > 0:
        return Report(deferred=len(docs))
    report = settle(engine, bootstrap, blobs, docs, max_redrives=settings.max_redrives, actor=actor)
    _log(report, actor)
    return report


def run(settings: Settings, bootstrap: str) -> None:
    """``docflow reconcile``: a look every ``reconcile_every_s`` until stopped."""
    log = get_logger(stage=store.STAGE)
    engine = make_engine(settings.db_url)
    blobs = BlobStore(settings.blob_root)
    log.info("reconciler started", every_s=settings.reconcile_every_s, after_s=settings.redrive_after_s)
    while True:
        try:
            report = reconcile_once(settings, bootstrap, engine, blobs)
            if report.deferred:
                log.info("unfinished documents wait: the stream is busy", documents=report.deferred)
        except Exception as exc:  # broker or database away: look again next time
            log.warning("reconcile failed; will retry", error=type(exc).__name__)
        time.sleep(settings.reconcile_every_s)


def _log(report: Report, actor: str) -> None:
    if report.redriven or report.dead_lettered:
        get_logger(stage=store.STAGE).warning(
            "unfinished documents settled", actor=actor, redriven=len(report.redriven),
            dead_lettered=len(report.dead_lettered), documents=report.redriven[:20] + list(report.dead_lettered)[:20])
