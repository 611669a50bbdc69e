"""The thin Faust edge around the stage functions: decode, gate, call, send, record.

Per event, a ``StageAgent``:
1. decodes the payload with its topic's contract (a broken one is dead-lettered);
2. skips the event when the database says this stage already ran for the document
   (a re-delivery after a crash or rebalance is never processed twice);
3. calls the stage's pure function (CPU-bound ones in a thread, so heartbeats go on);
4. sends the result and waits for the broker to acknowledge it;
5. records the transition, and the terminal state where there is one, idempotently.

A document error becomes a dead-letter message with its reason; it never escapes the
loop, where Faust would ack the event and lose the document. An infrastructure error
(database or broker down) is retried, then stops the worker *without* committing the
offset, so the event is redelivered once the worker is back.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError
from faust.exceptions import ProducerSendError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from services import topics
from services.codec import C, decode, encode
from services.contracts import Contract, DeadLetter, Reason, ValidatedDocument, vendor_of
from services.errors import UnreadableDocument
from services.ids import assign_document_id
from services.inflight import Ledger
from services.log_setup import get_logger
from services.monitoring import metrics
from services.runtime import Runtime
from services.storage import claims, crud
from services.storage.db import session_scope
from services.storage.models import DocumentState

INFRA_RETRIES = 8
SIZE_ERRORS = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)
EXIT_INFRA_DOWN = 75

TERMINAL_STATE = {
    topics.ACCEPTED: DocumentState.ACCEPTED,
    topics.EXCEPTIONS: DocumentState.EXCEPTION,
    topics.DEADLETTER: DocumentState.DEADLETTER,
}


@dataclass
class Event:
    """What the edge knows about the event in hand, filled in as the stage learns it."""

    key: bytes | None
    raw: bytes
    document_id: str
    filename: str | None = None
    original_uri: str | None = None


@dataclass
class Emit:
    """A stage's result: the messages to send (``also`` first, then ``topic``; a stage may have
    nothing to send), and what to write once the broker has them."""

    topic: str | None
    message: Contract | None
    outcome: str = "ok"
    reasons: list[str] = field(default_factory=list)
    persist: Callable[[Session], None] | None = None
    also: list[tuple[str, Contract]] = field(default_factory=list)
    # A message to a terminal topic ends the document: sent only while it has not ended, and its end
    # recorded here. False where ``persist`` moves the document on itself under a gate of its own (a
    # review decision, applied once by its id, takes an exception to accepted).
    ends: bool = True


class StageAgent:
    stage: str
    source_topic: str
    # Stages a re-delivery must find done to be skipped (intake+parse run as one agent).
    done_marker: str

    def __init__(self, app: faust.App, rt: Runtime, engine: Engine):
        self.app, self.rt, self.engine = app, rt, engine
        self.ledger = Ledger(rt.settings.home)

    # ---- to implement per stage
    async def process(self, event: Event) -> Emit | None:
        raise NotImplementedError

    # ---- the edge
    def register(self) -> None:
        source = self.app.topic(self.source_topic, key_serializer="raw", value_serializer="raw")

        async def loop(stream: Any) -> None:
            async for event in stream.events():
                await self.handle(event.key, event.value)

        loop.__name__ = f"{self.stage}_agent"
        loop.__qualname__ = loop.__name__
        self.app.agent(source, name=f"docflow.{self.stage}")(loop)

    def begin(self, event: Event, model: type[C]) -> C | None:
        """Decode a document message with its contract; None when this stage already ran for it."""
        message = decode(model, event.raw)
        event.document_id, event.original_uri = message.doc.document_id, message.doc.blob_uri  # type: ignore[attr-defined]
        return None if self.already_done(event.document_id) else claims.check_out(message, self.rt.blobs)

    def already_done(self, document_id: str) -> bool:
        """This stage ran for the document, or the document already ended (a dead letter the
        reconciler gave up on, say): either way the event is skipped."""
        with self.engine.connect() as connection:
            return crud.done_or_ended(connection, document_id=document_id, stage=self.done_marker)

    async def handle(self, key: bytes | None, raw: bytes | None) -> None:
        started = time.perf_counter()
        CPU.set([0.0])
        event = Event(key=key, raw=raw or b"", document_id=assign_document_id(None, key, raw or b""))
        HELD.set((self.ledger, event, self.stage))
        log = get_logger(stage=self.stage)
        try:
            emit = await self._with_retries(self._process_or_dead_letter, event)
            if emit is None:
                metrics.MESSAGES.labels(self.stage, "skipped").inc()
                log.info("redelivery skipped", document_id=event.document_id)
                return
            emit = await self._with_retries(self._deliver, event, emit, started)
            metrics.MESSAGES.labels(self.stage, emit.outcome).inc()
            log.info("stage done", document_id=event.document_id, outcome=emit.outcome,
                     reasons=emit.reasons or None, ms=round((time.perf_counter() - started) * 1000, 1))
        finally:
            metrics.SECONDS.labels(self.stage).observe(time.perf_counter() - started)

    async def _process_or_dead_letter(self, event: Event) -> Emit | None:
        try:
            return await self.process(event)
        except UnreadableDocument as exc:
            return self.dead_letter(event, exc.reason, exc.message, stage=exc.stage or self.stage)
        except (OperationalError, ConnectionError, KafkaError):
            raise
        except Exception as exc:  # a bug must not lose the document: dead-letter it, with its type
            get_logger(stage=self.stage, document_id=event.document_id).exception("stage failed")
            return self.dead_letter(event, Reason.INTERNAL_ERROR, f"{type(exc).__name__} in {self.stage}")

    def dead_letter(self, event: Event, reason: Reason, message: str, *, stage: str = "") -> Emit:
        stage = stage or self.stage
        metrics.FAILURES.labels(stage, str(reason)).inc()
        if event.original_uri is None and event.raw:
            event.original_uri = self.rt.blobs.put(event.raw)
        letter = DeadLetter(
            document_id=event.document_id, stage=stage, reason=reason, message=message,
            source_topic=self.source_topic, original_uri=event.original_uri, filename=event.filename,
        )
        return Emit(topics.DEADLETTER, letter, outcome="deadletter", reasons=[str(reason)])

    async def _deliver(self, event: Event, emit: Emit, started: float) -> Emit:
        """Send the stage's messages and record it; the emit delivered (a dead letter in place of a
        message too large for the broker)."""
        if emit.topic in TERMINAL_STATE and emit.ends and self._is_terminal(event.document_id):
            return emit  # a redelivered terminal step: the first one already sent and recorded it
        outgoing = [(topic, encode(claims.check_in(message, self.rt.blobs)))
                    for topic, message in [*emit.also, (emit.topic, emit.message)]
                    if topic is not None and message is not None]
        too_large = next(((t, len(d)) for t, d in outgoing if len(d) > self.rt.settings.max_message_bytes), None)
        if too_large is not None and emit.topic != topics.DEADLETTER:
            # Checked before anything is sent: no half of a result reaches the broker.
            emit = self._too_large(event, *too_large)
            outgoing = [(topics.DEADLETTER, encode(emit.message))]  # type: ignore[arg-type]
        for topic, data in outgoing:
            try:
                await self.app.producer.send_and_wait(topic, event.document_id.encode(), data, None, None, None)
            except ProducerSendError as exc:  # Faust wraps every KafkaError of a send in this
                if not isinstance(exc.__cause__, SIZE_ERRORS) or topic == topics.DEADLETTER:
                    raise
                # The broker's own limit is lower than ours: the same verdict.
                emit = self._too_large(event, topic, len(data))
                await self.app.producer.send_and_wait(topics.DEADLETTER, event.document_id.encode(),
                                                      encode(emit.message), None, None, None)  # type: ignore[arg-type]
                break
        with session_scope(self.engine) as s:
            crud.ensure_document(s, document_id=event.document_id, filename=event.filename or "")
            if emit.persist:
                emit.persist(s)
            crud.record_transition(
                s, document_id=event.document_id, stage=self.stage, outcome=emit.outcome,
                reason=emit.reasons[0] if emit.reasons else None,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                cpu_ms=round((CPU.get() or [0.0])[0] * 1000, 2),
            )
            self.finish(s, event, emit)
        return emit

    def _too_large(self, event: Event, topic: str, size: int) -> Emit:
        return self.dead_letter(event, Reason.MESSAGE_TOO_LARGE,
                                f"the {topic} message would be {size} bytes, over the broker's limit "
                                f"of {self.rt.settings.max_message_bytes}")

    def finish(self, session: Session, event: Event, emit: Emit) -> None:
        """Record where the document ended, when this emit ends it; an exception enters the queue."""
        terminal = TERMINAL_STATE.get(emit.topic or "")
        if not terminal or not emit.ends:
            return
        result = emit.message if isinstance(emit.message, ValidatedDocument) else None
        vendor = vendor_of(result) if result else None
        policy = self.rt.queue_policy
        priority = policy.priority(emit.reasons)
        if crud.finish(
            session, document_id=event.document_id, state=terminal, reasons=emit.reasons,
            detail=getattr(emit.message, "message", None),
            result=result.model_dump(mode="json") if result else None, vendor=vendor,
            priority=priority, due_at=policy.due(priority, datetime.now(UTC)),
        ):
            metrics.TERMINAL.labels(terminal).inc()

    def _is_terminal(self, document_id: str) -> bool:
        with session_scope(self.engine) as s:
            return crud.is_terminal(s, document_id=document_id)

    async def _with_retries(self, fn: Callable[..., Any], *args: Any) -> Any:
        delay = 0.5
        for attempt in range(1, INFRA_RETRIES + 1):
            try:
                return await fn(*args)
            except (TimeoutError, OperationalError, ConnectionError, KafkaError, ProducerSendError) as exc:
                get_logger(stage=self.stage).warning(
                    "infrastructure error, retrying", error=type(exc).__name__, attempt=attempt
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        get_logger(stage=self.stage).critical("infrastructure down; stopping without committing")
        os._exit(EXIT_INFRA_DOWN)


# CPU seconds the event in hand has spent in worker threads (set per event by ``handle``).
CPU: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("docflow_cpu", default=None)


# The ledger, the event and the stage in hand (set per event by ``handle``): CPU-bound work is
# written down as held while it runs, so that a worker that dies of a document is known to have.
HELD: contextvars.ContextVar[tuple[Ledger, Event, str] | None] = contextvars.ContextVar("docflow_held", default=None)


def _timed(held: tuple[Ledger, Event, str] | None, fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    started = time.thread_time()
    if held is None:
        result = fn(*args)
    else:
        ledger, event, stage = held
        with ledger.holding(event.document_id, stage):
            result = fn(*args)
    return result, time.thread_time() - started


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run CPU-bound stage work off the event loop thread so heartbeats and fetches go on; the
    thread's CPU time is added to the event's (the cost per document)."""
    result, spent = await asyncio.get_running_loop().run_in_executor(None, _timed, HELD.get(), fn, *args)
    add_cpu(spent)
    return result


def add_cpu(seconds: float) -> None:
    """Count CPU seconds spent for the event in hand (a thread's, a child process's)."""
    acc = CPU.get()
    if acc is not None:
        acc[0] += seconds
