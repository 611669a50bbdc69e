"""An embedded e-invoice checked by the standard's own calculation rules (EN 16931-1, the business
rules BR-CO-10 ... BR-CO-16 and the line net amount of BT-131), instead of the checks written for
printed invoices: its document-level allowances and charges stand between the lines and the net,
a price may be for a base quantity, prepaid amounts stand between the total and the amount due,
and a sub-line (Factur-X EXTENDED) is part of its parent line, not a line of its own.

Each rule is checked only where the XML gives every value it relates; the message names the rule.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from services.contracts import EInvoice, Issue, LineItem, Reason
from services.validation.rules import Arithmetic

CENT = Decimal("0.01")


def _d(raw: str | None) -> Decimal | None:
    try:
        return None if raw is None else Decimal(raw)
    except InvalidOperation:
        return None


def _sum(values: list[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal(0))


def line_net(item: LineItem) -> Decimal | None:
    """BT-131 = BT-129 quantity x BT-146 net price / BT-149 base quantity + charges - allowances."""
    q, p = _d(item.quantity), _d(item.unit_price)
    if q is None or p is None:
        return None
    base = _d(item.price_basis_quantity) or Decimal(1)
    net = q * p / base + (_d(item.charges) or 0) - (_d(item.allowances) or 0)
    return net.quantize(CENT, rounding=ROUND_HALF_UP)


def _issue(code: Reason, field: str, rule: str, message: str) -> Issue:
    return Issue(code=code, field=field, message=f"{rule}: {message}")


def line_amounts(info: EInvoice, items: list[LineItem], a: Arithmetic) -> list[Issue]:
    """BT-131 per line."""
    if not a.quantity_times_price_is_amount:
        return []
    issues = []
    for n, item in enumerate(items, start=1):
        want, got = line_net(item), _d(item.amount)
        if want is not None and got is not None and abs(want - got) > a.tolerance:
            issues.append(_issue(Reason.LINE_ITEM_ARITHMETIC, f"line_items.{n}", "EN 16931 BT-131",
                                 f"line {item.line_id or n}: {item.quantity} x {item.unit_price}"
                                 f"{' / ' + item.price_basis_quantity if item.price_basis_quantity else ''}"
                                 f"{' + ' + item.charges if item.charges else ''}"
                                 f"{' - ' + item.allowances if item.allowances else ''} is {want}, not {got}"))
    return issues


def lines_to_net(info: EInvoice, items: list[LineItem], a: Arithmetic) -> list[Issue]:
    """BR-CO-10 (top-level lines to the line total), BR-CO-11/12 (allowances, charges to their
    totals), BR-CO-13 (line total - allowances + charges to the net)."""
    tol, issues = a.tolerance, []
    lines, allowances, charges = _d(info.line_total), _d(info.allowance_total), _d(info.charge_total)
    basis = _d(info.tax_basis_total)
    top = [_d(i.amount) for i in items if i.parent_line_id is None and i.amount is not None]
    if a.line_items_sum_to_net and lines is not None and top and abs(_sum(top) - lines) > tol * max(1, len(top)):
        issues.append(_issue(Reason.LINE_ITEMS_MISMATCH, "net_amount", "BR-CO-10",
                             f"the {len(top)} lines add up to {_sum(top)}, not the sum of line net amounts {lines}"))
    for charge, total, rule, kind in ((False, allowances, "BR-CO-11", "allowances"),
                                      (True, charges, "BR-CO-12", "charges")):
        found = _sum([_d(x.amount) for x in info.allowances_charges if x.charge == charge])
        if total is not None and abs(found - total) > tol:
            issues.append(_issue(Reason.TOTAL_MISMATCH, "net_amount", rule,
                                 f"the document's {kind} add up to {found}, not their total {total}"))
    if a.line_items_sum_to_net and lines is not None and basis is not None:
        want = lines - (allowances or 0) + (charges or 0)
        if abs(want - basis) > tol:
            issues.append(_issue(Reason.LINE_ITEMS_MISMATCH, "net_amount", "BR-CO-13",
                                 f"lines {lines} - allowances {allowances or 0} + charges {charges or 0} is "
                                 f"{want}, not the net {basis}"))
    return issues


def vat(info: EInvoice, items: list[LineItem], a: Arithmetic) -> list[Issue]:
    """BR-CO-14 (the breakdown to the VAT total) and BR-x-09 (each rate's VAT of its basis)."""
    tol, issues, tax = a.tolerance, [], _d(info.tax_total)
    rated = [t for t in info.taxes if t.tax is not None]
    found = _sum([_d(t.tax) for t in rated])
    if tax is not None and rated and abs(found - tax) > tol:
        issues.append(_issue(Reason.TOTAL_MISMATCH, "tax_amount", "BR-CO-14",
                             f"the VAT breakdown adds up to {found}, not the VAT total {tax}"))
    for t in rated:
        t_basis, rate, t_tax = _d(t.basis), _d(t.rate), _d(t.tax)
        if t_basis is None or rate is None or t_tax is None:
            continue
        want = (t_basis * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        if abs(want - t_tax) > tol:
            issues.append(_issue(Reason.TOTAL_MISMATCH, "tax_amount", f"BR-{t.category or 'S'}-09",
                                 f"VAT at {rate}% of {t_basis} is {want}, not {t_tax}"))
    return issues


def totals(info: EInvoice, items: list[LineItem], a: Arithmetic) -> list[Issue]:
    """BR-CO-15 (net + VAT = total) and BR-CO-16 (total - prepaid + rounding = amount due)."""
    if not a.net_plus_tax_is_total:
        return []
    issues = []
    basis, tax, grand = _d(info.tax_basis_total), _d(info.tax_total), _d(info.grand_total)
    if basis is not None and tax is not None and grand is not None and abs(basis + tax - grand) > a.tolerance:
        issues.append(_issue(Reason.TOTAL_MISMATCH, "total_amount", "BR-CO-15",
                             f"net {basis} + VAT {tax} is not the total {grand}"))
    due, prepaid, rounding = _d(info.amount_due), _d(info.prepaid), _d(info.rounding)
    if due is not None and grand is not None:
        want = grand - (prepaid or 0) + (rounding or 0)
        if abs(want - due) > a.tolerance:
            issues.append(_issue(Reason.TOTAL_MISMATCH, "total_amount", "BR-CO-16",
                                 f"total {grand} - prepaid {prepaid or 0} + rounding {rounding or 0} is {want}, "
                                 f"not the amount due {due}"))
    return issues


RULES = [line_amounts, lines_to_net, vat, totals]


def check(info: EInvoice, items: list[LineItem], a: Arithmetic) -> list[Issue]:
    return [issue for rule in RULES for issue in rule(info, items, a)]
