"""Render one synthetic invoice of a layout to PDF bytes, with its truth.

The truth holds every field value in the schema's normal form and, for every value printed,
the page, the box and the words that carry it (boxes in pdfplumber's frame: points, origin
top-left), so token-level training labels can be built from it.
"""

from __future__ import annotations

import io
import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from services.synth import vocab
from services.synth.layouts import Layout

_FONT_DIR = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
# reportlab's built-in Helvetica draws "€" with zero width: the Vera family is embedded TTF.
FAMILIES = {
    "Vera": ("DocflowSans", "DocflowSans-Bold"),
    "Helvetica": ("Helvetica", "Helvetica-Bold"),
    "Times": ("Times-Roman", "Times-Bold"),
    "Courier": ("Courier", "Courier-Bold"),
}
CENT = Decimal("0.01")
_registered = False


def _register_fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont("DocflowSans", os.path.join(_FONT_DIR, "Vera.ttf")))
        pdfmetrics.registerFont(TTFont("DocflowSans-Bold", os.path.join(_FONT_DIR, "VeraBd.ttf")))
        _registered = True


@dataclass(frozen=True)
class Invoice:
    number: str
    issued: date
    due: date | None
    purchase_order: str | None
    items: list[tuple[str, Decimal, Decimal, Decimal]]  # description, quantity, unit price, amount
    net: Decimal
    tax: Decimal
    total: Decimal
    customer: str
    delivered: date


def make_invoice(layout: Layout, rng: random.Random, *, serial: int, items: int | None = None) -> Invoice:
    issued = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 900))
    rows = []
    count = items if items is not None else min(40, max(1, int(rng.expovariate(1 / 5)) + 1))
    products = vocab.PRODUCTS[layout.language]
    for _ in range(count):
        qty = Decimal(rng.choice((1, 1, 2, 3, 4, 5, 6, 10, 12, 24, 50)))
        price = (Decimal(rng.randint(50, 250000)) / 100).quantize(CENT)
        rows.append((rng.choice(products), qty, price, (qty * price).quantize(CENT)))
    net = sum((r[3] for r in rows), Decimal("0"))
    tax = (net * Decimal(layout.tax_rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    prefix = layout.vendor_id[:3].upper()
    # A vendor numbers its invoices one way; vendors differ.
    number_style = sum(map(ord, layout.vendor_id)) % 3 if layout.vendor_id.startswith("v") else 0
    number = (f"{prefix}-{issued.year}-{serial:05d}", f"{issued.year}{serial:06d}", f"R{serial:07d}")[number_style]
    return Invoice(
        number=number,
        issued=issued,
        due=issued + timedelta(days=rng.choice((14, 30, 45, 60))) if rng.random() < layout.optional_due else None,
        purchase_order=f"PO-{rng.randint(100000, 999999)}" if rng.random() < layout.optional_po else None,
        items=rows,
        net=net,
        tax=tax,
        total=net + tax,
        customer=str(rng.randint(10000, 99999)),
        delivered=issued - timedelta(days=rng.randint(1, 20)),
    )


def fmt_amount(value: Decimal, layout: Layout) -> str:
    sign = "-" if value < 0 else ""
    whole, frac = f"{abs(value):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{layout.thousands.join(groups)}{layout.decimal}{frac}"


def fmt_money(value: Decimal, layout: Layout) -> str:
    amount = fmt_amount(value, layout)
    symbol = vocab.SYMBOLS.get(layout.currency, layout.currency)
    return {
        "code_after": f"{amount} {layout.currency}",
        "symbol_before": f"{symbol} {amount}",
        "symbol_after": f"{amount} {symbol}",
        "field_only": amount,
    }[layout.currency_style]


def fmt_qty(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral() else f"{value.normalize():f}"


def fmt_date(value: date, layout: Layout) -> str:
    month = vocab.MONTHS[layout.language][value.month - 1]
    return value.strftime(layout.date_format.replace("{day}", str(value.day)).replace("{month}", month))


def truth_of(layout: Layout, inv: Invoice) -> dict:
    return {
        "vendor_id": layout.vendor_id,
        "language": layout.language,
        "fields": {
            "vendor_name": layout.vendor_name,
            "vendor_vat_id": layout.vendor_vat_id.replace(" ", ""),
            "vendor_iban": layout.vendor_iban,
            "invoice_number": inv.number,
            "invoice_date": inv.issued.isoformat(),
            "due_date": inv.due.isoformat() if inv.due else None,
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


class _Page:
    """Draws on the canvas with top-left coordinates and records where labelled values went."""

    def __init__(self, pdf: canvas.Canvas, layout: Layout, labels: list[dict]):
        self.pdf, self.layout, self.labels = pdf, layout, labels
        self.regular, self.bold = FAMILIES[layout.font]
        self.number = 1
        self.width, self.height = A4

    def text(self, x: float, y: float, s: str, *, bold: bool = False, align: str = "left",
             size: float | None = None, field: str | None = None, value: str | None = None) -> float:
        """Draw ``s`` with its baseline ``y`` points from the top; returns the right edge."""
        font, fs = (self.bold if bold else self.regular), size or self.layout.font_size
        width = pdfmetrics.stringWidth(s, font, fs)
        x0 = {"left": x, "right": x - width, "center": x - width / 2}[align]
        self.pdf.setFont(font, fs)
        self.pdf.drawString(x0, self.height - y, s)
        if field is not None:
            self.labels.append(self._label(field, value, s, x0, y, font, fs))
        return x0 + width

    def _label(self, field: str, value: str | None, s: str, x0: float, y: float, font: str, fs: float) -> dict:
        # pdfminer's glyph box runs from descent to descent + size around the baseline.
        descent = -pdfmetrics.getDescent(font, fs) if font in FAMILIES["Vera"] else -_std_descent(font, fs)
        top, bottom = y + descent - fs, y + descent
        words: list[dict[str, Any]] = []
        cursor = x0
        for i, word in enumerate(s.split(" ")):
            if i:
                cursor += pdfmetrics.stringWidth(" ", font, fs)
            w = pdfmetrics.stringWidth(word, font, fs)
            if word:
                words.append({"text": word, "bbox": _r((cursor, top, cursor + w, bottom))})
            cursor += w
        box = (words[0]["bbox"][0], top, words[-1]["bbox"][2], bottom)
        return {"field": field, "value": value, "text": s, "page": self.number, "bbox": _r(box), "words": words}

    def new_page(self) -> None:
        self.pdf.showPage()
        self.number += 1


def _std_descent(font: str, fs: float) -> float:
    face = pdfmetrics.getFont(font).face
    return face.descent * fs / 1000


def _r(box: tuple[float, ...]) -> list[float]:
    return [round(v, 2) for v in box]


def render(layout: Layout, inv: Invoice, rng: random.Random | None = None) -> tuple[bytes, list[dict]]:
    """The invoice as a PDF with a text layer, and the boxes of its labelled values."""
    _register_fonts()
    rng = rng or random.Random(inv.number)
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    lab = layout.labels
    pdf.setTitle(f"{lab['title']} {inv.number}")
    labels: list[dict] = []
    p = _Page(pdf, layout, labels)
    size, sfx = layout.font_size, layout.label_suffix
    jitter = rng.uniform(-3, 3)  # the same vendor's documents differ a little

    def lbl(key: str) -> str:
        text = lab[key]
        return text if text.endswith(":") or not sfx else text + sfx

    # Vendor block.
    y = layout.header_y + jitter
    p.text(layout.header_x, y, layout.vendor_name, bold=True, size=size + 4, field="vendor_name",
           value=layout.vendor_name)
    for i, line in enumerate(layout.address):
        p.text(layout.header_x, y + 18 + i * (size + 3), line)
    y_info = y + 18 + len(layout.address) * (size + 3)
    if layout.vat_place == "header":
        end = p.text(layout.header_x, y_info, lbl("vat"))
        p.text(end + 4, y_info, layout.vendor_vat_id, field="vendor_vat_id",
               value=layout.vendor_vat_id.replace(" ", ""))
        y_info += size + 3
    if layout.iban_place == "header":
        end = p.text(layout.header_x, y_info, lbl("iban"))
        p.text(end + 4, y_info, _group4(layout.vendor_iban), field="vendor_iban", value=layout.vendor_iban)
        y_info += size + 3
    if layout.noise:
        p.text(layout.header_x, y_info, f"{lab['phone']} +{rng.randint(30, 49)} {rng.randint(100, 999)} "
                                        f"{rng.randint(1000000, 9999999)}")
    title_x = {"right": p.width - 50, "left": layout.header_x, "center": p.width / 2}[layout.title_align]
    title_y = 40.0 if layout.title_align != "right" else layout.header_y + jitter
    p.text(title_x, title_y, lab["title"], bold=True, size=size + 8, align=layout.title_align)

    # Invoice meta block: label/value pairs, with noise that is not the answer.
    meta: list[tuple[str, str, str | None, str | None]] = [
        ("invoice_number", inv.number, "invoice_number", inv.number),
        ("invoice_date", fmt_date(inv.issued, layout), "invoice_date", inv.issued.isoformat()),
    ]
    if inv.due:
        meta.append(("due_date", fmt_date(inv.due, layout), "due_date", inv.due.isoformat()))
    if layout.noise:
        meta.append(("customer", inv.customer, None, None))
        meta.append(("delivery", fmt_date(inv.delivered, layout), None, None))
    if layout.show_currency_field:
        meta.append(("currency", layout.currency, "currency", layout.currency))
    if inv.purchase_order:
        meta.append(("purchase_order", inv.purchase_order, "purchase_order", inv.purchase_order))
    y = layout.meta_y + jitter
    # Values stand right of the longest label, however long the vendor's wording.
    dx = max(layout.meta_dx, 10 + max(pdfmetrics.stringWidth(lbl(k), p.regular, size) for k, *_ in meta))
    for key, printed, field, value in meta:
        if layout.meta_style == "right":
            p.text(layout.meta_x, y, lbl(key))
            p.text(layout.meta_x + dx, y, printed, field=field, value=value)
            y += size + 6
        else:
            p.text(layout.meta_x, y, lab[key], bold=True)
            p.text(layout.meta_x, y + size + 2, printed, field=field, value=value)
            y += 2 * size + 8

    if layout.buyer != "none":
        # The buyer's block: a company name and address that are not the vendor's. Left under the
        # vendor when the meta block stands right; otherwise under the meta block.
        buyer = (rng.choice(vocab.BUYER_NAMES) + " " + rng.choice(("GmbH", "Ltd", "SA", "B.V.", "S.L.", ""))).strip()
        buyer_labels = vocab.BUYER_LABELS[layout.language]
        left = layout.buyer == "left" and layout.meta_x >= 300
        bx, by = (layout.header_x, max(y_info + 26, 150.0)) if left else (max(layout.meta_x, 300.0), y + 14)
        p.text(bx, by, buyer_labels[rng.randrange(len(buyer_labels))], bold=True, size=size - 0.5)
        p.text(bx, by + size + 4, buyer)
        p.text(bx, by + 2 * (size + 4), rng.choice(vocab.STREETS[layout.language]).format(n=rng.randint(1, 99)))
        buyer_bottom = by + 3 * (size + 4)
    else:
        buyer_bottom = 0.0

    # Line-item table: description left, numbers right-aligned in their columns.
    order = layout.column_order
    right_edges = {name: x for name, x in zip(order[1:], (340.0, 440.0, p.width - 50), strict=True)}
    x_desc = layout.header_x

    def header(y: float) -> float:
        for name in order:
            if name == "description":
                p.text(x_desc, y, layout.columns[name], bold=True)
            else:
                p.text(right_edges[name], y, layout.columns[name], bold=True, align="right")
        pdf.line(x_desc, p.height - y - 4, p.width - 50, p.height - y - 4)
        return y + size + 10

    y = header(max(y + 20, layout.table_y + jitter, buyer_bottom + 24))
    for n, (desc, qty, price, amount) in enumerate(inv.items):
        if y > p.height - 110:
            p.new_page()
            y = header(60.0)
        cells = {"description": (desc, desc), "quantity": (fmt_qty(qty), str(qty.quantize(CENT))),
                 "unit_price": (fmt_amount(price, layout), str(price)),
                 "amount": (fmt_amount(amount, layout), str(amount))}
        for name in order:
            printed, value = cells[name]
            x, align = (x_desc, "left") if name == "description" else (right_edges[name], "right")
            p.text(x, y, printed, align=align, field=f"line_items.{n}.{name}", value=value)
        y += size + 6
    if y > p.height - 150:
        p.new_page()
        y = 60.0

    # Totals, under the table on the right.
    y += 12
    label_x = 440.0 - layout.totals_dx - 40
    for key, amount, bold in (("net_amount", inv.net, False), ("tax_amount", inv.tax, False),
                              ("total_amount", inv.total, True)):
        p.text(label_x, y, lbl(key), bold=bold)
        p.text(p.width - 50, y, fmt_money(amount, layout), bold=bold, align="right", field=key, value=str(amount))
        y += size + 6

    # Notes, stamp, footer.
    for note in layout.notes:
        y += size + 4
        p.text(layout.header_x, y, note, size=size - 0.5)
    if layout.stamp and y + 70 < p.height - 70:
        # Under the totals, clear of any value (a stamp over a value would hide it from the reader).
        pdf.saveState()
        pdf.setFillColorRGB(0.8, 0.1, 0.1)
        pdf.translate(380, p.height - (y + 60))
        pdf.rotate(18)
        pdf.setFont(p.bold, 28)
        pdf.drawString(0, 0, layout.stamp)
        pdf.restoreState()
    footer_y = p.height - 50
    parts = [layout.vendor_name]
    end = p.text(layout.header_x, footer_y, " · ".join(parts), size=size - 1.5)
    if layout.iban_place == "footer":
        end = p.text(end + 10, footer_y, lbl("iban"), size=size - 1.5)
        p.text(end + 4, footer_y, layout.vendor_iban, size=size - 1.5, field="vendor_iban", value=layout.vendor_iban)
    if layout.vat_place == "footer":
        y2 = footer_y + size
        end = p.text(layout.header_x, y2, lbl("vat"), size=size - 1.5)
        p.text(end + 4, y2, layout.vendor_vat_id, size=size - 1.5, field="vendor_vat_id",
               value=layout.vendor_vat_id.replace(" ", ""))
    pdf.showPage()
    pdf.save()
    return buf.getvalue(), labels


def _group4(iban: str) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def generate(layout: Layout, seed: int, serial: int, *, items: int | None = None) -> tuple[bytes, dict]:
    """One invoice of ``layout``: deterministic for (layout, seed, serial)."""
    rng = random.Random(f"{layout.vendor_id}:{seed}:{serial}")
    inv = make_invoice(layout, rng, serial=serial, items=items)
    pdf, labels = render(layout, inv, rng)
    truth = truth_of(layout, inv)
    truth["labels"] = labels
    return pdf, truth
