"""What the CII and UBL readers share: a safe parse with the namespaces dropped (ZUGFeRD 1.0,
2.x, Factur-X and XRechnung name the same elements under different namespace versions), and
the value forms of the standard (decimals, dates in format 102 or ISO)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from services.contracts import AllowanceCharge, EInvoice, LineItem, TaxBreakdown

MAX_XML_BYTES = 20 * 1024 * 1024
MAX_LINES = 20_000  # an e-invoice with more lines is read for its header, its lines cut here


class NotAnInvoice(ValueError):
    """The attachment is XML, but of no e-invoice syntax this reader knows."""


@dataclass
class Reading:
    """An e-invoice as read: the header fields (docflow's names, normal forms), the lines, and
    what the standard's own calculation rules need."""

    fields: dict[str, str]
    items: list[LineItem]
    info: EInvoice
    buyer_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def parse(xml: bytes) -> Any:
    """The document element with every tag as its local name; no entities, no network, no DTD."""
    from lxml import etree

    if len(xml) > MAX_XML_BYTES:
        raise NotAnInvoice(f"the e-invoice XML is {len(xml)} bytes, over {MAX_XML_BYTES}")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                             remove_comments=True, remove_pis=True)
    root = etree.fromstring(xml, parser)
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = etree.QName(el).localname
    return root


def text(node: Any, path: str) -> str | None:
    """The stripped text of the first element at ``path`` (alternatives with ``|``), or None."""
    if node is None:
        return None
    for found in node.xpath(path):
        value = found.text if hasattr(found, "text") else str(found)
        if value and value.strip():
            return " ".join(value.split())
    return None


def first(node: Any, path: str) -> Any:
    found = node.xpath(path) if node is not None else []
    return found[0] if found else None


def decimal(value: str | None) -> str | None:
    """A decimal as the XML wrote it, without exponent or trailing zeros beyond the cents."""
    if value is None:
        return None
    try:
        d = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    return format(d.quantize(Decimal("0.01")) if d == d.quantize(Decimal("0.01")) else d.normalize(), "f")


def amount(value: str | None) -> str | None:
    """A monetary amount to the cent (BT-106 ... BT-115 carry two decimals)."""
    found = decimal(value)
    return None if found is None else str(Decimal(found).quantize(Decimal("0.01")))


def date(value: str | None) -> str | None:
    """Format 102 (YYYYMMDD) or ISO 8601 to ISO."""
    if value is None:
        return None
    compact = value.strip()
    if re.fullmatch(r"\d{8}", compact):
        return f"{compact[:4]}-{compact[4:6]}-{compact[6:]}"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", compact):
        return compact[:10]
    return None


def identifier(value: str | None) -> str | None:
    return re.sub(r"\s", "", value).upper() if value else None


def allowance_charge(charge: bool, amount_: str | None, reason: str | None, category: str | None,
                     rate: str | None) -> AllowanceCharge | None:
    found = amount(amount_)
    if found is None:
        return None
    return AllowanceCharge(charge=charge, amount=found, reason=reason, tax_category=category, tax_rate=decimal(rate))


def tax(category: str | None, rate: str | None, basis: str | None, calculated: str | None) -> TaxBreakdown:
    return TaxBreakdown(category=category, rate=decimal(rate), basis=amount(basis), tax=amount(calculated))


def line_allowances_charges(nodes: list, amount_path: str, indicator_path: str) -> tuple[str | None, str | None]:
    """A line's allowances and its charges (BG-27, BG-28), each summed; None where it has none."""
    allowances: list[Decimal] = []
    charges: list[Decimal] = []
    for node in nodes:
        value = amount(text(node, amount_path))
        if value is not None:
            (charges if is_true(text(node, indicator_path)) else allowances).append(Decimal(value))
    return tuple(str(sum(v, Decimal("0.00"))) if v else None for v in (allowances, charges))  # type: ignore[return-value]


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1")


CREDIT_NOTE_CODES = frozenset({"381", "261", "262", "296", "308", "396", "420", "458", "532"})
