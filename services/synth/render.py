"""Render one synthetic invoice of a layout to PDF bytes, with its truth (the field values)."""

from __future__ import annotations

import io
import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from services.synth.layouts import Layout

# reportlab's built-in Helvetica draws "€" with zero width: embed a TTF that has every glyph.
_FONT_DIR = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
FONT, BOLD = "DocflowSans", "DocflowSans-Bold"
_registered = False

PRODUCTS = (
    "Printer paper A4 80g", "Toner cartridge black", "Ballpoint pens (box of 50)", "Desk lamp LED",
    "Office chair ergonomic", "Stapler heavy duty", "Ring binders A4", "Whiteboard markers",
    "Maintenance service (hours)", "Consulting day rate", "Cable ties 200mm", "Safety gloves size L",
    "Hydraulic hose 1/2 inch", "Shipping and handling", "Software licence annual", "Network switch 24-port",
)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Invoice:
    number: str
    issued: date
    due: date
    purchase_order: str | None
    items: list[tuple[str, Decimal, Decimal, Decimal]]  # description, quantity, unit price, amount
    net: Decimal
    tax: Decimal
    total: Decimal


def _register_fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont(FONT, os.path.join(_FONT_DIR, "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, os.path.join(_FONT_DIR, "VeraBd.ttf")))
        _registered = True


def make_invoice(layout: Layout, rng: random.Random, *, serial: int, items: int | None = None) -> Invoice:
    issued = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 600))
    rows = []
    for _ in range(items if items is not None else rng.randint(1, 6)):
        qty = Decimal(rng.randint(1, 12))
        price = (Decimal(rng.randint(150, 250000)) / 100).quantize(CENT)
        rows.append((rng.choice(PRODUCTS), qty, price, (qty * price).quantize(CENT)))
    net = sum((r[3] for r in rows), Decimal("0"))
    tax = (net * Decimal(layout.tax_rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Invoice(
        number=f"{layout.vendor_id[:3].upper()}-{issued.year}-{serial:05d}",
        issued=issued,
        due=issued + timedelta(days=rng.choice((14, 30, 45, 60))),
        purchase_order=f"PO-{rng.randint(100000, 999999)}" if rng.random() < 0.7 else None,
        items=rows,
        net=net,
        tax=tax,
        total=net + tax,
    )


def fmt_amount(value: Decimal, layout: Layout) -> str:
    sign = "-" if value < 0 else ""
    whole, frac = f"{abs(value):.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{layout.thousands.join(groups)}{layout.decimal}{frac}"


def fmt_qty(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral() else f"{value.normalize():f}"


def truth_of(layout: Layout, inv: Invoice) -> dict:
    return {
        "vendor_id": layout.vendor_id,
        "fields": {
            "vendor_name": layout.vendor_name,
            "vendor_vat_id": layout.vendor_vat_id.replace(" ", ""),
            "vendor_iban": layout.vendor_iban,
            "invoice_number": inv.number,
            "invoice_date": inv.issued.isoformat(),
            "due_date": inv.due.isoformat(),
            "purchase_order": inv.purchase_order,
            "currency": layout.currency,
            "net_amount": str(inv.net),
            "tax_amount": str(inv.tax),
            "total_amount": str(inv.total),
        },
        "line_items": [
            {"description": d, "quantity": str(q.quantize(CENT)), "unit_price": str(p), "amount": str(a)}
            for d, q, p, a in inv.items
        ],
    }


def render(layout: Layout, inv: Invoice) -> bytes:
    """The invoice as a PDF with a text layer; line items run onto further pages as needed."""
    _register_fonts()
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    pdf.setTitle(f"{layout.labels['title']} {inv.number}")
    width, height = A4
    size = layout.font_size
    lab = layout.labels

    def text(x: float, y: float, s: str, *, bold: bool = False, right: bool = False, fs: float = size) -> None:
        pdf.setFont(BOLD if bold else FONT, fs)
        (pdf.drawRightString if right else pdf.drawString)(x, height - y, s)

    # Vendor block, top left.
    text(layout.header_x, 60, layout.vendor_name, bold=True, fs=size + 4)
    for i, line in enumerate(layout.address):
        text(layout.header_x, 80 + i * (size + 3), line)
    text(layout.header_x, 80 + 3 * (size + 3), f"{lab['vat']} {layout.vendor_vat_id}")
    text(width - 50, 60, lab["title"], bold=True, right=True, fs=size + 8)

    # Invoice meta block.
    meta = [
        ("invoice_number", inv.number),
        ("invoice_date", inv.issued.strftime(layout.date_format)),
        ("due_date", inv.due.strftime(layout.date_format)),
        ("currency", layout.currency),
    ]
    if inv.purchase_order:
        meta.append(("purchase_order", inv.purchase_order))
    y = 110.0
    for key, value in meta:
        if layout.meta_style == "right":
            text(layout.meta_x, y, lab[key])
            text(layout.meta_x + 110, y, value)
            y += size + 6
        else:
            text(layout.meta_x, y, lab[key], bold=True)
            text(layout.meta_x, y + size + 2, value)
            y += 2 * size + 8

    # Line-item table.
    cols = layout.columns
    x_desc, x_qty, x_price, x_amount = layout.header_x, 330.0, 430.0, width - 50

    def table_header(y: float) -> float:
        text(x_desc, y, cols["description"], bold=True)
        text(x_qty, y, cols["quantity"], bold=True, right=True)
        text(x_price, y, cols["unit_price"], bold=True, right=True)
        text(x_amount, y, cols["amount"], bold=True, right=True)
        pdf.line(x_desc, height - y - 4, x_amount, height - y - 4)
        return y + size + 10

    y = table_header(max(y, 200.0) + 20)
    for desc, qty, price, amount in inv.items:
        if y > height - 120:
            pdf.showPage()
            y = table_header(60.0)
        text(x_desc, y, desc)
        text(x_qty, y, fmt_qty(qty), right=True)
        text(x_price, y, fmt_amount(price, layout), right=True)
        text(x_amount, y, fmt_amount(amount, layout), right=True)
        y += size + 6
    if y > height - 160:
        pdf.showPage()
        y = 60.0

    # Totals, right-aligned under the table.
    y += 12
    for key, value, bold in (
        ("net_amount", inv.net, False), ("tax_amount", inv.tax, False), ("total_amount", inv.total, True),
    ):
        text(x_price - 60, y, lab[key], bold=bold)
        text(x_amount, y, f"{fmt_amount(value, layout)} {layout.currency}", bold=bold, right=True)
        y += size + 6

    text(layout.header_x, height - 60, f"{lab['iban']} {layout.vendor_iban}", fs=size - 1)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def generate(layout: Layout, seed: int, serial: int, *, items: int | None = None) -> tuple[bytes, dict]:
    """One invoice of ``layout``: deterministic for (layout, seed, serial)."""
    rng = random.Random(f"{layout.vendor_id}:{seed}:{serial}")
    inv = make_invoice(layout, rng, serial=serial, items=items)
    return render(layout, inv), truth_of(layout, inv)
