"""The document path in-process: the same list of stages, walked by the same loop, as a worker's.

``docflow extract`` and the benchmarks run this; what they measure is what production runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError

from services import topics
from services.contracts import (
    AcceptedDocument,
    ClassifiedDocument,
    DeadLetter,
    ExceptionDocument,
    ExtractedDocument,
    IncomingDocument,
    Reason,
)
from services.emit import Emit, Event
from services.extraction.logic import STAGE as EXTRACT
from services.ids import assign_document_id
from services.intake.logic import Limits
from services.parsing.sandbox import ParseSandbox
from services.runtime import Runtime
from services.stages import Env, Stage, parser, run_path

Terminal = AcceptedDocument | ExceptionDocument | DeadLetter
INFRA_TRIES = 4  # a document's path, run again while its database fails for a moment


@dataclass(frozen=True)
class Outcome:
    document_id: str
    result: Terminal

    @property
    def state(self) -> str:
        return {AcceptedDocument: "accepted", ExceptionDocument: "exception", DeadLetter: "deadletter"}[
            type(self.result)
        ]

    @property
    def reasons(self) -> list[str]:
        if isinstance(self.result, ExceptionDocument):
            return [str(r) for r in self.result.reasons]
        if isinstance(self.result, DeadLetter):
            return [str(self.result.reason)]
        return []


def run(envelope: IncomingDocument, rt: Runtime, *, limits: Limits | None = None,
        extracted_hook: Callable[[ClassifiedDocument, ExtractedDocument], None] | None = None,
        sandbox: ParseSandbox | None = None) -> Outcome:
    """The document path (services/stages.PATH) for one envelope, no records kept. ``extracted_hook``
    sees each document as extraction left it (what a side consumer of the stream would see); with a
    ``sandbox``, parsing runs in it under its budgets, as in the workers."""
    event = Event(key=None, raw=b"", document_id=assign_document_id(envelope, None, b""), filename=envelope.filename)

    def tap(stage: Stage, message: object, emit: Emit) -> None:
        if stage.name == EXTRACT and extracted_hook is not None and isinstance(emit.message, ExtractedDocument):
            extracted_hook(message, emit.message)  # type: ignore[arg-type]

    env = Env(rt, parser(rt, sandbox), limits=limits)
    for attempt in range(INFRA_TRIES):
        # A database that failed for a moment (two processes opening a fresh SQLite file at once:
        # "database is locked") is asked again, as a worker's infrastructure retry would; the last
        # attempt dead-letters what still fails, with its stage.
        last = attempt == INFRA_TRIES - 1
        try:
            done = run_path(envelope, event, env, _dead, tap=tap, infrastructure=() if last else (OperationalError,))
            break
        except OperationalError:
            time.sleep(0.05 * 2 ** attempt)
    return Outcome(event.document_id, done[-1][1].message)  # type: ignore[arg-type]


def _dead(event: Event, stage: str, reason: Reason, message: str) -> Emit:
    return Emit(topics.DEADLETTER, DeadLetter(
        document_id=event.document_id, stage=stage, reason=reason, message=message, source_topic="in-process",
        filename=event.filename,
    ))


def extract_report(outcome: Outcome) -> dict:
    """The ``docflow extract --json`` shape."""
    result = outcome.result
    report: dict = {"document_id": outcome.document_id, "state": outcome.state, "reasons": outcome.reasons}
    if isinstance(result, DeadLetter):
        report |= {"template": None, "fields": {}, "line_items": [],
                   "validation": {"ok": False, "issues": [{"code": result.reason, "message": result.message}]}}
        return report
    detection = result.detection
    report["template"] = (
        {"id": detection.template_id, "version": detection.template_version, "confidence": detection.confidence}
        if detection.status == "matched" else None
    )
    report["fields"] = {name: fv.model_dump(mode="json") for name, fv in result.fields.items()}
    report["line_items"] = [item.model_dump(mode="json") for item in result.line_items]
    report["validation"] = result.validation.model_dump(mode="json")
    if result.einvoice is not None:
        report["einvoice"] = result.einvoice.model_dump(mode="json", exclude_none=True)
    return report
