"""The synthetic generator: truth boxes where the words are, valid ids, determinism, variety."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from services.evaluation import normalise as norm
from services.parsing.readers import DEFAULT_READER
from services.synth.corpus import build
from services.synth.ids import iban_is_valid, vat_is_valid
from services.synth.layouts import KESTREL, LAYOUTS, vendor_layouts
from services.synth.render import generate
from services.synth.scan import scan

WORLD = vendor_layouts(45, seed=0)
ALL = [*WORLD, *LAYOUTS.values(), KESTREL]


@pytest.mark.parametrize("layout", ALL, ids=[lay.vendor_id for lay in ALL])
def test_every_truth_word_is_at_its_box(layout) -> None:  # type: ignore[no-untyped-def]
    """Each labelled word of the truth is a word pdfplumber reads at that box (within 1 pt)."""
    pdf, truth = generate(layout, seed=5, serial=3)
    pages = DEFAULT_READER.read(pdf, max_pages=10)
    assert truth["labels"], "no labelled values"
    for label in truth["labels"]:
        page = pages[label["page"] - 1]
        for word in label["words"]:
            x0, top, x1, bottom = word["bbox"]
            at_box = [w.text for w in page.words
                      if abs(w.bbox[0] - x0) < 1 and abs(w.bbox[1] - top) < 1
                      and abs(w.bbox[2] - x1) < 1 and abs(w.bbox[3] - bottom) < 1]
            assert at_box == [word["text"]], (label["field"], word, at_box)


@pytest.mark.parametrize("layout", WORLD[:10], ids=[lay.vendor_id for lay in WORLD[:10]])
def test_printed_values_normalise_to_truth(layout) -> None:  # type: ignore[no-untyped-def]
    """Every header value's printed text reads back to the truth value under the eval rules."""
    _, truth = generate(layout, seed=5, serial=1)
    for label in truth["labels"]:
        field = label["field"]
        if field in norm.FIELD_RULES:
            rule = norm.FIELD_RULES[field]
            assert norm.same(field, rule(truth["fields"][field]), rule(label["text"])), label
            assert label["value"] == truth["fields"][field]


def test_world_has_forty_distinct_valid_vendors() -> None:
    """45 procedural vendors: distinct names and ids, checksums valid, five languages, varied looks."""
    assert len({lay.vendor_name for lay in WORLD}) == len(WORLD)
    assert len({lay.vendor_vat_id for lay in WORLD}) == len(WORLD)
    assert all(vat_is_valid(lay.vendor_vat_id) for lay in WORLD)
    assert all(iban_is_valid(lay.vendor_iban) for lay in WORLD)
    assert set(Counter(lay.language for lay in WORLD)) == {"en", "de", "fr", "es", "nl"}
    looks = {(lay.font, lay.meta_style, lay.meta_x, lay.decimal, lay.thousands, lay.date_format) for lay in WORLD}
    assert len(looks) >= 40


def test_deterministic() -> None:
    """The same layout, seed and serial give the same bytes and truth; another serial differs."""
    a, b, c = (generate(WORLD[3], 9, s) for s in (1, 1, 2))
    assert a == b
    assert a[1]["fields"]["invoice_number"] != c[1]["fields"]["invoice_number"]


def test_long_tables_label_the_second_page() -> None:
    """Forty line items run onto a second page, with their labels there."""
    pdf, truth = generate(WORLD[0], 1, 1, items=40)
    assert len(DEFAULT_READER.read(pdf, max_pages=10)) >= 2
    assert len(truth["line_items"]) == 40
    assert max(label["page"] for label in truth["labels"]) >= 2


def test_scanned_has_no_text_and_boxes_move() -> None:
    """A scanned variant has no text layer; its boxes stay on the page, moved by the turn."""
    import random

    pdf, truth = generate(WORLD[1], 1, 1)
    scanned, moved = scan(pdf, truth, random.Random(3))
    pages = DEFAULT_READER.read(scanned, max_pages=10)
    assert not any(p.words for p in pages) and moved["scanned"]
    for before, after in zip(truth["labels"], moved["labels"], strict=True):
        assert all(0 <= v <= 842 for v in after["bbox"])
        assert max(abs(x - y) for x, y in zip(before["bbox"], after["bbox"], strict=True)) < 15


def test_corpus_and_split(tmp_path: Path) -> None:
    """`build` writes PDF + truth pairs per vendor; held-out vendors never appear in training."""
    summary = build(tmp_path, vendors=5, docs=4, seed=2, scanned=0.25, holdout_vendors=1, jobs=1)
    assert summary["documents"] == 20 and summary["docs_per_s"] > 0
    split = json.loads((tmp_path / "split.json").read_text())
    assert len(split["heldout_vendors"]) == 1
    held = split["heldout_vendors"][0]
    assert not any(d.startswith(held) for d in split["train"] + split["test_seen_vendors"])
    assert all(d.startswith(held) for d in split["test_new_vendors"])
    assert not set(split["train"]) & set(split["test_seen_vendors"])
    assert len(list(tmp_path.rglob("*.pdf"))) == 20
    assert sum(json.loads(p.read_text())["scanned"] for p in tmp_path.glob("v*/*.json")) == summary["scanned"]
