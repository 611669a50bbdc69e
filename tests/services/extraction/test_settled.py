"""A known vendor whose template read a document validation accepts needs no model: the layout
model runs only where the template left validation something to object to, or no template matched."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from services.contracts import ClassifiedDocument, DocumentRef
from services.detection.logic import detect
from services.extraction.logic import extract
from services.parsing.logic import parse
from services.runtime import Runtime
from services.settings import Settings
from services.synth.layouts import LAYOUTS, UNTEMPLATED
from services.synth.render import generate
from services.validation.logic import validate

SHIPPED = Path(__file__).resolve().parents[3] / "models"  # the default model the product ships


def classified(rt: Runtime, layout, serial: int) -> ClassifiedDocument:  # type: ignore[no-untyped-def]
    pdf, _truth = generate(layout, seed=11, serial=serial, items=3)
    ref = DocumentRef(document_id=f"d{serial}", source="t", filename="a.pdf", content_type="application/pdf",
                      sha256="0" * 64, size=len(pdf), blob_uri="blob://none", submitted_at=datetime.now(UTC))
    parsed = parse(pdf, ref, max_pages=5)
    return ClassifiedDocument(**dict(parsed), detection=detect(parsed, rt.templates))


def runtime(tmp_path: Path) -> Runtime:
    rt = Runtime(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", shipped_model_dir=SHIPPED))
    assert rt.model is not None, "no shipped model: make model"
    rt.__dict__["extraction"] = replace(rt.extraction, blobs=None)  # no stored bytes: no e-invoice to look for
    return rt


def test_a_template_reading_that_validates_skips_the_model(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    for serial, layout in enumerate(sorted(LAYOUTS.values(), key=lambda layout: layout.vendor_id)):
        doc = classified(rt, layout, serial)
        assert doc.detection.status == "matched"
        skipped = extract(doc, rt.extraction)
        assert skipped.model_version is None  # the model did not read it
        assert validate(skipped, rt.ruleset).validation.ok
        # Asked to run anyway, the model reads the same values: skipping it changed no answer.
        modelled = extract(doc, replace(rt.extraction, settled=None))
        assert modelled.model_version == rt.model.version
        assert {k: v.value for k, v in modelled.fields.items()} == {k: v.value for k, v in skipped.fields.items()}


def test_the_model_reads_where_validation_would_object_or_the_template_has_no_rule(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    doc = classified(rt, next(iter(LAYOUTS.values())), 7)
    # A ruleset that objects to everything: the template's reading does not settle the document.
    extracted = extract(doc, replace(rt.extraction, settled=lambda _doc: False))
    assert extracted.model_version == rt.model.version
    # A template without a rule for a header field (induced from invoices that printed no due date):
    # the model reads, for the field the template cannot.
    ctx = rt.extraction
    key = (doc.detection.template_id, doc.detection.template_version)
    template = ctx.versions[key]
    partial = template.model_copy(update={"fields": {k: v for k, v in template.fields.items() if k != "due_date"}})
    extracted = extract(doc, replace(ctx, versions=ctx.versions | {key: partial}))
    assert extracted.model_version == rt.model.version
    asked = []
    extract(doc, replace(rt.extraction, settled=lambda d: asked.append(sorted(d.fields)) or True))
    assert asked and "total_amount" in asked[0]  # it judged the template's reading, gaps filled


def test_an_unknown_vendor_is_read_by_the_model(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    doc = classified(rt, next(iter(UNTEMPLATED.values())), 3)
    assert doc.detection.status != "matched"
    assert extract(doc, rt.extraction).model_version == rt.model.version
