"""Identifiers that pass their checksums, for synthetic vendors (IBANs and EU VAT ids)."""

from __future__ import annotations

import random

from services.vocabulary.identifiers import (
    IBAN_LENGTHS,
    _at,
    _de,
    _es_control,
    _fr_key,
    _gb_ok,
    _nl_ok,
    iban_checksum,
    iban_is_valid,
    vat_is_valid,
)

__all__ = ["iban_is_valid", "make_iban", "make_vat", "vat_is_valid"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def make_iban(rng: random.Random, country: str) -> str:
    length = IBAN_LENGTHS[country] - 4
    if country in ("GB", "IE", "NL"):
        bban = "".join(rng.choice(_LETTERS) for _ in range(4)) + _digits(rng, length - 4)
    elif country == "IT":
        bban = rng.choice(_LETTERS) + _digits(rng, length - 1)
    else:
        bban = _digits(rng, length)
    return f"{country}{iban_checksum(country, bban)}{bban}"


def make_vat(rng: random.Random, country: str) -> str:
    """A VAT id of ``country`` whose check digits are right (retrying the rare invalid draws)."""
    while True:
        match country:
            case "DE":
                body = _digits(rng, 8)
                vat = f"DE{body}{_de(body)}"
            case "AT":
                body = _digits(rng, 7)
                vat = f"ATU{body}{_at(body)}"
            case "FR":
                siren = str(rng.randint(100_000_000, 999_999_999))
                vat = f"FR{_fr_key(siren)}{siren}"
            case "NL":
                body = _digits(rng, 8)
                check = next((str(d) for d in range(10) if _nl_ok(body + str(d))), None)
                if check is None:
                    continue
                vat = f"NL{body}{check}B{rng.randint(1, 99):02d}"
            case "BE":
                base = "0" + _digits(rng, 7)
                vat = f"BE{base}{97 - int(base) % 97:02d}"
            case "GB":
                body = _digits(rng, 7)
                tail = next((f"{t:02d}" for t in range(100) if _gb_ok(body + f"{t:02d}")), None)
                if tail is None:
                    continue
                vat = f"GB{body}{tail}"
            case "ES":
                body = "B" + _digits(rng, 7)
                vat = f"ES{body}{_es_control(body + '0')}"
            case "IT":
                body = _digits(rng, 10)
                check = next(str(d) for d in range(10) if vat_is_valid(f"IT{body}{d}"))
                vat = f"IT{body}{check}"
            case _:
                raise ValueError(f"no VAT format for {country}")
        if vat_is_valid(vat):
            return vat
