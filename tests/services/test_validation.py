"""Validation: each rule passes good documents and names its reason code on bad ones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.contracts import (
    AcceptedDocument,
    Detection,
    DocumentRef,
    ExceptionDocument,
    ExtractedDocument,
    FieldValue,
    Reason,
)
from services.validation.logic import validate
from services.validation.rules import load_ruleset

RULES = load_ruleset(Path(__file__).resolve().parents[2] / "rules")
GOOD = {
    "vendor_name": "Acme", "invoice_number": "A-1", "invoice_date": "2025-02-01", "due_date": "2025-03-01",
    "currency": "EUR", "net_amount": "10.00", "tax_amount": "1.90", "total_amount": "11.90",
}
SUBMITTED = datetime(2025, 2, 10, tzinfo=UTC)


def doc(fields: dict[str, str | None], *, matched: bool = True, text_layer: str = "full") -> ExtractedDocument:
    ref = DocumentRef(document_id="d", source="t", filename="f", content_type="application/pdf",
                      sha256="0" * 64, size=1, blob_uri="b", submitted_at=SUBMITTED)
    detection = Detection(status="matched", template_id="t", template_version=1, confidence=0.99) if matched \
        else Detection(status="unknown")
    return ExtractedDocument(
        doc=ref, detection=detection, page_count=1, text_layer=text_layer,  # type: ignore[arg-type]
        fields={k: FieldValue(value=v, confidence=0.98, source="t@1") for k, v in fields.items()},
    )


def test_good_document_accepted() -> None:
    """All rules pass: accepted, no issues."""
    result = validate(doc(GOOD), RULES)
    assert isinstance(result, AcceptedDocument) and result.validation.ok


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"invoice_number": None}, Reason.REQUIRED_FIELD_MISSING, "invoice_number"),
        ({"total_amount": ""}, Reason.REQUIRED_FIELD_MISSING, "total_amount"),
        ({"net_amount": "ten"}, Reason.AMOUNT_INVALID, "net_amount"),
        ({"due_date": "2025-02-30"}, Reason.DATE_INVALID, "due_date"),
        ({"currency": "EURO"}, Reason.CURRENCY_INVALID, "currency"),
    ],
)
def test_rule_failures(change: dict, reason: Reason, field: str) -> None:
    """Each broken field gives an exception with that rule's reason code and the field named."""
    result = validate(doc(GOOD | change), RULES)
    assert isinstance(result, ExceptionDocument)
    assert result.reasons == [reason]
    assert [i.field for i in result.validation.issues] == [field]


TO_A_PERSON = RULES.model_copy(update={"unknown_template": "exception", "new_layout_version": "exception"})


def test_unknown_template_and_no_text_layer() -> None:
    """Documents nobody could read precisely go to the exception queue with both reasons (with
    unknown_template: exception)."""
    result = validate(doc({}, matched=False, text_layer="none"), TO_A_PERSON)
    assert isinstance(result, ExceptionDocument)
    assert result.reasons[:2] == [Reason.NO_TEXT_LAYER, Reason.UNKNOWN_TEMPLATE]
    assert Reason.REQUIRED_FIELD_MISSING in result.reasons


def test_new_layout_and_missing_model_reasons() -> None:
    """A new layout version is flagged; an unknown vendor without a model says the model is missing."""
    new = doc(GOOD)
    new.detection = Detection(status="new_layout", template_id="t", template_version=1, confidence=0.5)
    assert validate(new, TO_A_PERSON).reasons == [Reason.NEW_LAYOUT_VERSION]
    assert isinstance(validate(new, RULES), AcceptedDocument)  # shipped: accepted on an unknown vendor's terms
    unknown = validate(doc(GOOD, matched=False), TO_A_PERSON)
    assert unknown.reasons == [Reason.UNKNOWN_TEMPLATE, Reason.MODEL_UNAVAILABLE]
    with_model = doc(GOOD, matched=False)
    with_model.model_version = "layoutlm-x"
    assert validate(with_model, TO_A_PERSON).reasons == [Reason.UNKNOWN_TEMPLATE]


def test_shipped_rules_accept_an_unknown_vendor_read_confidently() -> None:
    """The shipped policy: a vendor no template reads goes straight through when every rule passes,
    and to an operator when a value is unsure; with no model at all it is never accepted."""
    read = doc(GOOD, matched=False)
    read.model_version = "layoutlm-x"
    assert isinstance(validate(read, RULES), AcceptedDocument)
    unsure = doc(GOOD, matched=False)
    unsure.model_version = "layoutlm-x"
    unsure.fields["total_amount"] = unsure.fields["total_amount"].model_copy(update={"confidence": 0.6})
    assert validate(unsure, RULES).reasons == [Reason.LOW_CONFIDENCE]
    assert validate(doc(GOOD, matched=False), RULES).reasons == [Reason.MODEL_UNAVAILABLE]


def items_doc(fields: dict, items: list[tuple[str, str, str]]) -> ExtractedDocument:
    from services.contracts import LineItem

    d = doc(fields)
    d.line_items = [LineItem(description="x", quantity=q, unit_price=p, amount=a) for q, p, a in items]
    return d


@pytest.mark.parametrize(
    ("fields", "items", "reasons"),
    [
        ({}, [("2", "5.00", "10.00")], []),
        ({"total_amount": "11.91"}, [], []),  # within the one-cent tolerance
        ({"total_amount": "11.95"}, [], [Reason.TOTAL_MISMATCH]),
        ({}, [("2", "5.00", "10.00"), ("1", "0.50", "0.50")], [Reason.LINE_ITEMS_MISMATCH]),
        ({}, [("3", "5.00", "10.00")], [Reason.LINE_ITEM_ARITHMETIC]),
        ({"due_date": "2025-01-01"}, [], [Reason.DUE_BEFORE_ISSUE]),
        ({"due_date": "2027-01-01"}, [], [Reason.DATE_OUT_OF_RANGE]),
        ({"invoice_date": "2015-02-01", "due_date": None}, [], [Reason.DATE_OUT_OF_RANGE]),
        ({"vendor_iban": "DE24969811816785102541"}, [], []),
        ({"vendor_iban": "DE24969811816785102542"}, [], [Reason.IBAN_INVALID]),
        ({"vendor_vat_id": "FR40303265045"}, [], []),
        ({"vendor_vat_id": "FR41303265045"}, [], [Reason.VAT_ID_INVALID]),
        ({"vendor_vat_id": "US123456789"}, [], []),  # no VAT scheme known: not judged
    ],
    ids=["consistent", "total-cent", "total", "items-sum", "item-arithmetic", "due-before-issue", "payment-term",
         "too-old", "iban-ok", "iban-bad", "vat-ok", "vat-bad", "vat-unknown-country"],
)
def test_consistency_rules(fields: dict, items: list, reasons: list) -> None:
    """Arithmetic, date and identifier rules, each passing and failing with its own reason."""
    result = validate(items_doc(GOOD | {"net_amount": "10.00"} | fields, items), RULES)
    assert (result.reasons if isinstance(result, ExceptionDocument) else []) == reasons


def test_confidence_thresholds_per_field_and_vendor() -> None:
    """Below the field's threshold goes to review; a vendor may be held to a stricter one."""
    from services.validation.rules import Confidence

    d = doc(GOOD)
    d.fields["total_amount"] = FieldValue(value="119.00", confidence=0.88, source="model:x")
    d.fields["net_amount"] = FieldValue(value="100.00", confidence=0.88, source="model:x")
    d.fields["tax_amount"] = FieldValue(value="19.00", confidence=0.88, source="model:x")
    d.fields["total_amount"] = FieldValue(value="119.00", confidence=0.88, source="model:x")
    result = validate(d, RULES)
    assert result.reasons == [Reason.LOW_CONFIDENCE]
    assert [i.field for i in result.validation.issues] == ["total_amount"]  # 0.88 < 0.90; others need 0.80
    strict = RULES.model_copy(update={"confidence": Confidence(default=0.8, vendors={"t": {"net_amount": 0.9}})})
    assert [i.field for i in validate(d, strict).validation.issues] == ["net_amount"]


def test_invoice_key_and_duplicate() -> None:
    """Vendor and number as the duplicate check compares them; a duplicate becomes an exception."""
    from services.validation.logic import duplicate, invoice_key

    d = doc(GOOD | {"invoice_number": "inv 2025/1"})
    assert invoice_key(d) == ("t", "INV20251")
    unknown = doc(GOOD | {"vendor_vat_id": "FR 40 303 265 045"}, matched=False)
    assert invoice_key(unknown) == ("vendor_vat_id:FR40303265045", "A1")
    accepted = validate(d, RULES)
    assert isinstance(accepted, AcceptedDocument)
    dup = duplicate(accepted, "d-first")
    assert dup.reasons == [Reason.DUPLICATE_INVOICE] and "d-first" in dup.validation.issues[0].message
