"""Template induction: from two labeled documents, a template that reads the vendor's others."""

from __future__ import annotations

import pytest

from services.contracts import ClassifiedDocument, DocumentRef
from services.detection.logic import detect
from services.extraction.induction import induce, labeled_from_truth
from services.extraction.logic import Context, extract
from services.parsing.logic import parse
from services.synth.layouts import vendor_layouts
from services.synth.render import generate
from services.vocabulary.templates import Template, to_yaml

WORLD = vendor_layouts(10, seed=3)


def read(pdf: bytes, templates: list[Template]):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    ref = DocumentRef(document_id="d", source="t", filename="f", content_type="application/pdf",
                      sha256="0" * 64, size=1, blob_uri="b", submitted_at=datetime.now(UTC))
    parsed = parse(pdf, ref, max_pages=10)
    classified = ClassifiedDocument(**dict(parsed), detection=detect(parsed, templates))
    return classified.detection, extract(classified, Context(templates={t.id: t for t in templates}))


@pytest.mark.parametrize("layout", WORLD, ids=[lay.vendor_id for lay in WORLD])
def test_induced_template_reads_other_documents(layout) -> None:  # type: ignore[no-untyped-def]
    """Induced from documents 1-2, the template detects and reads documents 3-5 of the vendor."""
    examples = [labeled_from_truth(*generate(layout, 8, serial)) for serial in (1, 2)]
    result = induce(examples, layout.vendor_id)
    assert all(all(ok) for ok in result.reproduced.values()), result.reproduced
    template = Template.model_validate(__import__("yaml").safe_load(to_yaml(result.template)))
    for serial in (3, 4, 5):
        pdf, truth = generate(layout, 8, serial)
        detection, extracted = read(pdf, [template])
        assert detection.template_id == layout.vendor_id
        for name, want in truth["fields"].items():
            if name in template.fields and want is not None:
                got = extracted.fields.get(name)
                assert got is not None and got.value == want, (name, want, got)
        items = [i.model_dump(include={"description", "quantity", "unit_price", "amount"})
                 for i in extracted.line_items]
        assert items == truth["line_items"]


def test_unprinted_field_is_reported() -> None:
    """A field printed on none of the labeled documents is dropped, and the reason says so."""
    layout = next(lay for lay in WORLD if lay.optional_po == 0.0)
    result = induce([labeled_from_truth(*generate(layout, 8, 1))], layout.vendor_id)
    assert result.dropped["purchase_order"] == "not printed on the labeled documents"


def test_redesigned_layout_is_a_new_layout_version() -> None:
    """Same identifiers, labels moved: detection reports a new layout version, not a match."""
    from dataclasses import replace

    layout = WORLD[2]
    template = induce([labeled_from_truth(*generate(layout, 8, s)) for s in (1, 2)], layout.vendor_id).template
    assert template.layout
    moved = replace(layout, meta_x=50.0 if layout.meta_x != 50.0 else 360.0, meta_y=200.0,
                    meta_style="below" if layout.meta_style == "right" else "right", table_y=330.0)
    same, _ = read(generate(layout, 8, 6)[0], [template])
    redesigned, _extracted = read(generate(moved, 8, 6)[0], [template])
    assert same.status == "matched"
    assert redesigned.status == "new_layout" and redesigned.template_id == layout.vendor_id
    assert redesigned.confidence < same.confidence


def test_a_currency_printed_before_an_amount_is_not_its_label() -> None:
    """ "Nettobetrag   € 9 858,60": the anchor is the label, the symbol belongs to the value."""
    from services.contracts import Page, Word
    from services.extraction.induction import anchor_left
    from services.parsing.layout import group_lines

    words = [Word(text="Nettobetrag:", bbox=(300, 700, 360, 710)), Word(text="€", bbox=(470, 700, 476, 710)),
             Word(text="9", bbox=(480, 700, 485, 710)), Word(text="858,60", bbox=(488, 700, 520, 710))]
    page = Page(number=1, width=595, height=842, words=words, lines=group_lines(words), has_text_layer=True)
    assert anchor_left(page, [2, 3]) == ("Nettobetrag:", 120.0)
