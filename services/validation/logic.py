"""Validation as a pure function: an extracted document to accepted or exception, with reasons."""

from __future__ import annotations

from collections.abc import Callable

from services.contracts import AcceptedDocument, ExceptionDocument, ExtractedDocument, Issue, Validation
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


def validate(doc: ExtractedDocument, rules: RuleSet) -> AcceptedDocument | ExceptionDocument:
    """Accepted when every rule passes; otherwise an exception carrying each distinct reason."""
    validation = check(doc, rules)
    payload = doc.model_dump() | {"validation": validation}
    if validation.ok:
        return AcceptedDocument.model_validate(payload)
    reasons = list(dict.fromkeys(issue.code for issue in validation.issues))
    return ExceptionDocument.model_validate(payload | {"reasons": reasons})
