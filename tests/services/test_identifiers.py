"""VAT ids and IBANs through python-stdnum: a valid and a corrupted id of every EU member state
(and of the countries beside the EU the invoices come from), IBANs of countries the hand-written
table did not list, national check digits inside a BBAN, and the generator's ids."""

from __future__ import annotations

import random

import pytest
from stdnum import iban

from services.synth.ids import make_iban, make_vat
from services.vocabulary.identifiers import iban_is_valid, vat_in_form, vat_is_valid

# One published valid id per scheme (python-stdnum's own examples), printed as invoices print them.
VALID_VAT = {
    "AT": "ATU 135 856 27", "BE": "BE 0403.019.261", "BG": "BG175074752", "CY": "CY10259033P", "CZ": "CZ25123891",
    "DE": "DE 136 695 976", "DK": "DK 13 58 56 28", "EE": "EE100931558", "EL": "EL094259216", "ES": "ES B58378431",
    "FI": "FI20774740", "FR": "FR 40 303 265 045", "HR": "HR33392005961", "HU": "HU12892312", "IE": "IE6433435F",
    "IT": "IT 00743110157", "LT": "LT119511515", "LU": "LU15027442", "LV": "LV40003521600", "MT": "MT11679112",
    "NL": "NL004495445B01", "PL": "PL 856-734-62-15", "PT": "PT501964843", "RO": "RO 185 472 90",
    "SE": "SE123456789701", "SI": "SI50223054", "SK": "SK2022749619", "XI": "XI980780684",
    "GB": "GB 980 7806 84", "CH": "CHE-107.787.577 MWST", "NO": "NO 995 525 828 MVA",
}
EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}


def _corrupted(value: str) -> str:
    """``value`` with one digit changed, in its form still, so that its check digits no longer hold."""
    for i in range(len(value) - 1, -1, -1):
        if value[i].isdigit():
            for d in "0123456789":
                other = value[:i] + d + value[i + 1:]
                if d != value[i] and vat_is_valid(other) is False and vat_in_form(other):
                    return other
    raise AssertionError(value)


def test_every_eu_member_state_is_covered() -> None:
    assert set(VALID_VAT) >= EU


@pytest.mark.parametrize("country", sorted(VALID_VAT))
def test_a_valid_vat_id_passes_and_a_changed_digit_fails(country: str) -> None:
    value = VALID_VAT[country]
    assert vat_is_valid(value) is True and vat_in_form(value) is True
    assert vat_is_valid(_corrupted(value)) is False  # in its form: the check digits alone refuse it


def test_the_cases_the_hand_written_checks_pinned() -> None:
    assert vat_is_valid("FR40303265045") and not vat_is_valid("FR41303265045")
    assert vat_is_valid("DE136695976") and not vat_is_valid("DE123456789")  # check digit 8, not 9
    assert vat_is_valid("GB293447138")
    assert iban_is_valid("DE24969811816785102541") and not iban_is_valid("DE24969811816785102542")
    assert iban_is_valid("de89 3704 0044 0532 0130 00")


def test_a_country_without_a_scheme_is_not_judged_and_a_malformed_id_is_out_of_form() -> None:
    assert vat_is_valid("US123456789") is None and vat_in_form("US123456789") is None
    assert vat_is_valid("DE12345678") is False and vat_in_form("DE12345678") is False  # eight digits
    assert vat_in_form("ELL094259216") is False


def test_ibans_of_every_registered_country_by_length_and_check_digits() -> None:
    for valid in ("GR16 0110 1250 0000 0001 2300 695", "GB29 NWBK 6016 1331 9268 19", "NO93 8601 1117 947",
                  "SA03 8000 0000 6080 1016 7519", "FR14 2004 1010 0505 0001 3M02 606"):
        assert iban_is_valid(valid), valid
    # Norway's IBAN is 15 characters: one more fails although the table used to know no Norway.
    assert not iban_is_valid("NO93 8601 1117 9471")
    assert not iban_is_valid("XX12 3456 7890 1234 5")  # no such country


def test_national_check_digits_inside_the_bban_are_checked() -> None:
    """A Belgian account number whose own check (mod 97 of its first ten digits) is wrong, in an
    IBAN whose ISO 13616 check digits are right: mod 97 alone took it."""
    good = make_iban(random.Random(3), "BE")
    bban = good[4:]
    bad_bban = bban[:10] + f"{(int(bban[10:]) + 1) % 100:02d}"
    bad = f"BE{iban.calc_check_digits('BE00' + bad_bban)}{bad_bban}"
    assert iban_is_valid(good) and not iban_is_valid(bad)
    assert int("".join(str(int(c, 36)) for c in bad[4:] + bad[:4])) % 97 == 1  # ISO 13616 holds


@pytest.mark.parametrize("country", ["AT", "BE", "DE", "ES", "FR", "GB", "IT", "NL"])
def test_the_generator_draws_ids_that_pass(country: str) -> None:
    rng = random.Random(country)
    assert all(vat_is_valid(make_vat(rng, country)) for _ in range(20))
    assert all(iban_is_valid(make_iban(rng, country)) for _ in range(20))
