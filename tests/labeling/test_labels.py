"""Picks to labels, as pure functions: a labeler's picks on a synthetic invoice give back its truth,
as the typed label the rest of the product reads and, stored, in the corpus truth form."""

from __future__ import annotations

import pytest

from labeling.labels import LabelError, Pick, build, stored, truth
from services.contracts import HEADER_FIELDS, LabeledValue
from services.parsing.readers import DEFAULT_READER
from services.storage.models import LabelSet
from services.synth.layouts import vendor_layouts
from services.synth.render import generate

LAYOUT = vendor_layouts(6, seed=21)[2]


def test_picks_give_back_the_truth_typed_and_stored_in_its_form() -> None:
    pdf, expected = generate(LAYOUT, 21, 1)
    pages = DEFAULT_READER.read(pdf, max_pages=5)
    printed = [lab for lab in expected["labels"] if lab["field"] in HEADER_FIELDS]
    picks = [Pick(field=lab["field"], page=lab["page"], words=[w["bbox"] for w in lab["words"]]) for lab in printed]

    labels = build(picks, pages)

    assert all(isinstance(lab, LabeledValue) for lab in labels)
    assert {lab.field: lab.value for lab in labels} == {lab["field"]: lab["value"] for lab in printed}
    by_field = {lab.field: lab for lab in labels}
    for lab in printed:
        got = by_field[lab["field"]]
        assert got.text == lab["text"] and got.page == lab["page"]
        assert got.bbox is not None and max(abs(a - b) for a, b in zip(got.bbox, lab["bbox"], strict=True)) < 1.5
        assert [w.text for w in got.words] == [w["text"] for w in lab["words"]]
    rows = stored(labels)
    assert all(set(row) == {"field", "value", "text", "page", "bbox", "words"} for row in rows)
    assert LabelSet(document_id="d", revision=1, labels=rows, origin="labeler", author="lena").values() == labels
    assert truth(labels)["fields"] == {name: by_field[name].value if name in by_field else None
                                       for name in HEADER_FIELDS}


def test_a_typed_value_has_no_page_and_a_box_without_a_word_is_refused() -> None:
    pdf, _ = generate(LAYOUT, 21, 2)
    pages = DEFAULT_READER.read(pdf, max_pages=5)

    [typed] = build([Pick(field="invoice_number", value="INV-7")], pages)
    assert typed == LabeledValue(field="invoice_number", value="INV-7", text=None, page=None, bbox=None, words=[])

    with pytest.raises(LabelError) as refused:
        build([Pick(field="total_amount", page=1, words=[(1.0, 1.0, 2.0, 2.0)])], pages)
    assert set(refused.value.problems) == {"total_amount"}
