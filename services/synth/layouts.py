"""Vendor layouts: who the vendor is and how its invoices look (labels, positions, formats)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layout:
    vendor_id: str
    vendor_name: str
    vendor_vat_id: str
    vendor_iban: str
    address: tuple[str, ...]
    currency: str
    language: str
    date_format: str
    decimal: str  # "." or ","
    thousands: str  # ",", ".", " " or ""
    labels: dict[str, str]
    header_x: float = 50.0  # where the header block (label + value) starts
    meta_x: float = 330.0  # where the invoice meta block starts
    meta_style: str = "right"  # "right": value beside label; "below": value under label
    font_size: float = 9.5
    columns: dict[str, str] = field(default_factory=dict)
    tax_rate: str = "0.20"


NORTHWIND = Layout(
    vendor_id="northwind",
    vendor_name="Northwind Office Supplies Ltd",
    vendor_vat_id="GB 293 4471 86",
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
    vendor_iban="DE89370400440532013000",
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
