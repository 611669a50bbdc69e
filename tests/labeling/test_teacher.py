"""The e-invoice teacher on one hybrid invoice: labels at the XML's values on the print, a template
that reads the vendor's next plain PDF, published at once or left for a labeler to review."""

from __future__ import annotations

import base64

from sqlmodel import select

from labeling import store
from labeling.teacher import AUTHOR, teach
from services.contracts import IncomingDocument
from services.pipeline import run
from services.runtime import Runtime
from services.storage.db import session_scope, upgrade
from services.storage.models import Document, LabelSet, TemplateVersion
from services.synth.facturx import attach, cii_xml
from services.synth.layouts import vendor_layouts
from services.synth.render import generate

LAYOUT = vendor_layouts(8, seed=31)[6]


def envelope(pdf: bytes, name: str) -> IncomingDocument:
    return IncomingDocument(document_id=name, source="t", filename=f"{name}.pdf",
                            content=base64.b64encode(pdf).decode())


def learn(rt: Runtime, mode: str) -> str | None:
    upgrade(rt.settings.db_url)
    pdf, truth = generate(LAYOUT, 4, 1)
    done = []

    def hook(classified, extracted):  # type: ignore[no-untyped-def]
        with session_scope(rt.engine) as s:
            s.add(Document(document_id=classified.doc.document_id, filename="h.pdf", state="accepted",
                           blob_uri=classified.doc.blob_uri))
            s.flush()
            done.append(teach(s, classified, extracted.fields, live=rt.templates, files=rt.registry.files,
                              regex_timeout_s=0.25, mode=mode))

    run(envelope(attach(pdf, cii_xml(truth)), "hybrid"), rt, extracted_hook=hook)
    return done[0]


def test_published_template_reads_the_next_plain_pdf(rt: Runtime) -> None:
    assert learn(rt, "publish") == "published"
    with session_scope(rt.engine) as s:
        (row,) = s.exec(select(TemplateVersion)).all()
        labels = s.exec(select(LabelSet)).one()
    assert row.author == AUTHOR and row.checks["origin"] == "einvoice" and row.documents == ["hybrid"]
    assert labels.origin == "einvoice" and {lab["field"] for lab in labels.labels} >= {
        "invoice_number", "invoice_date", "total_amount", "vendor_name"}
    pdf, truth = generate(LAYOUT, 4, 2)
    result = run(envelope(pdf, "plain"), rt).result
    assert result.detection.status == "matched" and result.detection.template_id == row.template_id
    for name in ("invoice_number", "invoice_date", "total_amount", "net_amount"):
        assert result.fields[name].value == truth["fields"][name], name


def test_review_mode_leaves_the_labels_to_a_labeler(rt: Runtime) -> None:
    assert learn(rt, "review") == "labels"
    with session_scope(rt.engine) as s:
        assert s.exec(select(TemplateVersion)).all() == []
        work = store.worklist(s)
    assert [(w["document_id"], w["why"]) for w in work] == [("hybrid", "e-invoice labels to review")]


def test_nothing_to_learn_without_an_einvoice_or_when_off(rt: Runtime) -> None:
    assert learn(rt, "off") is None
