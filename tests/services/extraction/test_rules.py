"""Extraction: normalisers and the rules engine, against synthetic invoices with known truth."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.contracts import ClassifiedDocument, DocumentRef
from services.detection.logic import detect
from services.extraction.logic import Context, extract
from services.parsing.logic import parse
from services.synth.layouts import LAYOUTS
from services.synth.render import generate
from services.vocabulary.normalise import normalise_amount, normalise_compact, normalise_currency, normalise_date
from services.vocabulary.templates import FieldRule, Template, load_templates

TEMPLATES = load_templates(Path(__file__).resolve().parents[3] / "rules" / "templates")
CTX = Context(templates={t.id: t for t in TEMPLATES})


@pytest.mark.parametrize(
    ("raw", "sep", "want"),
    [("1,234.56", None, "1234.56"), ("1.234,56", None, "1234.56"), ("1 234,56", ",", "1234.56"),
     ("12", None, "12.00"), ("-5.10", None, "-5.10"), ("(7.00)", None, "-7.00"), ("1.234", ",", "1234.00"),
     ("EUR 99,9", ",", "99.90"), ("1,5", None, "1.50")],
)
def test_amounts(raw: str, sep: str | None, want: str) -> None:
    """Amounts in any convention become decimal strings to the cent."""
    assert normalise_amount(raw, sep) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [("13/06/2025", "2025-06-13"), ("02.09.2025", "2025-09-02"), ("2025-01-31", "2025-01-31"),
     ("3 März 2025", "2025-03-03"), ("12 août 2024", "2024-08-12"), ("March 5, 2025", "2025-03-05")],
)
def test_dates(raw: str, want: str) -> None:
    """Dates in the common printed forms, several languages, become ISO 8601."""
    assert normalise_date(raw) == want


def test_bad_values_raise() -> None:
    """Text that is not a value of the kind raises ValueError (the rule then looks further)."""
    for fn, raw in ((normalise_amount, "n/a"), (normalise_date, "soon"), (normalise_currency, "money")):
        with pytest.raises(ValueError):
            fn(raw)


def test_currency_and_ids() -> None:
    """Currency symbols map to ISO 4217; ids lose spaces and punctuation."""
    assert normalise_currency("€") == "EUR" and normalise_currency("12.00 GBP") == "GBP"
    assert normalise_compact("DE 811 907-980") == "DE811907980"


def run(vendor: str, serial: int, items: int):  # type: ignore[no-untyped-def]
    data, truth = generate(LAYOUTS[vendor], seed=11, serial=serial, items=items)
    ref = DocumentRef(document_id="d", source="t", filename="f", content_type="application/pdf",
                      sha256="0" * 64, size=1, blob_uri="b", submitted_at=datetime.now(UTC))
    parsed = parse(data, ref, max_pages=10)
    classified = ClassifiedDocument(**dict(parsed), detection=detect(parsed, TEMPLATES))
    return extract(classified, CTX), truth


@pytest.mark.parametrize("vendor", sorted(LAYOUTS))
@pytest.mark.parametrize(("serial", "items"), [(1, 1), (2, 5), (3, 35)])
def test_template_reads_every_field(vendor: str, serial: int, items: int) -> None:
    """Known vendors: every header field and every line item equals the truth, across pages."""
    extracted, truth = run(vendor, serial, items)
    got = {name: fv.value for name, fv in extracted.fields.items()}
    want = {k: v for k, v in truth["fields"].items() if v is not None}
    assert got == want
    assert [item.model_dump(include={"description", "quantity", "unit_price", "amount"})
            for item in extracted.line_items] == truth["line_items"]


def test_provenance() -> None:
    """Each rule value says its source, page, box and raw text."""
    extracted, truth = run("bergmann", 4, 2)
    total = extracted.fields["total_amount"]
    assert total.source == "bergmann@1" and total.page == 1 and total.bbox is not None
    assert total.raw is not None and total.raw.replace(".", "").replace(",", ".") == truth["fields"]["total_amount"]
    assert 0 < total.confidence <= 1


def test_pathological_pattern_is_cut_off() -> None:
    """A catastrophic-backtracking pattern hits the time limit instead of hanging the worker."""
    from services.contracts import Page, Word
    from services.extraction.rules import extract_field

    words = [Word(text="Number:", bbox=(10, 10, 50, 20))] + [
        Word(text="a" * 30 + "!", bbox=(60 + i, 10, 61 + i, 20)) for i in range(1)
    ]
    page = Page(number=1, width=600, height=800, words=words)
    page.lines = __import__("services.parsing.layout", fromlist=["group_lines"]).group_lines(words)
    template = Template(id="t", version=1, issuer="T", match={}, fields={})  # type: ignore[arg-type]
    rule = FieldRule(anchors=["Number"], pattern=r"(a+)+$")
    import time

    started = time.perf_counter()
    assert extract_field([page], rule, template, timeout=0.05) is None
    assert time.perf_counter() - started < 2


def test_digit_runs_too_long_for_an_amount() -> None:
    """A long run of digits (an account number, a GLN) is not an amount, and never crashes the normaliser."""
    for raw in ("1" * 40, "4000001123452 4000001987658 12,00 99999999999999"):
        with pytest.raises(ValueError):
            normalise_amount(raw)


def test_a_document_s_regex_searches_share_one_budget() -> None:
    """Inside ``budget``, a search may take what is left of the document's CPU time and none once it
    is spent (the field is then not read: the document goes on, to a person if a required field is
    missing); outside, each search has its own timeout."""
    import time

    from services.vocabulary.regex_budget import budget, remaining

    assert remaining(0.25) == 0.25
    with budget(1.0):
        assert 0.9 < remaining(5.0) <= 1.0 and remaining(0.25) == 0.25
    with budget(0.05):
        time.sleep(0.2)  # waiting (a loaded machine) spends none of it
        assert 0.04 < remaining(0.25) <= 0.05
        deadline = time.thread_time() + 0.06
        while time.thread_time() < deadline:  # work does
            pass
        assert remaining(0.25) == 0.0
    assert remaining(0.25) == 0.25


def test_the_generic_amount_pattern_groups_thousands_one_way() -> None:
    """The generic amount pattern groups thousands by one separator or none: a 2,000-digit run beside
    "Total" is no amount (the former pattern's optional separator let a search split it every way)."""
    import regex
    import yaml

    rules = yaml.safe_load((Path(__file__).resolve().parents[3] / "rules" / "generic.yaml").read_text())
    pattern = rules["fields"]["total_amount"]["pattern"]
    assert regex.search(pattern, "1" * 2000 + " EUR", timeout=1.0) is None
    assert [regex.search(pattern, t).group(0) for t in ("1.234,56", "1 234.56", "1234,56", "-12.00")] == [
        "1.234,56", "1 234.56", "1234,56", "-12.00"]


def test_a_pages_rows_serve_its_lines_and_its_table_and_stay_as_grouped() -> None:
    """The parse's lines and a line-item table's whole rows come from one grouping of the page's words;
    neither reading changes what the other gets."""
    from services.contracts import Word
    from services.parsing.layout import group_lines, rows_of

    boxes = [("Qty", (10.0, 11.0, 30.0, 21.0)), ("Amount", (200.0, 10.0, 260.0, 20.0)),
             ("2", (10.0, 30.0, 16.0, 40.0)), ("9.00", (210.0, 31.0, 240.0, 41.0))]
    words = [Word(text=t, bbox=b) for t, b in boxes]
    grouped = [list(row) for row in rows_of(words)]  # Amount first: it begins higher
    lines = [ln.text for ln in group_lines(words)]
    rows = [ln.text for ln in group_lines(words, gap_factor=1e9)]
    assert lines == ["Amount", "Qty", "2", "9.00"] and rows == ["Qty Amount", "2 9.00"]
    assert rows_of(words) == grouped == [[1, 0], [2, 3]]  # the reading sorted its copy, not the rows kept
    assert [ln.text for ln in group_lines(words)] == lines
    assert [ln.text for ln in group_lines(list(words), gap_factor=1e9)] == rows  # a copy of the list: the same rows
