"""Identifiers that pass their checks, for synthetic vendors (IBANs and EU VAT ids): drawn in each
country's form and kept once python-stdnum (services/vocabulary/identifiers.py, what validation
asks) accepts them, so national check digits inside a BBAN or a SIREN hold too."""

from __future__ import annotations

import random

from stdnum import iban

from services.vocabulary.identifiers import iban_is_valid, vat_is_valid

__all__ = ["iban_is_valid", "make_iban", "make_vat", "vat_is_valid"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# The BBAN of each country the generator draws vendors in: its length and, where it starts with a
# bank code in letters, how many.
_BBAN = {"AT": (16, 0), "BE": (12, 0), "CH": (17, 0), "DE": (18, 0), "ES": (20, 0), "FR": (23, 0), "GB": (18, 4),
         "IE": (18, 4), "IT": (23, 1), "LU": (16, 0), "NL": (14, 4), "PL": (24, 0), "PT": (21, 0)}
# A VAT id as the country prints it: a fixed prefix, then digits (the first one not 0 where the
# scheme asks), then a fixed infix and more digits (the Netherlands' "B01").
_VAT = {"DE": ("DE", 9, True, "", 0), "AT": ("ATU", 8, False, "", 0), "FR": ("FR", 11, False, "", 0),
        "NL": ("NL", 9, False, "B", 2), "BE": ("BE0", 9, False, "", 0), "GB": ("GB", 9, False, "", 0),
        "ES": ("ESB", 8, False, "", 0), "IT": ("IT", 11, False, "", 0)}
_TRIES = 100_000


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def make_iban(rng: random.Random, country: str) -> str:
    length, letters = _BBAN[country]
    for _ in range(_TRIES):
        bban = "".join(rng.choice(_LETTERS) for _ in range(letters)) + _digits(rng, length - letters)
        candidate = f"{country}{iban.calc_check_digits(country + '00' + bban)}{bban}"
        if iban_is_valid(candidate):  # a country's own check digits inside the BBAN hold too
            return candidate
    raise ValueError(f"no valid IBAN of {country} drawn")


def make_vat(rng: random.Random, country: str) -> str:
    """A VAT id of ``country`` whose check digits are right."""
    if country not in _VAT:
        raise ValueError(f"no VAT format for {country}")
    prefix, digits, leading, infix, tail = _VAT[country]
    for _ in range(_TRIES):
        body = (rng.choice("123456789") + _digits(rng, digits - 1)) if leading else _digits(rng, digits)
        candidate = f"{prefix}{body}{infix}{_digits(rng, tail) if tail else ''}"
        if infix and candidate.endswith("00"):
            continue
        if vat_is_valid(candidate):
            return candidate
    raise ValueError(f"no valid VAT id of {country} drawn")
