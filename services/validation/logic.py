"""Validation as a pure function: an extracted document to accepted or exception, with reasons."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from services.contracts import (
    AcceptedDocument,
    ExceptionDocument,
    ExtractedDocument,
    Issue,
    Reason,
    Validation,
)
from services.extraction.currencies import ISO_4217
from services.extraction.normalise import parse_iso_date
from services.validation.rules import RuleSet

STAGE = "validate"


def check(doc: ExtractedDocument, rules: RuleSet) -> Validation:
    issues: list[Issue] = []
    if doc.text_layer == "none" and not (doc.ocr and doc.fields):
        issues.append(Issue(code=Reason.NO_TEXT_LAYER, message="no page has a text layer, and OCR read nothing"))
    einvoice = any(fv.source.startswith("einvoice:") for fv in doc.fields.values())
    if doc.detection.status == "new_layout" and not einvoice:
        issues.append(Issue(code=Reason.NEW_LAYOUT_VERSION, message=(
            f"{doc.detection.template_id}'s identifiers, in a layout its template does not know")))
    if doc.detection.status == "unknown" and not einvoice:
        issues.append(Issue(code=Reason.UNKNOWN_TEMPLATE, message="no vendor template matched"))
        if doc.model_version is None and doc.text_layer != "none":
            issues.append(Issue(code=Reason.MODEL_UNAVAILABLE,
                                message="no layout model is trained yet to read an unknown vendor (docflow train)"))

    def value(name: str) -> str | None:
        found = doc.fields.get(name)
        return found.value if found else None

    for name, fv in doc.fields.items():
        if fv.source.startswith("einvoice:") and fv.confidence < 0.9:
            issues.append(Issue(code=Reason.EINVOICE_PRINT_MISMATCH, field=name,
                                message=f"the embedded e-invoice's {name} is not what the page prints"))
    for name in rules.required:
        if not value(name):
            issues.append(Issue(code=Reason.REQUIRED_FIELD_MISSING, field=name, message=f"{name} is required"))
    for name in rules.amount_fields:
        raw = value(name)
        if raw:
            try:
                Decimal(raw)
            except InvalidOperation:
                issues.append(Issue(code=Reason.AMOUNT_INVALID, field=name, message=f"{name} is not a decimal"))
    for name in rules.date_fields:
        raw = value(name)
        if raw:
            try:
                parse_iso_date(raw)
            except ValueError:
                issues.append(Issue(code=Reason.DATE_INVALID, field=name, message=f"{name} is not an ISO date"))
    currency = value("currency")
    if currency and currency not in ISO_4217:
        issues.append(Issue(code=Reason.CURRENCY_INVALID, field="currency", message="not an ISO 4217 code"))
    return Validation(ok=not issues, issues=issues)


def validate(doc: ExtractedDocument, rules: RuleSet) -> AcceptedDocument | ExceptionDocument:
    """Accepted when every rule passes; otherwise an exception carrying each distinct reason."""
    validation = check(doc, rules)
    payload = doc.model_dump() | {"validation": validation}
    if validation.ok:
        return AcceptedDocument.model_validate(payload)
    reasons = list(dict.fromkeys(issue.code for issue in validation.issues))
    return ExceptionDocument.model_validate(payload | {"reasons": reasons})
