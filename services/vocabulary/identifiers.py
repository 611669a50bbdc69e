"""Check digits of the identifiers on invoices: IBAN (ISO 13616, mod 97) and EU VAT ids.

Used by validation and by the synthetic generator, which makes ids that pass these checks.
"""

from __future__ import annotations

import re

IBAN_LENGTHS = {"AT": 20, "BE": 16, "CH": 21, "DE": 22, "ES": 24, "FR": 27, "GB": 22, "IE": 22, "IT": 27,
                "LU": 20, "NL": 18, "PL": 28, "PT": 25}


def compact(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def iban_checksum(country: str, bban: str) -> str:
    number = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
    return f"{98 - number % 97:02d}"


def iban_is_valid(value: str) -> bool:
    iban = compact(value)
    if len(iban) < 15 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    if IBAN_LENGTHS.get(iban[:2], len(iban)) != len(iban):
        return False
    return int("".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])) % 97 == 1


def _de(digits: str) -> str:
    product = 10
    for d in digits[:8]:
        total = (int(d) + product) % 10 or 10
        product = (2 * total) % 11
    check = 11 - product
    return "0" if check == 10 else str(check % 10)


def _at(digits: str) -> str:
    total = 0
    for i, d in enumerate(digits[:7]):
        x = int(d) * (2 if i % 2 else 1)
        total += x // 10 + x % 10
    return str((10 - (total + 4) % 10) % 10)


def _fr_key(siren: str) -> str:
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"


def _nl_ok(digits: str) -> bool:
    return sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) % 11 == int(digits[8]) % 11


def _be_ok(digits: str) -> bool:
    return 97 - int(digits[:8]) % 97 == int(digits[8:])


def _gb_ok(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True)) + int(digits[7:9])
    return total % 97 == 0 or (total + 55) % 97 == 0


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        x = int(d) * (2 if i % 2 else 1)
        total += x - 9 if x > 9 else x
    return total % 10 == 0


def _es_control(body: str) -> int:
    digits = body[1:8]
    even = sum(int(d) for d in digits[1::2])
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
    return (10 - (even + odd) % 10) % 10


VAT_FORMATS = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "DE": r"\d{9}", "ES": r"[A-Z]\d{7}[0-9A-J]", "FR": r"\d{2}\d{9}",
    "GB": r"\d{9}", "IT": r"\d{11}", "NL": r"\d{9}B\d{2}",
}


def vat_is_valid(value: str) -> bool | None:
    """True or False where the country's check digits are known; None for other countries."""
    vat = compact(value)
    country, body = vat[:2], vat[2:]
    pattern = VAT_FORMATS.get(country)
    if pattern is None:
        return None
    if not re.fullmatch(pattern, body):
        return False
    match country:
        case "DE":
            return _de(body) == body[8]
        case "AT":
            return _at(body[1:]) == body[8]
        case "FR":
            return _fr_key(body[2:]) == body[:2]
        case "NL":
            return _nl_ok(body[:9])
        case "BE":
            return _be_ok(body)
        case "GB":
            return _gb_ok(body)
        case "IT":
            return _luhn_ok(body)
        case "ES":
            control = _es_control(body)
            return body[8] in (str(control), "JABCDEFGHI"[control])
    return None
