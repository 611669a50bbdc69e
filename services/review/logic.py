"""A reviewer's decision applied to the document it was about, as pure functions."""

from __future__ import annotations

from services.contracts import (
    HEADER_FIELDS,
    AcceptedDocument,
    ExtractedDocument,
    FieldCorrection,
    FieldValue,
    Label,
    Review,
    ReviewDecision,
    ValidatedDocument,
)
from services.extraction.model.labels import FIELD_TYPES
from services.validation.logic import check
from services.validation.rules import RuleSet
from services.vocabulary.normalise import NORMALISERS
from services.vocabulary.templates import Options

STAGE = "review"
_OPTIONS = Options()


def normalise_field(field: str, raw: str | None) -> str | None:
    """A typed or clicked value in the form the field schema stores; ValueError with the reason.

    Empty means "this document has no such field".
    """
    if field not in HEADER_FIELDS:
        raise ValueError(f"unknown field {field!r}")
    if raw is None or not raw.strip():
        return None
    return NORMALISERS[FIELD_TYPES[field]](raw, _OPTIONS)


def changes(document: ValidatedDocument, corrections: dict[str, FieldCorrection]) -> dict[str, FieldCorrection]:
    """The corrections that change a value (confirming the extracted value is not a correction)."""
    out = {}
    for field, correction in corrections.items():
        current = document.fields.get(field)
        if (current.value if current else None) != correction.value:
            out[field] = correction
    return out


def corrected(document: ValidatedDocument, corrections: dict[str, FieldCorrection], reviewer: str) -> ExtractedDocument:
    """The document with the reviewer's values in place (confidence 1, source the reviewer)."""
    fields = dict(document.fields)
    for field, correction in changes(document, corrections).items():
        if correction.value is None:
            fields.pop(field, None)
            continue
        fields[field] = FieldValue(value=correction.value, confidence=1.0, source=f"review:{reviewer}",
                                   page=correction.page, bbox=correction.bbox, raw=correction.value)
    return ExtractedDocument.model_validate(
        document.model_dump(include=set(ExtractedDocument.model_fields)) | {"fields": fields})


def approve(document: ValidatedDocument, decision: ReviewDecision, rules: RuleSet) -> AcceptedDocument:
    """The accepted document: corrected fields replaced, validation run again and recorded as it
    now stands, and who decided."""
    extracted = corrected(document, decision.fields, decision.reviewer)
    review = Review(decision_id=decision.decision_id, reviewer=decision.reviewer,
                    corrected=sorted(changes(document, decision.fields)), comment=decision.comment,
                    decided_at=decision.decided_at)
    return AcceptedDocument.model_validate(
        extracted.model_dump() | {"validation": check(extracted, rules), "review": review})


def labels(document: ValidatedDocument, decision: ReviewDecision) -> list[Label]:
    """Every corrected field as a training label (the reviewer's value, and where it is printed)."""
    return [
        Label(label_id=f"{decision.decision_id}:{field}", document_id=decision.document_id, field=field,
              value=correction.value, page=correction.page, bbox=correction.bbox, origin="operator",
              author=decision.reviewer, created_at=decision.decided_at)
        for field, correction in sorted(changes(document, decision.fields).items())
    ]
