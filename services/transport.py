"""The thin Faust edge around the stages (services/stages.py): decode, gate, call, send, record.

Per batch of events (one, but for the chain agent: ``DOCFLOW_BATCH_SIZE``), an agent:
1. decodes each payload with its topic's contract (a broken one is dead-lettered);
2. skips an event when the database says its work was already done for the document
   (a re-delivery after a crash or rebalance is never processed twice);
3. calls the steps (CPU-bound ones in a thread, so heartbeats go on): one stage, or the whole path
   in one event (services/agents.py: ``PathAgent`` and ``ChainAgent``);
4. sends every step's message and waits for the broker to acknowledge them, the whole batch's at
   once;
5. records each stage's transition, and the terminal state where there is one, idempotently, in
   one transaction for the batch, a statement per kind of row (services/storage/writes.py;
   ``_deliver``: the one place a stage is recorded).

The batch's events are acked once it is delivered: a worker killed mid-batch gets it again, and
what it had finished is skipped. Per event, the Kafka client's work and a transaction's commit cost
more than the records themselves; a batch shares them (``docflow bench``: the CPU a document costs
through the broker against in process).

What the edge itself spends (decoding, the claim check, the sends and their acknowledgements, the
records, the consumer's fetches) is counted too: each document's last step of a delivery carries its
share (``EdgeCost``), so that the CPU the monitors add up for a document is what the worker spent on
it, as ``docflow bench`` measures it from the outside.

A document error becomes a dead-letter message with its reason; it never escapes the
loop, where Faust would ack the event and lose the document. An infrastructure error
(database or broker down) is retried, then stops the worker *without* committing the
offset, so the event is redelivered once the worker is back.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import faust
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError
from faust.exceptions import ProducerSendError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from services import topics
from services.codec import decode, encode
from services.contracts import (
    Contract,
    DeadLetter,
    DocumentRef,
    IncomingDocument,
    Reason,
    ValidatedDocument,
    vendor_of,
)
from services.emit import Emit, Event, failure
from services.errors import UnreadableDocument
from services.ids import assign_document_id
from services.inflight import Ledger
from services.log_setup import get_logger
from services.monitoring import metrics
from services.storage import claims, crud
from services.storage.db import session_scope
from services.storage.models import Document, DocumentState, StageTransition
from services.storage.writes import Writes

INFRA_RETRIES = 8
SIZE_ERRORS = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)
EXIT_INFRA_DOWN = 75
# Errors that are not the document's: retried, then the worker stops without committing the offset.
INFRASTRUCTURE = (OperationalError, ConnectionError, KafkaError)

TERMINAL_STATE = {
    topics.ACCEPTED: DocumentState.ACCEPTED,
    topics.EXCEPTIONS: DocumentState.EXCEPTION,
    topics.DEADLETTER: DocumentState.DEADLETTER,
}


class Wiring(Protocol):
    """What the edge needs of the runtime that wires it: settings, the blob store, the queue's policy."""

    @property
    def settings(self) -> Any: ...
    @property
    def blobs(self) -> Any: ...
    @property
    def queue_policy(self) -> Any: ...


Steps = list[tuple[str, Emit]]  # the stages an event went through and what each emits


class StageAgent:
    stage: str
    source_topic: str
    # What a re-delivery must find done to be skipped (the chain: its last stage).
    done_marker: str
    # Events taken at a time (``handle_many``), waiting at most ``linger_s`` for more.
    batch: int = 1
    linger_s: float = 0.0

    def __init__(self, app: faust.App, rt: Any, engine: Engine):
        self.app, self.engine = app, engine
        self.rt: Wiring = rt
        self.ledger = Ledger(rt.settings.home)
        self.edge = EdgeCost.of(app)

    # ---- to implement per agent: one step (``process``), several (``steps``), or a batch's (``steps_many``)
    async def process(self, event: Event) -> Emit | None:
        raise NotImplementedError

    async def steps(self, event: Event) -> Steps | None:
        """The stages this event went through and what each emits; None to skip the event."""
        emit = await self.process(event)
        return None if emit is None else [(self.stage, emit)]

    async def steps_many(self, events: list[Event]) -> list[Steps | None]:
        """``steps`` of each event of a batch, a failing one dead-lettered."""
        return [await self._steps_or_dead_letter(event) for event in events]

    # ---- the edge
    def register(self) -> None:
        source = self.app.topic(self.source_topic, key_serializer="raw", value_serializer="raw")

        async def loop(stream: Any) -> None:
            if self.batch > 1:  # acked once handled: a worker killed mid-batch gets the batch again
                async for events in stream.take_events(self.batch, within=self.linger_s):
                    await self.handle_many([(event.key, event.value) for event in events])
            else:
                async for event in stream.events():
                    await self.handle(event.key, event.value)

        loop.__name__ = f"{self.stage}_agent"
        loop.__qualname__ = loop.__name__
        self.app.agent(source, name=f"docflow.{self.stage}")(loop)

    def begin(self, event: Event, model: type[Contract], *, gate: bool = True) -> Any:
        """Decode a message with its contract; None when the work was already done for its document
        (``gate``: asked here; a batch asks for all its events at once).
        An envelope (documents.incoming) is given its document id here; a later stage's message
        carries it, and its pages are checked out of the blob store."""
        message = decode(model, event.raw)
        if isinstance(message, IncomingDocument):
            event.document_id = assign_document_id(message, event.key, event.raw)
            event.filename = message.filename
            return None if gate and self.done_among({event.document_id}) else message
        event.document_id, event.original_uri = message.doc.document_id, message.doc.blob_uri  # type: ignore[attr-defined]
        return None if gate and self.done_among({event.document_id}) else claims.check_out(message, self.rt.blobs,
                                                                                            self.reparse)

    def reparse(self, doc: DocumentRef) -> list[Any]:
        """A document's pages made again from its bytes, where their claim check is gone (see
        services/storage/claims.py); an agent that parses says how."""
        raise UnreadableDocument(Reason.BLOB_NOT_FOUND, "the pages are gone and this agent does not parse")

    def done_among(self, document_ids: set[str]) -> set[str]:
        """The documents this agent's work was done for, or that already ended (a dead letter the
        reconciler gave up on, say): their events are skipped."""
        with self.engine.connect() as connection:
            return crud.done_or_ended_among(connection, document_ids=document_ids, stage=self.done_marker)

    async def handle(self, key: bytes | None, raw: bytes | None) -> None:
        await self.handle_many([(key, raw)])

    async def handle_many(self, items: list[tuple[bytes | None, bytes | None]]) -> None:
        """A batch of events (one, but for the chain agent): their steps, then every message sent and
        every record written together (``_deliver``)."""
        started = time.perf_counter()
        CPU.set([0.0])
        events = [Event(key=key, raw=raw or b"", document_id=assign_document_id(None, key, raw or b""))
                  for key, raw in items]
        HELD.set((self.ledger, events[0], self.stage) if len(events) == 1 else None)
        log = get_logger(stage=self.stage)
        timed = False
        self.edge.begin()
        try:
            walked = await self._with_retries(self.steps_many, events)
            for event, steps in zip(events, walked, strict=True):
                if steps is None:
                    metrics.MESSAGES.labels(self.stage, "skipped").inc()
                    log.info("redelivery skipped", document_id=event.document_id)
            todo = [(event, steps) for event, steps in zip(events, walked, strict=True) if steps is not None]
            delivered = await self._with_retries(self._deliver, todo, started) if todo else []
            for event, steps in delivered:
                for stage, emit in steps:
                    metrics.MESSAGES.labels(stage, emit.outcome).inc()
                    ms = (emit.seconds if emit.seconds is not None else time.perf_counter() - started) * 1000
                    log.info("stage done", stage=stage, document_id=event.document_id, outcome=emit.outcome,
                             reasons=emit.reasons or None, ms=round(ms, 1))
                    if emit.seconds is not None:  # a step timed on its own (several ran in this event)
                        metrics.SECONDS.labels(stage).observe(emit.seconds)
                        timed = True
        finally:
            self.edge.end()
            if not timed:
                metrics.SECONDS.labels(self.stage).observe(time.perf_counter() - started)

    async def _steps_or_dead_letter(self, event: Event) -> Steps | None:
        try:
            return await self.steps(event)
        except INFRASTRUCTURE:
            raise
        except Exception as exc:  # a bug must not lose the document: dead-letter it, with its type
            return self.failed_at_the_edge(event, exc)

    def failed_at_the_edge(self, event: Event, exc: Exception, since: tuple[float, float] | None = None) -> Steps:
        """The event's one step, a dead letter (``since``: the wall and thread clocks when its work
        began, timing it on its own where a batch's events share the batch's clock)."""
        stage, reason, message = failure(exc, self.stage)
        emit = self._failed(event, stage, reason, message)
        if since is not None:
            emit.seconds, emit.cpu_s = time.perf_counter() - since[0], time.thread_time() - since[1]
        return [(self.stage, emit)]

    def _failed(self, event: Event, stage: str, reason: Reason, message: str) -> Emit:
        if reason == Reason.INTERNAL_ERROR:
            get_logger(stage=stage, document_id=event.document_id).exception("stage failed")
        return self.dead_letter(event, reason, message, stage=stage)

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

    async def _deliver(self, todo: list[tuple[Event, Steps]], started: float) -> list[tuple[Event, Steps]]:
        """Send every message of a batch's steps and record the steps; what was delivered (a dead
        letter in place of a message too large for the broker, and of what would have followed it).

        Each document's steps before its last are sent, then recorded (one transaction for the
        batch), before the last ones' messages are sent and recorded (another): between a terminal
        message sent and its record written, a crash repeats that message on redelivery, and that
        window stays one small transaction however many steps and documents the batch ran."""
        ending = {event.document_id for event, steps in todo
                  if steps[-1][1].topic in TERMINAL_STATE and steps[-1][1].ends}
        ended: set[str] = set()
        if ending:  # a redelivered terminal step: the first one already sent and recorded it
            with self.engine.connect() as connection:
                ended = crud.terminal_among(connection, document_ids=ending)
        live = [self._fitted(event, steps) for event, steps in todo if event.document_id not in ended]
        await self._send(live, last=False)
        before = [(d.event, d.steps[:-1]) for d in live if len(d.steps) > 1]
        self._record(before, started, ends=False)
        await self._send(live, last=True)
        own_cpu = (CPU.get() or [0.0])[0] if len(todo) == 1 else 0.0
        edge_s = self.edge.share(sum(_own(emit, own_cpu) for _, steps in todo for _, emit in steps), len(live))
        self._record([(d.event, d.steps[-1:]) for d in live], started,
                     known={event.document_id for event, _ in before}, edge_s=edge_s)
        return [(event, steps) for event, steps in todo if event.document_id in ended] + \
            [(d.event, d.steps) for d in live]

    def _fitted(self, event: Event, steps: Steps) -> _Delivery:
        """The steps and their messages, a dead letter in place of the first message over our size
        limit (checked before anything is sent: no half of a result reaches the broker)."""
        outgoing = self._outgoing(steps)
        too_large = next(((n, t, len(d)) for n, t, d in outgoing if len(d) > self.rt.settings.max_message_bytes), None)
        if too_large is not None and too_large[1] != topics.DEADLETTER:
            n, topic, size = too_large
            steps = self._too_large(event, steps, n, topic, size)
            outgoing = self._outgoing(steps)
        return _Delivery(event, steps, outgoing)

    async def _send(self, live: list[_Delivery], *, last: bool) -> None:
        """Send the messages of each delivery's last step (``last``) or of the steps before it, all
        before waiting for the broker's acknowledgements. A message the broker refuses for its size
        makes its step a dead letter, sent in its place; the steps after it are dropped."""
        sent: list[tuple[_Delivery, int, str, int, Any]] = []
        for d in live:
            for n, topic, data in d.outgoing:
                if (n == len(d.steps) - 1) == last:
                    ack: Any
                    try:
                        ack = await self.app.producer.send(topic, d.event.document_id.encode(), data, None, None, None)
                    except ProducerSendError as exc:  # Faust wraps every KafkaError of a send in this
                        ack = exc
                    sent.append((d, n, topic, len(data), ack))
        answers = await asyncio.gather(*(_answer(ack) for *_, ack in sent), return_exceptions=True)
        refused: dict[int, tuple[_Delivery, int, str, int]] = {}
        for (d, n, topic, size, _), answer in zip(sent, answers, strict=True):
            if not isinstance(answer, BaseException):
                continue
            if not _refused_for_size(answer) or topic == topics.DEADLETTER:
                raise answer
            if id(d) not in refused or n < refused[id(d)][1]:
                refused[id(d)] = (d, n, topic, size)
        for d, n, topic, size in refused.values():
            # The broker's own limit is lower than ours: the same verdict.
            d.steps = self._too_large(d.event, d.steps, n, topic, size)
            d.outgoing = [out for out in d.outgoing if out[0] < n]  # its dead letter is sent here
            await self.app.producer.send_and_wait(topics.DEADLETTER, d.event.document_id.encode(),
                                                  encode(d.steps[n][1].message), None, None, None)  # type: ignore[arg-type]

    def _outgoing(self, steps: Steps) -> list[tuple[int, str, bytes]]:
        """(step, topic, bytes) of every message to send, pages claim-checked into the blob store."""
        return [(n, topic, encode(claims.check_in(message, self.rt.blobs)))
                for n, (_, emit) in enumerate(steps)
                for topic, message in [*emit.also, (emit.topic, emit.message)]
                if topic is not None and message is not None]

    def _record(self, done: list[tuple[Event, Steps]], started: float, *, ends: bool = True,
                known: AbstractSet[str] = frozenset(), edge_s: float = 0.0) -> None:
        """Each document's steps' transitions and what they write, then (``ends``) where each
        ended: one transaction for the batch (``known``: documents whose row this delivery wrote;
        ``edge_s``: the edge's CPU a document, on its last step here)."""
        if not done:
            return
        own_cpu = (CPU.get() or [0.0])[0] if len(done) == 1 else 0.0  # the event's, where a step has none
        transitions = []
        for event, steps in done:
            for stage, emit in steps:
                seconds = emit.seconds if emit.seconds is not None else time.perf_counter() - started
                cpu_s = (emit.cpu_s if emit.cpu_s is not None else own_cpu) + (edge_s if emit is steps[-1][1] else 0.0)
                transitions.append(crud.transition_row(
                    document_id=event.document_id, stage=stage, outcome=emit.outcome,
                    reason=emit.reasons[0] if emit.reasons else None,
                    duration_ms=round(seconds * 1000, 2), cpu_ms=round(cpu_s * 1000, 2)))
        with session_scope(self.engine) as s:
            w = Writes(s)
            for event, _ in done:
                if event.document_id not in known:
                    w.insert(Document, crud.document_row(document_id=event.document_id, filename=event.filename or ""),
                             ["document_id"])
            w.insert(StageTransition, transitions, crud.TRANSITION_KEY)
            for _, steps in done:
                for _, emit in steps:
                    if emit.persist:
                        emit.persist(w)
            w.flush()
            if ends:
                self.finish(s, [(event, steps[-1][1]) for event, steps in done if steps])

    def _too_large(self, event: Event, steps: Steps, n: int, topic: str, size: int) -> Steps:
        """The steps up to the ``n``th, whose ``topic`` message of ``size`` bytes is too large: a dead
        letter in its place, timed as the step it replaces."""
        stage, replaced = steps[n]
        emit = self.dead_letter(event, Reason.MESSAGE_TOO_LARGE,
                                f"the {topic} message would be {size} bytes, over the broker's limit "
                                f"of {self.rt.settings.max_message_bytes}", stage=stage)
        emit.seconds, emit.cpu_s = replaced.seconds, replaced.cpu_s
        return [*steps[:n], (stage, emit)]

    def finish(self, session: Session, ending: list[tuple[Event, Emit]]) -> None:
        """Record where each document ended, when its emit ends it; an exception enters the queue."""
        policy, now, endings = self.rt.queue_policy, datetime.now(UTC), []
        for event, emit in ending:
            terminal = TERMINAL_STATE.get(emit.topic or "")
            if not terminal or not emit.ends:
                continue
            result = emit.message if isinstance(emit.message, ValidatedDocument) else None
            priority = policy.priority(emit.reasons)
            endings.append(crud.Ending(
                event.document_id, terminal, emit.reasons, detail=getattr(emit.message, "message", None),
                result=result, vendor=vendor_of(result) if result else None,
                priority=priority, due_at=policy.due(priority, now)))
        ended = crud.finish_many(session, endings)
        for e in endings:
            if e.document_id in ended:
                ended.discard(e.document_id)  # counted once
                metrics.TERMINAL.labels(e.state).inc()

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


class EdgeCost:
    """The CPU a worker spends on its documents beside their steps: this process's CPU (all its
    threads: the event loop's decoding, claim check, sends and records, the consumer's fetches, the
    e-invoice teacher's reading) while any agent has a batch in hand, less what the steps count
    themselves, shared among the documents as each batch is delivered. One per worker process (its
    app's), shared by its agents: their batches overlap on the event loop, and what one's interval
    holds of another's steps is taken back when that one's are counted (a share never goes below
    nothing; what is owed, or not yet shared, such as a batch's last record, waits for the next).
    CPU while no agent has a batch in hand (fetching nothing) is no document's. Called on the event
    loop only."""

    def __init__(self) -> None:
        self.active = 0  # agents with a batch in hand
        self.last = 0.0  # process CPU seconds counted up to
        self.pending = 0.0  # CPU seconds not yet shared (below nothing: shared ahead)

    @classmethod
    def of(cls, app: Any) -> EdgeCost:
        """The worker's (its app's) one accountant."""
        edge = getattr(app, "docflow_edge_cost", None)
        if edge is None:
            edge = cls()
            app.docflow_edge_cost = edge
        return edge  # type: ignore[no-any-return]

    def begin(self) -> None:
        """An agent takes a batch."""
        if self.active == 0:
            self.last = time.process_time()  # the idle time before is no document's
        self.active += 1

    def share(self, steps_s: float, documents: int) -> float:
        """Each of ``documents``' share of what the worker spent since the last share, less
        ``steps_s``, what their steps count themselves in this process's threads."""
        now = time.process_time()
        balance, self.last = self.pending + (now - self.last) - steps_s, now
        if documents == 0 or balance <= 0:
            self.pending = balance
            return 0.0
        self.pending = 0.0
        return balance / documents

    def end(self) -> None:
        """The batch is done: what it spent after its share waits for the next."""
        now = time.process_time()
        self.pending += now - self.last
        self.last = now
        self.active = max(0, self.active - 1)


def _own(emit: Emit, own_cpu: float) -> float:
    """CPU seconds a step counted in this process's threads (a child's, the parse sandbox's, aside)."""
    return (emit.cpu_s if emit.cpu_s is not None else own_cpu) - emit.child_cpu_s


@dataclass
class _Delivery:
    """One document's steps on their way out, and the messages they send."""

    event: Event
    steps: Steps
    outgoing: list[tuple[int, str, bytes]]


async def _answer(ack: Any) -> Any:
    """The broker's answer to one send: an acknowledgement, or the error it failed with."""
    if isinstance(ack, BaseException):
        raise ack
    return await ack


def _refused_for_size(exc: BaseException) -> bool:
    """A message the client or the broker refused as too large (Faust wraps the client's)."""
    return isinstance(exc, SIZE_ERRORS) or (isinstance(exc, ProducerSendError)
                                            and isinstance(exc.__cause__, SIZE_ERRORS))


# CPU seconds the event in hand has spent in worker threads (set per event by ``handle``).
CPU: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("docflow_cpu", default=None)


# The ledger, the event and the stage in hand (set per event by ``handle``): CPU-bound work is
# written down as held while it runs, so that a worker that dies of a document is known to have.
HELD: contextvars.ContextVar[tuple[Ledger, Event, str] | None] = contextvars.ContextVar("docflow_held", default=None)


def _timed(held: tuple[Ledger, Event, str] | None, fn: Callable[..., Any], *args: Any,
           **kwargs: Any) -> tuple[Any, float]:
    started = time.thread_time()
    if held is None:
        result = fn(*args, **kwargs)
    else:
        ledger, event, stage = held
        with ledger.holding(event.document_id, stage):
            result = fn(*args, **kwargs)
    return result, time.thread_time() - started


async def in_thread(fn: Callable[..., Any], *args: Any, ledger: bool = True, **kwargs: Any) -> Any:
    """Run CPU-bound stage work off the event loop thread so heartbeats and fetches go on, held in
    the crash ledger (``ledger=False``: ``fn`` holds its own parts); the thread's CPU time is added
    to the event's (the cost per document)."""
    held = HELD.get() if ledger else None
    result, spent = await asyncio.get_running_loop().run_in_executor(
        None, functools.partial(_timed, held, fn, *args, **kwargs))
    add_cpu(spent)
    return result


def add_cpu(seconds: float) -> None:
    """Count CPU seconds spent for the event in hand (a thread's, a child process's)."""
    acc = CPU.get()
    if acc is not None:
        acc[0] += seconds
