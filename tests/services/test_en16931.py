"""An e-invoice is validated by EN 16931's calculation rules: allowances, charges, base quantities,
prepaid amounts and sub-lines are part of the arithmetic, and a real breach names its rule."""

from __future__ import annotations

from pathlib import Path

from services.contracts import AllowanceCharge, EInvoice, LineItem, Reason, TaxBreakdown
from services.validation.en16931 import check
from services.validation.rules import load_ruleset

RULES = load_ruleset(Path(__file__).resolve().parents[2] / "rules").arithmetic


def invoice(**kw) -> EInvoice:
    base = dict(attachment="factur-x.xml", syntax="cii", line_total="95.00", allowance_total="9.00",
                charge_total="14.00", tax_basis_total="100.00", tax_total="4.90", grand_total="104.90",
                amount_due="104.90",
                allowances_charges=[AllowanceCharge(charge=False, amount="9.00"),
                                    AllowanceCharge(charge=True, amount="14.00")],
                taxes=[TaxBreakdown(category="S", rate="4.90", basis="100.00", tax="4.90")])
    return EInvoice(**(base | kw))


LINES = [
    # 3 at 30.00 per 3 pieces, 3.00 of charges and 5.00 of allowances on the line: 28.00.
    LineItem(quantity="3", unit_price="30.00", price_basis_quantity="3", charges="3.00", allowances="5.00",
             amount="28.00"),
    LineItem(quantity="1", unit_price="67.00", amount="67.00"),
]


def codes(issues) -> list[tuple[Reason, str]]:
    return [(i.code, i.message.split(":")[0]) for i in issues]


def test_a_consistent_einvoice_passes() -> None:
    """The printed-invoice checks would fail it three times: lines 95 are not the net 100, 3 x 30 is not 28."""
    assert check(invoice(), LINES, RULES) == []


def test_each_breach_names_its_rule() -> None:
    lines = [LINES[0].model_copy(update={"amount": "29.00"}), LINES[1]]
    assert codes(check(invoice(), lines, RULES)) == [
        (Reason.LINE_ITEM_ARITHMETIC, "EN 16931 BT-131"), (Reason.LINE_ITEMS_MISMATCH, "BR-CO-10")]
    assert codes(check(invoice(tax_basis_total="101.00", grand_total="105.90", amount_due="105.90"), LINES, RULES)) == [
        (Reason.LINE_ITEMS_MISMATCH, "BR-CO-13")]
    assert codes(check(invoice(amount_due="100.00"), LINES, RULES)) == [(Reason.TOTAL_MISMATCH, "BR-CO-16")]
    assert codes(check(invoice(grand_total="105.00", amount_due="105.00"), LINES, RULES)) == [
        (Reason.TOTAL_MISMATCH, "BR-CO-15")]
    assert codes(check(invoice(allowance_total="8.00", line_total="96.00"), LINES, RULES))[:1] == [
        (Reason.LINE_ITEMS_MISMATCH, "BR-CO-10")]
    assert codes(check(invoice(taxes=[TaxBreakdown(category="S", rate="19", basis="100.00", tax="4.90")]),
                       LINES, RULES)) == [(Reason.TOTAL_MISMATCH, "BR-S-09")]


def test_prepaid_and_sub_lines() -> None:
    """The amount due is the total less what was prepaid; a sub-line is part of its parent, not added again."""
    group = [LineItem(line_id="1", quantity="1", unit_price="95.00", amount="95.00"),
             LineItem(line_id="1.1", parent_line_id="1", quantity="2", unit_price="40.00", amount="80.00"),
             LineItem(line_id="1.2", parent_line_id="1", quantity="1", unit_price="15.00", amount="15.00")]
    assert check(invoice(prepaid="50.00", amount_due="54.90"), group, RULES) == []
