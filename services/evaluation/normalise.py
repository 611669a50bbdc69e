"""The comparison rules of `docflow eval`, one function per kind of field.

Written down in docs/evaluation.md; every rule has a test. Each returns the comparable
form of a value, or None when there is no value.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from services.vocabulary.normalise import normalise_amount, normalise_currency, normalise_date

LEGAL_SUFFIXES = frozenset(
    """
    gmbh ag kg ohg ug ek ev gbr mbh co sa sas sarl sasu eurl sl slu bv nv vof
    ltd limited plc inc llc llp corp srl spa sp zoo oy ab as aps sprl bvba cv
    """.split()  # noqa: SIM905
)
CENT = Decimal("0.01")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def amount(value: object) -> str | None:
    """Decimal to the cent; printed forms ('1.234,56') are accepted too."""
    if _blank(value):
        return None
    text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        try:
            number = Decimal(normalise_amount(text))
        except ValueError:
            return f"invalid:{text}"
    return str(number.quantize(CENT, rounding=ROUND_HALF_UP))


def iso_date(value: object) -> str | None:
    if _blank(value):
        return None
    try:
        return normalise_date(str(value))
    except ValueError:
        return f"invalid:{value}"


def currency(value: object) -> str | None:
    if _blank(value):
        return None
    try:
        return normalise_currency(str(value))
    except ValueError:
        return f"invalid:{value}"


def compact(value: object) -> str | None:
    """IBANs, VAT ids, invoice and order numbers: no spaces or punctuation, upper case."""
    if _blank(value):
        return None
    return re.sub(r"[\W_]", "", str(value)).upper() or None


def name(value: object) -> str | None:
    """Case, accents, punctuation and legal suffixes (GmbH, SARL, Ltd, ...) ignored."""
    if _blank(value):
        return None
    text = unicodedata.normalize("NFKD", str(value).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = [w for w in re.sub(r"[^\w\s]", " ", text).split() if w not in LEGAL_SUFFIXES]
    return " ".join(words) or None


def names_match(truth: str, pred: str) -> bool:
    """Vendor names match when one contains the other after ``name``: the real corpus's truth
    sometimes carries a prefix (a GLN number) that the page does not print."""
    return truth == pred or (len(pred) >= 3 and (pred in truth or truth in pred))


def text(value: object) -> str | None:
    if _blank(value):
        return None
    return " ".join(str(value).casefold().split()).strip(" .,:;") or None


FIELD_RULES = {
    "vendor_name": name,
    "vendor_vat_id": compact,
    "vendor_iban": compact,
    "invoice_number": compact,
    "invoice_date": iso_date,
    "due_date": iso_date,
    "purchase_order": compact,
    "currency": currency,
    "net_amount": amount,
    "tax_amount": amount,
    "total_amount": amount,
}
ITEM_RULES = {"description": text, "quantity": amount, "unit_price": amount, "amount": amount}


def same(field: str, truth: str | None, pred: str | None) -> bool:
    if truth is None or pred is None:
        return truth is pred
    if field == "vendor_name":
        return names_match(truth, pred)
    return truth == pred
