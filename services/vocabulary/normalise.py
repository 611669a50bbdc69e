"""Normalisers: raw text to the field schema (ISO dates, decimal strings, ISO 4217, compact ids).

Each takes the raw text and the template's options and returns the normal form, or
raises ``ValueError`` when the text is not a value of that kind.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from services.vocabulary.currencies import ISO_4217, SYMBOLS

_DATE_FORMATS = (
    "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%d %B %Y", "%d %b %Y",
    "%B %d, %Y", "%b %d, %Y", "%d.%m.%y", "%Y/%m/%d",
)
_MONTHS = {
    # German, French, Spanish, Dutch month names to English, for strptime's %B.
    "januar": "January", "februar": "February", "märz": "March", "maerz": "March", "mai": "May",
    "juni": "June", "juli": "July", "oktober": "October", "dezember": "December",
    "janvier": "January", "février": "February", "fevrier": "February", "mars": "March",
    "avril": "April", "juin": "June", "juillet": "July", "août": "August", "aout": "August",
    "septembre": "September", "octobre": "October", "novembre": "November", "décembre": "December",
    "enero": "January", "febrero": "February", "marzo": "March", "abril": "April", "mayo": "May",
    "junio": "June", "julio": "July", "agosto": "August", "septiembre": "September",
    "octubre": "October", "noviembre": "November", "diciembre": "December",
    "januari": "January", "februari": "February", "maart": "March", "mei": "May",
    "augustus": "August",
}


def normalise_date(raw: str, formats: list[str] | None = None) -> str:
    """'27/01/2026', '27.01.26', 'January 27, 2026', '27. Januar 2026', '27 de enero de 2026' to ISO."""
    text = " ".join(raw.strip().rstrip(".,;").split())
    text = re.sub(r"\b(de|del)\b", " ", text, flags=re.IGNORECASE)  # Spanish "27 de enero de 2026"
    text = re.sub(r"(\d)\.\s", r"\1 ", text)  # German "27. Januar 2026"
    text = " ".join(_MONTHS.get(word.lower(), word) for word in text.split())
    for fmt in (*(formats or ()), *_DATE_FORMATS):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"not a date: {raw!r}")


def normalise_amount(raw: str, decimal_separator: str | None = None) -> str:
    """'1.234,56' / '1,234.56' / '1 234,56' / '-12.00' / '(12.00)' to '1234.56'."""
    text = raw.strip()
    negative = text.startswith("-") or text.endswith("-") or (text.startswith("(") and text.endswith(")"))
    digits = re.sub(r"[^0-9.,]", "", text)
    if not re.search(r"\d", digits):
        raise ValueError(f"not an amount: {raw!r}")
    sep = decimal_separator or _guess_decimal_separator(digits)
    digits = digits.replace(".", "").replace(",", ".") if sep == "," else digits.replace(",", "")
    if len(digits.replace(".", "")) > 15:  # a trillion with cents: longer digit runs are ids, not amounts
        raise ValueError(f"not an amount: {raw!r}")
    try:
        value = Decimal(digits)
        value = -value if negative else value
        return str(value.quantize(Decimal("0.01")))
    except InvalidOperation:
        raise ValueError(f"not an amount: {raw!r}") from None


def _guess_decimal_separator(digits: str) -> str:
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        return "." if last_dot > last_comma else ","
    last = max(last_dot, last_comma)
    # One kind of separator: three digits after it reads as thousands, anything else as decimals.
    if last >= 0 and digits.count(digits[last]) == 1 and len(digits) - last - 1 != 3:
        return digits[last]
    return "."


def adds_up(net: str | None, tax: str | None, total: str | None) -> bool:
    """Normalised amounts whose net + tax is the total, exactly (False if one is missing or no amount)."""
    try:
        return Decimal(net) + Decimal(tax) == Decimal(total)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError):
        return False


def normalise_currency(raw: str, default: str | None = None) -> str:
    text = raw.strip()
    upper = text.upper()
    for code in re.findall(r"[A-Z]{3}", upper):
        if code in ISO_4217:
            return code
    for symbol, code in SYMBOLS.items():
        if symbol in text:
            return code
    if default:
        return default
    raise ValueError(f"not a currency: {raw!r}")


def normalise_compact(raw: str) -> str:
    """IBANs and VAT ids: upper case, no spaces or punctuation."""
    compact = re.sub(r"[^0-9A-Za-z]", "", raw).upper()
    if not compact:
        raise ValueError("empty identifier")
    return compact


def normalise_text(raw: str) -> str:
    text = " ".join(raw.split()).strip(" :;,")
    if not text:
        raise ValueError("empty text")
    return text


def parse_iso_date(value: str) -> date:
    return date.fromisoformat(value)


NORMALISERS = {
    "text": lambda raw, opts: normalise_text(raw),
    "date": lambda raw, opts: normalise_date(raw, opts.date_formats),
    "amount": lambda raw, opts: normalise_amount(raw, opts.decimal_separator),
    "currency": lambda raw, opts: normalise_currency(raw, opts.currency),
    "iban": lambda raw, opts: normalise_compact(raw),
    "vat_id": lambda raw, opts: normalise_compact(raw),
}
