"""The agents of the document path: the stages of services/stages.py on the edge of
services/transport.py, chained in one event (``ChainAgent``, the default topology) or one agent per
stage (``PathAgent``, ``DOCFLOW_TOPOLOGY=stages``)."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import cached_property

import faust
from sqlalchemy.engine import Engine

from services import topics
from services.books import claim_all, intake_all
from services.contracts import DocumentRef, IncomingDocument, Page
from services.emit import Emit, Event
from services.parsing.sandbox import ParseSandbox
from services.runtime import Runtime
from services.stages import PATH, Env, Stage, parser, run_path
from services.transport import INFRASTRUCTURE, StageAgent, Steps, add_cpu, in_thread


class _PathAgents(StageAgent):
    """What the agents of the document path share: the steps' environment, with this worker's
    database and its parse sandbox (when budgets are set)."""

    rt: Runtime

    @cached_property
    def env(self) -> Env:
        settings = self.rt.settings
        sandbox = None
        if settings.parse_timeout_s > 0 or settings.parse_memory_mb > 0:
            sandbox = ParseSandbox(timeout_s=settings.parse_timeout_s or float("inf"),
                                   memory_mb=settings.parse_memory_mb)
        return Env(self.rt, parser(self.rt, sandbox), engine=self.engine, store_pages=True)

    def reparse(self, doc: DocumentRef) -> list[Page]:
        return self.env.parser(self.rt.blobs.get(doc.blob_uri), doc).document.pages


class PathAgent(_PathAgents):
    """One stage of the path, reading its own topic (the ``stages`` topology: a stage per agent,
    each hop through the broker)."""

    def __init__(self, app: faust.App, rt: Runtime, engine: Engine, stage: Stage):
        super().__init__(app, rt, engine)
        self.path_stage = stage
        self.stage, self.source_topic, self.done_marker = stage.name, stage.source, stage.name

    async def process(self, event: Event) -> Emit | None:
        message = self.begin(event, self.path_stage.contract)
        if message is None:
            return None
        stage = self.path_stage
        emit = (await in_thread(stage.step, message, event, self.env) if stage.threaded
                else stage.step(message, event, self.env))
        add_cpu(emit.child_cpu_s)
        return emit


class ChainAgent(_PathAgents):
    """The whole path in one event of documents.incoming (the ``chain`` topology, the default):
    the loop ``docflow extract`` runs, the document held in the crash ledger throughout, each stage
    recorded as its own transition and its message still sent to its topic for whoever reads it
    there (the e-invoice teacher reads documents.classified). Events come in batches
    (``DOCFLOW_BATCH_SIZE``), walked one after the other, delivered together. A re-delivery is
    skipped once the document has ended or its last stage ran; before that, the path runs again
    from the start (each stage's records are written once, whatever runs them twice)."""

    stage = "path"
    source_topic = topics.INCOMING
    done_marker = PATH[-1].name

    def __init__(self, app: faust.App, rt: Runtime, engine: Engine):
        super().__init__(app, rt, engine)
        self.batch, self.linger_s = rt.settings.batch_size, rt.settings.batch_linger_ms / 1000

    async def steps_many(self, events: list[Event]) -> list[Steps | None]:
        """The path of each event of a batch, in one thread: decoded first, those whose document
        already ended or went through skipped (one question for the batch), and a document that
        comes twice in the batch walked once."""
        envelopes: dict[int, IncomingDocument] = {}
        walked: list[Steps | None] = [None] * len(events)
        seen: set[str] = set()
        for i, event in enumerate(events):
            since = time.perf_counter(), time.thread_time()
            try:
                envelope = self.begin(event, IncomingDocument, gate=False)
            except INFRASTRUCTURE:
                raise
            except Exception as exc:  # a broken envelope: dead-lettered, as ``steps`` would
                if event.document_id not in seen:
                    walked[i] = self.failed_at_the_edge(event, exc, since)
            else:
                if event.document_id not in seen:
                    envelopes[i] = envelope
            seen.add(event.document_id)
        done = self.done_among({events[i].document_id for i in envelopes})
        todo = [i for i in envelopes if events[i].document_id not in done]
        if not todo:
            return walked
        paths = await in_thread(self._walk_all, [(envelopes[i], events[i]) for i in todo], ledger=False)
        for i, steps in zip(todo, paths, strict=True):
            walked[i] = steps
        return walked

    def _walk_all(self, todo: list[tuple[IncomingDocument, Event]]) -> list[Steps]:
        """The batch's documents, with the templates and models looked up once for them all."""
        try:
            self.rt.refresh_templates()
            self.rt.refresh_models()
        except INFRASTRUCTURE:
            raise
        except Exception:  # templates that will not load: each document's stage meets it and is dead-lettered
            return self._walk_each(todo)
        with self.rt.refreshed():
            return self._walk_each(todo)

    def _walk_each(self, todo: list[tuple[IncomingDocument, Event]]) -> list[Steps]:
        """The batch's documents' intake and registration together, each one's path, then the
        claims of their invoice numbers together (services/books.py)."""
        env = self.env
        if env.engine is not None:
            taken = intake_all(todo, env, hold=lambda doc_id: self.ledger.holding(doc_id, PATH[0].name),
                               infrastructure=INFRASTRUCTURE)
            env = replace(env, taken=taken, claims_later=True)
        paths = []
        for envelope, event in todo:
            since = time.perf_counter(), time.thread_time()
            try:
                paths.append(self._walk(envelope, event, env))
            except INFRASTRUCTURE:
                raise
            except Exception as exc:  # a bug must not lose the document: dead-letter it, with its type
                paths.append(self.failed_at_the_edge(event, exc, since))
        if env.claims_later:
            claim_all([(event, steps) for (_, event), steps in zip(todo, paths, strict=True)], env)
        return paths

    def _walk(self, envelope: IncomingDocument, event: Event, env: Env) -> Steps:
        """The path, the document held in the crash ledger from its first stage to its last (a
        worker that dies between two stages died with it in hand too)."""
        with self.ledger.holding(event.document_id, PATH[0].name) as at:
            return run_path(envelope, event, env, self._failed, infrastructure=INFRASTRUCTURE, at=at)
