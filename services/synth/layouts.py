"""Vendor layouts: who the vendor is and how its invoices look (labels, positions, formats).

Four layouts are written by hand (three with templates in rules/, one without); any number
more are drawn procedurally by ``procedural_layout`` from an index and a seed, each with its
own language, labels, formats, fonts and geometry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from services.synth import vocab
from services.synth.ids import make_iban, make_vat

COLUMNS = ("description", "quantity", "unit_price", "amount")


@dataclass(frozen=True)
class Layout:
    vendor_id: str
    vendor_name: str
    vendor_vat_id: str  # as printed
    vendor_iban: str
    address: tuple[str, ...]
    currency: str
    language: str
    date_format: str  # strftime, with {day} and {month} for spelled-out months
    decimal: str  # "." or ","
    thousands: str  # ",", ".", " " or ""
    labels: dict[str, str]
    columns: dict[str, str] = field(default_factory=dict)
    tax_rate: str = "0.20"
    # Look.
    font: str = "Vera"  # a family registered by render.py
    font_size: float = 9.5
    header_x: float = 50.0
    header_y: float = 60.0
    title_align: str = "right"  # right | left | center
    meta_x: float = 330.0
    meta_y: float = 110.0
    meta_style: str = "right"  # "right": value beside its label; "below": value under it
    meta_dx: float = 110.0
    label_suffix: str = ""
    currency_style: str = "code_after"  # code_after | symbol_before | symbol_after | field_only
    show_currency_field: bool = True
    column_order: tuple[str, ...] = COLUMNS
    table_y: float = 220.0
    totals_dx: float = 60.0
    iban_place: str = "footer"  # footer | header
    vat_place: str = "header"  # header | footer
    noise: bool = False  # customer number, delivery date, phone: numbers and dates that are not the answer
    notes: tuple[str, ...] = ()
    stamp: str | None = None
    optional_po: float = 0.7  # share of documents that print a purchase order
    optional_due: float = 1.0  # share that print a due date
    buyer: str = "none"  # where the buyer's name and address stand: none | left | right


NORTHWIND = Layout(
    vendor_id="northwind",
    vendor_name="Northwind Office Supplies Ltd",
    vendor_vat_id="GB 293 4471 38",
    vendor_iban="GB82WEST12345698765432",
    address=("12 Harbour Road", "Bristol BS1 4QA", "United Kingdom"),
    currency="GBP",
    language="en",
    date_format="%d/%m/%Y",
    decimal=".",
    thousands=",",
    labels={
        "title": "INVOICE", "invoice_number": "Invoice No:", "invoice_date": "Invoice Date:",
        "due_date": "Due Date:", "purchase_order": "PO Number:", "net_amount": "Subtotal",
        "tax_amount": "VAT 20%", "total_amount": "Total Due", "vat": "VAT Reg. No:", "iban": "IBAN:",
        "currency": "Currency:",
    },
    columns={"description": "Description", "quantity": "Qty", "unit_price": "Unit Price", "amount": "Amount"},
)

BERGMANN = Layout(
    vendor_id="bergmann",
    vendor_name="Bergmann Industrietechnik GmbH",
    vendor_vat_id="DE 811 907 980",
    vendor_iban="DE24969811816785102541",
    address=("Industriestraße 7", "70565 Stuttgart", "Deutschland"),
    currency="EUR",
    language="de",
    date_format="%d.%m.%Y",
    decimal=",",
    thousands=".",
    labels={
        "title": "RECHNUNG", "invoice_number": "Rechnungsnummer", "invoice_date": "Rechnungsdatum",
        "due_date": "Fällig am", "purchase_order": "Bestellnummer", "net_amount": "Nettobetrag",
        "tax_amount": "MwSt. 19%", "total_amount": "Gesamtbetrag", "vat": "USt-IdNr.", "iban": "IBAN",
        "currency": "Währung",
    },
    meta_x=360.0,
    meta_style="below",
    font_size=9.0,
    columns={"description": "Bezeichnung", "quantity": "Menge", "unit_price": "Einzelpreis", "amount": "Betrag"},
    tax_rate="0.19",
)

LUMIERE = Layout(
    vendor_id="lumiere",
    vendor_name="Lumière Conseil SARL",
    vendor_vat_id="FR 40 303 265 045",
    vendor_iban="FR1420041010050500013M02606",
    address=("8 rue des Lilas", "69003 Lyon", "France"),
    currency="EUR",
    language="fr",
    date_format="%d/%m/%Y",
    decimal=",",
    thousands=" ",
    labels={
        "title": "FACTURE", "invoice_number": "N° de facture :", "invoice_date": "Date de facture :",
        "due_date": "Échéance :", "purchase_order": "Bon de commande :", "net_amount": "Total HT",
        "tax_amount": "TVA 20 %", "total_amount": "Total TTC", "vat": "N° TVA :", "iban": "IBAN :",
        "currency": "Devise :",
    },
    header_x=60.0,
    meta_x=300.0,
    font_size=10.0,
    columns={"description": "Désignation", "quantity": "Qté", "unit_price": "Prix unitaire", "amount": "Montant HT"},
)

# A vendor with no template in rules/: its documents must reach the exception queue.
KESTREL = Layout(
    vendor_id="kestrel",
    vendor_name="Kestrel Logística S.L.",
    vendor_vat_id="ESB12345674",
    vendor_iban="ES9121000418450200051332",
    address=("Calle Mayor 21", "28013 Madrid", "España"),
    currency="EUR",
    language="es",
    date_format="%d/%m/%Y",
    decimal=",",
    thousands=".",
    labels={
        "title": "FACTURA", "invoice_number": "Número de factura:", "invoice_date": "Fecha:",
        "due_date": "Vencimiento:", "purchase_order": "Pedido:", "net_amount": "Base imponible",
        "tax_amount": "IVA 21%", "total_amount": "Total factura", "vat": "NIF:", "iban": "IBAN:",
        "currency": "Moneda:",
    },
    meta_x=320.0,
    columns={"description": "Concepto", "quantity": "Cantidad", "unit_price": "Precio", "amount": "Importe"},
    tax_rate="0.21",
)

LAYOUTS = {layout.vendor_id: layout for layout in (NORTHWIND, BERGMANN, LUMIERE)}
UNTEMPLATED = {KESTREL.vendor_id: KESTREL}

# Number conventions by language, most common first: (decimal, thousands).
_NUMBERS = {
    "en": ((".", ","), (".", ""), (".", ",")),
    "de": ((",", "."), (",", ""), (",", " ")),
    "fr": ((",", " "), (",", "."), (",", "")),
    "es": ((",", "."), (",", ""), (".", ",")),
    "nl": ((",", "."), (",", ""), (",", " ")),
}
_TAX = {"GB": "0.20", "DE": "0.19", "AT": "0.20", "FR": "0.20", "BE": "0.21", "ES": "0.21", "NL": "0.21"}
FONTS = ("Vera", "Helvetica", "Times", "Courier")


def procedural_layout(index: int, seed: int = 0) -> Layout:
    """Vendor number ``index`` of the synthetic world ``seed``: deterministic, distinct per index."""
    rng = random.Random(f"layout:{seed}:{index}")
    language = vocab.LANGUAGES[index % len(vocab.LANGUAGES)]
    country, country_name, suffixes = rng.choice(vocab.COUNTRIES[language])
    head = vocab.NAME_HEADS[(index * 7 + seed) % len(vocab.NAME_HEADS)]
    tail = vocab.NAME_TAILS[language][(index // len(vocab.LANGUAGES)) % len(vocab.NAME_TAILS[language])]
    name = f"{head} {tail} {rng.choice(suffixes)}"
    vat = make_vat(rng, country)
    labels = {key: rng.choice(options) for key, options in vocab.LABELS[language].items() if key != "note"}
    suffix = rng.choice(("", ":", ":"))
    decimal, thousands = rng.choice(_NUMBERS[language])
    currency = rng.choice(vocab.CURRENCIES[country])
    # Standard PDF fonts have no usable euro sign in reportlab: those layouts print codes.
    font = rng.choice(FONTS)
    styles = ("code_after", "symbol_before", "symbol_after", "field_only")
    currency_style = rng.choice(styles if font == "Vera" else ("code_after", "field_only"))
    order = list(COLUMNS[1:])
    rng.shuffle(order)
    meta_style = rng.choice(("right", "right", "below"))
    meta_x = rng.choice((50.0, 300.0, 330.0, 360.0)) if meta_style == "right" else rng.choice((300.0, 360.0, 400.0))
    meta_y = 195.0 if meta_x == 50.0 else rng.uniform(100, 130)
    rate = _TAX[country]
    return Layout(
        vendor_id=f"v{index:03d}",
        vendor_name=name,
        vendor_vat_id=_printed_vat(vat, rng),
        vendor_iban=make_iban(rng, country),
        address=(rng.choice(vocab.STREETS[language]).format(n=rng.randint(1, 120)),
                 rng.choice(vocab.CITIES[country]), country_name),
        currency=currency,
        language=language,
        date_format=rng.choice(vocab.DATE_PATTERNS[language]),
        decimal=decimal,
        thousands=thousands,
        labels=labels | {"tax_amount": f"{labels['tax_amount']} {int(float(rate) * 100)}%"},
        columns={c: labels[c] for c in COLUMNS},
        tax_rate=rate,
        font=font,
        font_size=rng.choice((8.0, 8.5, 9.0, 9.5, 10.0)),
        header_x=rng.choice((40.0, 50.0, 60.0)),
        header_y=rng.uniform(50, 70),
        title_align=rng.choice(("right", "left", "center")) if meta_x != 50.0 else "right",
        meta_x=meta_x,
        meta_y=meta_y,
        meta_style=meta_style,
        meta_dx=rng.choice((95.0, 110.0, 125.0)),
        label_suffix=suffix,
        currency_style=currency_style,
        show_currency_field=currency_style == "field_only" or rng.random() < 0.4,
        column_order=("description", *order) if rng.random() < 0.5 else COLUMNS,
        table_y=rng.uniform(235, 270),
        totals_dx=rng.choice((50.0, 70.0, 90.0)),
        # A grouped IBAN in the header is wide: only where the meta block leaves it room.
        iban_place=rng.choice(("footer", "header")) if meta_x in (50.0, 360.0, 400.0) else "footer",
        vat_place=rng.choice(("header", "footer")),
        noise=rng.random() < 0.7,
        notes=tuple(rng.sample(vocab.LABELS[language]["note"], k=rng.randint(0, 2))),
        stamp=rng.choice(vocab.STAMPS) if rng.random() < 0.25 else None,
        optional_po=rng.choice((0.0, 0.5, 0.9)),
        optional_due=rng.choice((0.6, 1.0)),
        buyer=rng.choice(("left", "left", "right", "none")) if meta_x != 50.0 else rng.choice(("right", "none")),
    )


def _printed_vat(vat: str, rng: random.Random) -> str:
    """VAT ids are printed compact or grouped, as vendors do."""
    if rng.random() < 0.5:
        return vat
    body = vat[2:]
    return f"{vat[:2]} " + " ".join(body[i:i + 3] for i in range(0, len(body), 3))


def vendor_layouts(count: int, seed: int = 0) -> list[Layout]:
    return [procedural_layout(i, seed) for i in range(count)]
