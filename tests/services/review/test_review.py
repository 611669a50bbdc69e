"""The review stage's pure parts: the queue's state machine, its policy, applying a decision."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.access.passwords import WeakPassword, check_strength, hash_password, verify_password
from services.access.users import Principal
from services.contracts import (
    AcceptedDocument,
    Detection,
    DocumentRef,
    FieldCorrection,
    FieldValue,
    ReviewDecision,
    Validation,
)
from services.review.logic import approve, labels, normalise_field
from services.review.policy import QueuePolicy
from services.review.queue import Item, QueueError, step

RULES = Path(__file__).resolve().parents[3] / "rules"


def who(name: str, *roles: str) -> Principal:
    return Principal(1, name, roles, None)


OPS, OPS2, BOSS, VIEW = who("ann", "operator"), who("bob", "operator"), who("cy", "approver"), who("di", "viewer")


@pytest.mark.parametrize(("item", "action", "actor", "expected"), [
    (Item("open", None), "claim", OPS, Item("in_review", "ann")),
    (Item("in_review", "ann"), "claim", OPS, Item("in_review", "ann")),
    (Item("in_review", "ann"), "claim", OPS2, 409),
    (Item("in_review", "ann"), "release", OPS, Item("open", None)),
    (Item("in_review", "ann"), "release", OPS2, 409),
    (Item("in_review", "ann"), "release", BOSS, Item("open", None)),
    (Item("open", None), "approve", OPS, Item("resolved", "ann")),
    (Item("open", None), "reject", OPS, Item("rejected", "ann")),
    (Item("in_review", "ann"), "approve", OPS2, 409),
    (Item("open", None), "escalate", OPS, Item("escalated", None)),
    (Item("escalated", None), "escalate", BOSS, 409),
    (Item("escalated", None), "claim", OPS, 403),
    (Item("escalated", None), "approve", OPS, 403),
    (Item("escalated", None), "approve", BOSS, Item("resolved", "cy")),
    (Item("open", None), "reassign", OPS, 403),
    (Item("in_review", "ann"), "reassign", BOSS, Item("in_review", "bob")),
    (Item("resolved", "ann"), "approve", OPS, 409),
    (Item("rejected", "ann"), "claim", BOSS, 409),
    (Item("open", None), "claim", VIEW, 403),
    (Item("open", None), "delete", OPS, 422),
])
def test_queue_state_machine(item: Item, action: str, actor: Principal, expected: Item | int) -> None:
    if isinstance(expected, int):
        with pytest.raises(QueueError) as error:
            step(item, action, actor, target="bob")
        assert error.value.status == expected
    else:
        assert step(item, action, actor, target="bob") == expected


def test_policy_takes_the_most_urgent_reason_and_its_sla() -> None:
    policy = QueuePolicy.load(RULES / "queue.yaml")
    assert policy.priority(["LOW_CONFIDENCE"]) == 2
    assert policy.priority(["UNKNOWN_TEMPLATE", "TOTAL_MISMATCH"]) == 1
    assert policy.priority(["SOMETHING_NEW"]) == policy.default_priority
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert policy.due(1, since) == datetime(2026, 1, 1, 4, tzinfo=UTC)
    with pytest.raises(ValueError):
        QueuePolicy.model_validate({"priorities": {"NOT_A_REASON": 1}})


def document() -> AcceptedDocument:
    ref = DocumentRef(document_id="d1", source="t", filename="f.pdf", content_type="application/pdf",
                      sha256="a" * 64, size=1, blob_uri="blob://x", submitted_at=datetime.now(UTC))
    fields = {name: FieldValue(value=value, confidence=0.7, source="model:v1") for name, value in {
        "vendor_name": "Acme", "invoice_number": "A-1", "invoice_date": "2026-01-05", "currency": "EUR",
        "net_amount": "100.00", "tax_amount": "19.00", "total_amount": "191.00"}.items()}
    return AcceptedDocument(doc=ref, detection=Detection(status="unknown"), page_count=1, text_layer="full",
                            fields=fields, validation=Validation(ok=False))


def test_approve_applies_corrections_revalidates_and_labels_only_changes() -> None:
    from services.validation.rules import load_ruleset

    rules = load_ruleset(RULES, "invoice")
    decision = ReviewDecision(decision_id="dec1", document_id="d1", decision="approve", reviewer="ann", fields={
        "total_amount": FieldCorrection(value="119.00", page=1, bbox=(10, 10, 40, 20)),
        "currency": FieldCorrection(value="EUR"),
        "tax_amount": FieldCorrection(value=None)})
    accepted = approve(document(), decision, rules)
    assert accepted.fields["total_amount"].value == "119.00" and accepted.fields["total_amount"].confidence == 1.0
    assert accepted.fields["total_amount"].source == "review:ann" and "tax_amount" not in accepted.fields
    assert accepted.review and accepted.review.corrected == ["tax_amount", "total_amount"]
    assert accepted.fields["currency"].source == "model:v1"  # confirmed, not corrected
    assert "TOTAL_MISMATCH" not in [i.code for i in accepted.validation.issues]  # no tax: nothing to add up
    made = labels(document(), decision)
    assert [(x.label_id, x.field, x.value, x.page) for x in made] == [
        ("dec1:tax_amount", "tax_amount", None, None), ("dec1:total_amount", "total_amount", "119.00", 1)]


@pytest.mark.parametrize(("field", "raw", "value"), [
    ("total_amount", "1.234,50 €", "1234.50"), ("invoice_date", "5 March 2026", "2026-03-05"),
    ("vendor_iban", "de89 3704 0044 0532 0130 00", "DE89370400440532013000"), ("currency", "€", "EUR"),
    ("invoice_number", "  A-1 ", "A-1"), ("invoice_number", "", None),
])
def test_normalise_field(field: str, raw: str, value: str | None) -> None:
    assert normalise_field(field, raw) == value


@pytest.mark.parametrize(("field", "raw"), [("total_amount", "lots"), ("invoice_date", "soon"), ("colour", "red")])
def test_normalise_field_refuses(field: str, raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_field(field, raw)


def test_passwords() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("scrypt$32768$8$3$") and verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterz", stored) and not verify_password("x", "garbage")
    assert hash_password("correct horse battery") != stored  # salted
    for weak, user in (("short", ""), ("aaaaaaaaaaaa", ""), ("annabelle-2026-x", "annabelle")):
        with pytest.raises(WeakPassword):
            check_strength(weak, user)
