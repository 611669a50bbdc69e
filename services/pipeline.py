"""The document path composed in-process: the same stage functions the agents call.

``docflow extract`` and the benchmarks run this; what they measure is what production runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from services.contracts import (
    AcceptedDocument,
    ClassifiedDocument,
    DeadLetter,
    ExceptionDocument,
    ExtractedDocument,
    IncomingDocument,
    Reason,
)
from services.detection.logic import STAGE as DETECT
from services.detection.logic import detect
from services.errors import UnreadableDocument
from services.extraction.logic import STAGE as EXTRACT
from services.extraction.logic import extract
from services.ids import assign_document_id
from services.intake.logic import STAGE as INTAKE
from services.intake.logic import Limits, intake
from services.parsing.logic import STAGE as PARSE
from services.parsing.logic import parse
from services.parsing.sandbox import ParseSandbox
from services.runtime import Runtime
from services.validation.logic import STAGE as VALIDATE
from services.validation.logic import validate

Terminal = AcceptedDocument | ExceptionDocument | DeadLetter


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
    """intake -> parse -> detect -> extract -> validate, for one envelope. ``extracted_hook`` sees
    each document as extraction left it (what a side consumer of the stream would see); with a
    ``sandbox``, parsing runs in it under its budgets, as in the workers."""
    document_id = assign_document_id(envelope, None, b"")
    stage = INTAKE
    try:
        ref = intake(envelope, document_id, blobs=rt.blobs, limits=limits or rt.limits)
        stage = PARSE
        data = rt.blobs.get(ref.blob_uri)
        pages, words = rt.settings.max_pages, rt.settings.max_words_per_page
        parsed = (sandbox.parse(data, ref, max_pages=pages, max_words=words).document if sandbox
                  else parse(data, ref, max_pages=pages, max_words=words))
        stage = DETECT
        rt.refresh_templates()
        classified = ClassifiedDocument(**dict(parsed), detection=detect(parsed, rt.templates))
        stage = EXTRACT
        rt.refresh_models()
        extracted = extract(classified, replace(rt.extraction, model=rt.models.choose(document_id).model))
        if extracted_hook is not None:
            extracted_hook(classified, extracted)
        stage = VALIDATE
        return Outcome(document_id, validate(extracted, rt.ruleset))
    except UnreadableDocument as exc:
        return _dead(document_id, envelope, stage, exc.reason, exc.message)
    except Exception as exc:  # as in the agents: a bug dead-letters the document, it does not stop the run
        return _dead(document_id, envelope, stage, Reason.INTERNAL_ERROR, f"{type(exc).__name__} in {stage}")


def _dead(document_id: str, envelope: IncomingDocument, stage: str, reason: Reason, message: str) -> Outcome:
    return Outcome(document_id, DeadLetter(
        document_id=document_id, stage=stage, reason=reason, message=message, source_topic="in-process",
        filename=envelope.filename,
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
