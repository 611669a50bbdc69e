"""Validation as a pure function: an extracted document to accepted or exception, with reasons."""

from __future__ import annotations

import re
from collections.abc import Callable

from services.contracts import AcceptedDocument, ExceptionDocument, ExtractedDocument, Issue, Reason, Validation
from services.validation import checks
from services.validation.rules import RuleSet

STAGE = "validate"

Check = Callable[[ExtractedDocument, RuleSet], list[Issue]]

# The rules, in the order their reasons are listed.
CHECKS: list[Check] = [
    checks.readable,          # a text layer, or OCR that read something
    checks.template_known,    # a known vendor layout, or a model to read an unknown one
    checks.einvoice_printed,  # an embedded e-invoice agrees with its print
    checks.required,          # the fields every invoice must have
    checks.formats,           # decimals, ISO dates, ISO 4217
    checks.arithmetic,        # net + tax = total; items add up; quantity x price = amount
    checks.dates,             # plausible dates; due not before issue
    checks.identifiers,       # IBAN and VAT id check digits
    checks.confidence,        # per-field (and per-vendor) confidence thresholds
]


def check(doc: ExtractedDocument, rules: RuleSet) -> Validation:
    issues = [issue for rule in CHECKS for issue in rule(doc, rules)]
    return Validation(ok=not issues, issues=issues)


def invoice_key(doc: ExtractedDocument) -> tuple[str, str] | None:
    """(vendor, invoice number) as the duplicate check compares them: the vendor by template,
    else VAT id, else name; numbers without spaces or punctuation, upper case."""
    number = doc.fields.get("invoice_number")
    if number is None or not number.value:
        return None
    vendor = doc.detection.template_id if doc.detection.status != "unknown" else None
    for name in ("vendor_vat_id", "vendor_name"):
        found = doc.fields.get(name)
        if vendor is None and found is not None and found.value:
            vendor = f"{name}:{_compact(found.value)}"
    if vendor is None:
        return None
    return vendor, _compact(number.value)


def _compact(text: str) -> str:
    return re.sub(r"[\W_]", "", text).upper()


def duplicate(accepted: AcceptedDocument, holder: str) -> ExceptionDocument:
    """An accepted document whose invoice another document already booked: an exception."""
    issue = Issue(code=Reason.DUPLICATE_INVOICE, field="invoice_number",
                  message=f"this vendor's invoice number was already accepted as {holder}")
    validation = Validation(ok=False, issues=[issue])
    return ExceptionDocument.model_validate(
        accepted.model_dump() | {"validation": validation, "reasons": [Reason.DUPLICATE_INVOICE]})


def validate(doc: ExtractedDocument, rules: RuleSet) -> AcceptedDocument | ExceptionDocument:
    """Accepted when every rule passes; otherwise an exception carrying each distinct reason."""
    validation = check(doc, rules)
    payload = doc.model_dump() | {"validation": validation}
    if validation.ok:
        return AcceptedDocument.model_validate(payload)
    reasons = list(dict.fromkeys(issue.code for issue in validation.issues))
    return ExceptionDocument.model_validate(payload | {"reasons": reasons})
