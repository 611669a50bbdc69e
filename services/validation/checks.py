"""The validation rules, one function each with one signature: (document, rule set) -> issues.

Each rule reads only the document and its configuration (rules/validation/<doc_type>.yaml);
``logic.CHECKS`` lists them in order.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from services.contracts import TOTALS, ExtractedDocument, Issue, Reason
from services.validation import en16931
from services.validation.rules import RuleSet
from services.vocabulary.currencies import ISO_4217
from services.vocabulary.identifiers import iban_is_valid, vat_is_valid


def value(doc: ExtractedDocument, name: str) -> str | None:
    found = doc.fields.get(name)
    return found.value if found and found.value else None


def _decimal(raw: str | None) -> Decimal | None:
    try:
        return None if raw is None else Decimal(raw)
    except InvalidOperation:
        return None


def _date(raw: str | None) -> date | None:
    try:
        return None if raw is None else date.fromisoformat(raw)
    except ValueError:
        return None


def _einvoice(doc: ExtractedDocument) -> bool:
    return any(fv.source.startswith("einvoice:") for fv in doc.fields.values())


def readable(doc: ExtractedDocument, rules: RuleSet) -> list[Issue]:
    if doc.text_layer == "none" and not (doc.ocr and doc.fields):
        return [Issue(code=Reason.NO_TEXT_LAYER, message="no page has a text layer, and OCR read nothing")]
    return []


def template_known(doc: ExtractedDocument, rules: RuleSet) -> list[Issue]:
    if _einvoice(doc):
        return []
    issues = []
    if doc.detection.status == "new_layout" and rules.new_layout_version == "exception":
        issues.append(Issue(code=Reason.NEW_LAYOUT_VERSION, message=(
            f"{doc.detection.template_id}'s identifiers, in a layout its template does not know")))
    if doc.detection.status == "unknown":
        if rules.unknown_template == "exception":
            issues.append(Issue(code=Reason.UNKNOWN_TEMPLATE, message="no vendor template matched"))
        if doc.model_version is None and doc.text_layer != "none":
            issues.append(Issue(code=Reason.MODEL_UNAVAILABLE,
                                message="no layout model is trained yet to read an unknown vendor (docflow train)"))
    return issues


def einvoice_printed(doc: ExtractedDocument, rules: RuleSet) -> list[Issue]:
    return [Issue(code=Reason.EINVOICE_PRINT_MISMATCH, field=name,
                  message=f"the embedded e-invoice's {name} is not what the page prints")
            for name, fv in doc.fields.items() if fv.source.startswith("einvoice:") and fv.confidence < 0.9]


def required(doc: ExtractedDocument, rules: RuleSet) -> list[Issue]:
    return [Issue(code=Reason.REQUIRED_FIELD_MISSING, field=name, message=f"{name} is required")
            for name in rules.required if not value(doc, name)]


def formats(doc: ExtractedDocument, rules: RuleSet) -> list[Issue]:
    issues = []
    for name in rules.amount_fields:
        if value(doc, name) and _decimal(value(doc, name)) is None:
            issues.append(Issue(code=Reason.AMOUNT_INVALID, field=name, message=f"{name} is not a decimal"))
    for name in rules.date_fields:
        if value(doc, name) and _date(value(doc, name)) is None:
            issues.append(Issue(code=Reason.DATE_INVALID, field=name, message=f"{name} is not an ISO date"))
    currency = value(doc, "currency")
    if currency and currency not in ISO_4217:
        issues.append(Issue(code=Reason.CURRENCY_INVALID, field="currency", message="not an ISO 4217 code"))
    return issues


def arithmetic(doc: ExtractedDocument, rules: RuleSet) -> list[Issue]:
    """An e-invoice by the standard's own calculation rules; a printed invoice by these."""
    a = rules.arithmetic
    if doc.einvoice is not None:
        return en16931.check(doc.einvoice, doc.line_items, a)
    net, tax, total = (_decimal(value(doc, f)) for f in TOTALS)
    issues = []
    if a.net_plus_tax_is_total and None not in (net, tax, total) and abs(net + tax - total) > a.tolerance:  # type: ignore[operator]
        issues.append(Issue(code=Reason.TOTAL_MISMATCH, field="total_amount",
                            message=f"net {net} + tax {tax} is not the total {total}"))
    amounts = [_decimal(i.amount) for i in doc.line_items]
    if a.line_items_sum_to_net and net is not None and amounts and None not in amounts:
        total_items = sum((a for a in amounts if a is not None), Decimal(0))
        if abs(total_items - net) > a.tolerance * max(1, len(amounts)):
            issues.append(Issue(code=Reason.LINE_ITEMS_MISMATCH, field="net_amount",
                                message=f"{len(amounts)} line items add up to {total_items}, not the net {net}"))
    if a.quantity_times_price_is_amount:
        for n, item in enumerate(doc.line_items, start=1):
            q, p, amount = _decimal(item.quantity), _decimal(item.unit_price), _decimal(item.amount)
            if None not in (q, p, amount) and abs(q * p - amount) > a.tolerance:  # type: ignore[operator]
                issues.append(Issue(code=Reason.LINE_ITEM_ARITHMETIC, field=f"line_items.{n}",
                                    message=f"line {n}: {q} x {p} is not {amount}"))
    return issues


def dates(doc: ExtractedDocument, rules: RuleSet) -> list[Issue]:
    d = rules.dates
    issued, due = _date(value(doc, "invoice_date")), _date(value(doc, "due_date"))
    today = doc.doc.submitted_at.date()
    issues = []
    if issued and not today - timedelta(days=d.max_age_days) <= issued <= today + timedelta(days=d.max_future_days):
        issues.append(Issue(code=Reason.DATE_OUT_OF_RANGE, field="invoice_date",
                            message=f"invoice date {issued} is implausibly far from {today}"))
    if issued and due:
        if d.due_not_before_issue and due < issued:
            issues.append(Issue(code=Reason.DUE_BEFORE_ISSUE, field="due_date",
                                message=f"due {due} is before the invoice date {issued}"))
        elif (due - issued).days > d.max_payment_days:
            issues.append(Issue(code=Reason.DATE_OUT_OF_RANGE, field="due_date",
                                message=f"due {due} is more than {d.max_payment_days} days after issue"))
    return issues


def identifiers(doc: ExtractedDocument, rules: RuleSet) -> list[Issue]:
    issues = []
    iban, vat = value(doc, "vendor_iban"), value(doc, "vendor_vat_id")
    if rules.identifiers.iban_checksum and iban and not iban_is_valid(iban):
        issues.append(Issue(code=Reason.IBAN_INVALID, field="vendor_iban", message="IBAN check digits do not match"))
    if rules.identifiers.vat_id_check_digits and vat and vat_is_valid(vat) is False:
        issues.append(Issue(code=Reason.VAT_ID_INVALID, field="vendor_vat_id",
                            message="VAT id format or check digits wrong for its country"))
    return issues


def confidence(doc: ExtractedDocument, rules: RuleSet) -> list[Issue]:
    issues = []
    for name, fv in doc.fields.items():
        limit = rules.confidence.threshold(name, doc.detection.template_id)
        if fv.value and fv.confidence < limit and not fv.source.startswith("einvoice:"):
            issues.append(Issue(code=Reason.LOW_CONFIDENCE, field=name,
                                message=f"{name} read with confidence {fv.confidence:.2f} < {limit:.2f}"))
    return issues
