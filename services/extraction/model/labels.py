"""The model's tag set: BIO over the header fields, and each field's value type."""

from __future__ import annotations

from services.contracts import HEADER_FIELDS

LABELS = ["O"] + [f"{prefix}-{field}" for field in HEADER_FIELDS for prefix in ("B", "I")]
LABEL_ID = {label: i for i, label in enumerate(LABELS)}
IGNORE = -100

FIELD_TYPES = {
    "vendor_name": "text", "vendor_vat_id": "vat_id", "vendor_iban": "iban", "invoice_number": "text",
    "invoice_date": "date", "due_date": "date", "purchase_order": "text", "currency": "currency",
    "net_amount": "amount", "tax_amount": "amount", "total_amount": "amount",
}


def field_of(label_id: int) -> str | None:
    label = LABELS[label_id]
    return None if label == "O" else label[2:]
