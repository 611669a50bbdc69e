"""The document path as one list of stages, each a step with one signature.

A step takes the message its stage reads, the event it belongs to and the environment, and answers
an ``Emit``: the message for the next topic (or a terminal one) and what to write once the broker
has it. ``run_path`` walks the list; ``docflow extract`` (services/pipeline.py) and a worker's
chained agent run it, and a worker in the ``stages`` topology gives each stage an agent of its own
(services/transport.py). Whichever runs it, a document meets the same functions in the same order.

Each step calls its stage's pure logic and adds only what the stream needs around it: the duplicate
checks (with a database), the state the document reaches, the monitors' rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.engine import Engine

from services import topics
from services.contracts import (
    AcceptedDocument,
    ClassifiedDocument,
    Contract,
    DocumentRef,
    ExceptionDocument,
    ExtractedDocument,
    IncomingDocument,
    Issue,
    ParsedDocument,
    Reason,
    Validation,
)
from services.contracts import Detection as _Detection
from services.detection.logic import STAGE as DETECT
from services.detection.logic import detect
from services.emit import Emit, Event, failure
from services.errors import UnreadableDocument
from services.extraction.logic import STAGE as EXTRACT
from services.extraction.logic import extract
from services.intake.logic import STAGE as INTAKE
from services.intake.logic import Limits, intake
from services.models.shadow import read_in_shadow
from services.monitoring import metrics
from services.monitoring import store as monitoring
from services.monitoring.features import observe
from services.parsing.logic import STAGE as PARSE
from services.parsing.logic import parse
from services.parsing.sandbox import Parsed, ParseSandbox
from services.runtime import Runtime
from services.storage import claims, crud
from services.storage.db import core_scope
from services.storage.lifecycle import ModelOutput, Observation
from services.storage.models import DocumentState, Extraction, StageTransition
from services.storage.writes import Writes
from services.validation.logic import STAGE as VALIDATE
from services.validation.logic import duplicate, invoice_key, validate


@dataclass(frozen=True)
class Env:
    """What every step may use besides its message: the runtime, the parser (in the sandbox, in a
    worker) and ``engine``, the database the stream keeps its records in; None in-process, where no
    records are kept and no duplicate is looked for (``docflow extract`` reads files, it does not
    book them)."""

    rt: Runtime
    parser: Callable[[bytes, DocumentRef], Parsed]
    engine: Engine | None = None
    limits: Limits | None = None  # intake's, where they are not the settings' (a local file has no inline limit)
    # A batch's bookkeeping done together (services/books.py, the chain agent's): each document's
    # intake and registration ahead of its walk, by document id; its invoice number claimed after.
    taken: Mapping[str, Taken] | None = None
    claims_later: bool = False
    # A worker's: each document's pages stored in the blob store as they are parsed, by the thread
    # that parsed them (their claim check: the messages that carry them carry their address).
    store_pages: bool = False


@dataclass(frozen=True)
class Taken:
    """A document's intake and registration, done ahead of its walk with the rest of its batch: its
    reference and the document that holds its bytes already (if one does), or what its intake
    raised (raised again by its step)."""

    ref: DocumentRef | None
    earlier: str | None = None
    error: Exception | None = None


def parser(rt: Runtime, sandbox: ParseSandbox | None) -> Callable[[bytes, DocumentRef], Parsed]:
    """The parse with the settings' page and word limits, in ``sandbox`` when given (its answer
    says what its child spent, and gives the pages' JSON)."""
    pages, words = rt.settings.max_pages, rt.settings.max_words_per_page

    def direct(data: bytes, ref: DocumentRef) -> Parsed:
        return Parsed(parse(data, ref, max_pages=pages, max_words=words), cpu_s=0.0, peak_mb=0.0)

    def sandboxed(data: bytes, ref: DocumentRef) -> Parsed:
        done = sandbox.parse(data, ref, max_pages=pages, max_words=words)  # type: ignore[union-attr]
        metrics.PARSE_PEAK_MB.set(done.peak_mb)
        return done

    return direct if sandbox is None else sandboxed


Step = Callable[[Any, Event, Env], Emit]


@dataclass(frozen=True)
class Stage:
    """One stage of the path: the transition it records, the topic its own agent reads and the
    contract of what is there, and its step. ``threaded``: its CPU-bound work runs off the event
    loop (a worker's heartbeats and fetches go on)."""

    name: str
    source: str
    contract: type[Contract]
    step: Step
    threaded: bool = False


# ---------------------------------------------------------------- the steps


def intake_and_parse(envelope: IncomingDocument, event: Event, env: Env) -> Emit:
    """Intake stores the bytes and checks the envelope; parse reads them. Nothing passes between the
    two but the bytes, so they are one step; each is recorded as its own transition."""
    rt = env.rt
    event.filename = envelope.filename
    taken = env.taken.get(event.document_id) if env.taken is not None else None
    if taken is None:
        ref = intake(envelope, event.document_id, blobs=rt.blobs, limits=env.limits or rt.limits)
        earlier = register(env.engine, ref) if env.engine is not None else None
    elif taken.error is not None:
        raise taken.error
    else:
        assert taken.ref is not None
        ref, earlier = taken.ref, taken.earlier
    event.original_uri = ref.blob_uri
    if earlier is not None:
        return _duplicate_content(ref, earlier)
    try:
        done = env.parser(rt.blobs.get(ref.blob_uri), ref)
    except UnreadableDocument as exc:
        exc.stage = PARSE
        raise
    parsed = done.document
    if env.store_pages and parsed.pages:
        parsed.pages_uri = claims.store(parsed.pages, rt.blobs, done.pages_json)

    def persist(w: Writes) -> None:
        w.insert(StageTransition, crud.transition_row(document_id=event.document_id, stage=PARSE, outcome="ok"),
                 crud.TRANSITION_KEY)
        w.advance(event.document_id, DocumentState.PARSED, page_count=len(parsed.pages))

    return Emit(topics.PARSED, parsed, persist=persist, child_cpu_s=done.cpu_s)


def register(engine: Engine, ref: DocumentRef) -> str | None:
    """The document registered, in a transaction of its own: the one that holds its bytes already, if any."""
    with core_scope(engine) as s:
        return crud.register_document(s, ref=ref)


def _duplicate_content(ref: DocumentRef, earlier: str) -> Emit:
    issue = Issue(code=Reason.DUPLICATE_CONTENT, message=f"the same bytes were submitted as {earlier}")
    message = ExceptionDocument(
        doc=ref, detection=_Detection(status="unknown"), page_count=0, text_layer="none",
        validation=Validation(ok=False, issues=[issue]), reasons=[Reason.DUPLICATE_CONTENT],
    )
    return Emit(topics.EXCEPTIONS, message, outcome="exception", reasons=[Reason.DUPLICATE_CONTENT])


def detect_template(parsed: ParsedDocument, event: Event, env: Env) -> Emit:
    env.rt.refresh_templates()
    detection = detect(parsed, env.rt.templates)
    classified = ClassifiedDocument(**dict(parsed), detection=detection)

    def persist(w: Writes) -> None:
        w.advance(event.document_id, DocumentState.CLASSIFIED,
                  template_id=detection.template_id, template_version=detection.template_version)

    return Emit(topics.CLASSIFIED, classified, outcome=detection.status, persist=persist)


def extract_fields(classified: ClassifiedDocument, event: Event, env: Env) -> Emit:
    """The served model's reading (production or canary, by the rollout); with records kept, the
    monitors' features of it and a shadow model's reading beside it."""
    rt = env.rt
    rt.refresh_templates()
    rt.refresh_models()
    choice = rt.models.choose(event.document_id)
    ctx = replace(rt.extraction, model=choice.model)
    extracted = extract(classified, ctx)
    if env.engine is None:
        return Emit(topics.EXTRACTED, extracted)
    shadow = (read_in_shadow(classified, extracted, ctx, choice.shadow, rt.ruleset)
              if choice.shadow is not None else None)
    features = observe(classified, extracted)

    def persist(w: Writes) -> None:
        w.insert(Extraction, crud.extraction_rows(document_id=event.document_id, fields=extracted.fields),
                 crud.EXTRACTION_KEY)
        w.advance(event.document_id, DocumentState.EXTRACTED)
        w.insert(Observation, monitoring.observation_row(document_id=event.document_id, features=features,
                                                         role=choice.role), monitoring.OBSERVATION_KEY)
        if shadow is not None:
            w.insert(ModelOutput, monitoring.shadow_row(document_id=event.document_id, row=shadow),
                     monitoring.SHADOW_KEY)

    return Emit(topics.EXTRACTED, extracted, persist=persist)


def validate_fields(extracted: ExtractedDocument, event: Event, env: Env) -> Emit:
    """Accepted or an exception; with records kept, an invoice number the vendor already used on
    another document makes it a duplicate, and the monitors learn where it ended."""
    result = validate(extracted, env.rt.ruleset)
    key = invoice_key(extracted)
    claim = key if isinstance(result, AcceptedDocument) and env.engine is not None else None
    if claim is not None and env.engine is not None and not env.claims_later:
        with core_scope(env.engine) as s:
            holder = crud.claim_invoice(s, vendor_key=claim[0], invoice_number=claim[1],
                                        document_id=event.document_id)
        if holder is not None and isinstance(result, AcceptedDocument):
            result = duplicate(result, holder)
    emit = validated(result, event, env)
    if env.claims_later:
        emit.claim = claim  # its batch claims it (services/books.py)
    return emit


def validated(result: AcceptedDocument | ExceptionDocument, event: Event, env: Env) -> Emit:
    """Where a validated document goes, and (with records kept) what the monitors learn of it."""
    if isinstance(result, AcceptedDocument):
        emit = Emit(topics.ACCEPTED, result, outcome="accepted")
    else:
        emit = Emit(topics.EXCEPTIONS, result, outcome="exception", reasons=[str(r) for r in result.reasons])
    if env.engine is not None:
        def persist(w: Writes) -> None:
            w.gather(monitoring.outcomes, monitoring.Ended(event.document_id, result, emit.outcome, emit.reasons))

        emit.persist = persist
    return emit


# The path of every document, in order (the ``stages`` topology gives each an agent).
PATH: tuple[Stage, ...] = (
    Stage(INTAKE, topics.INCOMING, IncomingDocument, intake_and_parse, threaded=True),
    Stage(DETECT, topics.PARSED, ParsedDocument, detect_template),
    Stage(EXTRACT, topics.CLASSIFIED, ClassifiedDocument, extract_fields, threaded=True),
    Stage(VALIDATE, topics.EXTRACTED, ExtractedDocument, validate_fields),
)


Failed = Callable[[Event, str, Reason, str], Emit]


def run_path(message: Any, event: Event, env: Env, failed: Failed, *, path: tuple[Stage, ...] = PATH,
             infrastructure: tuple[type[Exception], ...] = (), at: Callable[[str], None] | None = None,
             tap: Callable[[Stage, Any, Emit], None] | None = None) -> list[tuple[str, Emit]]:
    """Every stage of ``path`` in turn, each on what the one before sent, until one ends the
    document; the stages' names and emits, each with its own CPU and wall seconds.

    A stage that fails on the document answers ``failed(event, stage, reason, message)`` (a dead
    letter) and the path stops there; an ``infrastructure`` error (database, broker) is raised for
    the caller to retry. ``at(stage)``: told which stage starts (the crash ledger's record of the
    document in hand). ``tap(stage, message, emit)``: called after each stage."""
    done: list[tuple[str, Emit]] = []
    for stage in path:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            if at is not None:
                at(stage.name)
            emit = stage.step(message, event, env)
        except infrastructure:
            raise
        except Exception as exc:  # a bug must not lose the document: it is dead-lettered, with its type
            emit = failed(event, *failure(exc, stage.name))
        emit.cpu_s = time.thread_time() - cpu + emit.child_cpu_s + event.ahead_cpu_s
        emit.seconds = time.perf_counter() - started + event.ahead_s
        event.ahead_cpu_s = event.ahead_s = 0.0  # counted once
        done.append((stage.name, emit))
        if tap is not None:
            tap(stage, message, emit)
        if emit.terminal:
            break
        message = emit.message
    return done
