"""The identifiers on invoices, checked by python-stdnum: IBAN (ISO 13616 mod 97, the length of
every country that issues one, and the national check digits inside the BBAN where the country has
them) and VAT ids (every EU member state's scheme through stdnum.eu.vat, "EL" for Greece and "XI"
for Northern Ireland included; the United Kingdom, Switzerland, Norway and the other countries with
a scheme of their own through theirs).

Used by validation, by extraction (an id in its form is kept, its check digits are validation's
business) and by the synthetic generator, which makes ids that pass these checks.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from stdnum import iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.util import get_cc_module

if TYPE_CHECKING:
    from stdnum.util import NumberValidationModule

EU = frozenset(eu_vat.MEMBER_STATES) | {"el"}  # stdnum.eu.vat reads Greece's "EL" prefix


def compact(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def iban_is_valid(value: str) -> bool:
    return iban.is_valid(compact(value))


def vat_is_valid(value: str) -> bool | None:
    """True or False where the country's scheme is known; None for a country without one."""
    scheme = _scheme(compact(value)[:2])
    return None if scheme is None else bool(scheme.is_valid(compact(value)))


def vat_in_form(value: str) -> bool | None:
    """Whether ``value`` has its country's VAT id form (length, characters), whatever its check
    digits say; None for a country without a known scheme."""
    scheme = _scheme(compact(value)[:2])
    if scheme is None:
        return None
    try:
        scheme.validate(compact(value))
    except InvalidChecksum:
        return True
    except ValidationError:
        return False
    return True


@cache
def _scheme(country: str) -> NumberValidationModule | Any | None:
    country = country.lower()
    if not country.isalpha() or len(country) != 2:
        return None
    if country in EU:
        return eu_vat
    try:
        return get_cc_module(country, "vat")
    except (ImportError, ValueError):
        return None
