"""Embedded e-invoices: the XML is read as the authoritative data and checked against the print."""

from __future__ import annotations

import base64

from services.contracts import IncomingDocument
from services.pipeline import extract_report, run
from services.runtime import Runtime
from services.synth.facturx import attach, cii_xml
from services.synth.layouts import KESTREL
from services.synth.render import generate


def report(pdf: bytes, rt: Runtime) -> dict:
    envelope = IncomingDocument(source="t", filename="f.pdf", content=base64.b64encode(pdf).decode())
    return extract_report(run(envelope, rt))


def test_facturx_is_read_from_its_xml(rt: Runtime) -> None:
    """A vendor with no template is read completely from its Factur-X XML, and accepted."""
    pdf, truth = generate(KESTREL, seed=3, serial=1, items=3)
    result = report(attach(pdf, cii_xml(truth)), rt)
    assert result["state"] == "accepted", result["reasons"]
    for name, want in truth["fields"].items():
        if want is not None:
            got = result["fields"][name]
            assert got["value"] == want and got["source"] == "einvoice:factur-x.xml", name
            assert got["confidence"] > 0.99
    assert [i["amount"] for i in result["line_items"]] == [i["amount"] for i in truth["line_items"]]


def test_print_that_disagrees_goes_to_an_operator(rt: Runtime) -> None:
    """An XML total the page does not print keeps the XML value, flagged for review."""
    pdf, truth = generate(KESTREL, seed=3, serial=2, items=2)
    result = report(attach(pdf, cii_xml(truth, {"total_amount": "99999.99"})), rt)
    assert result["state"] == "exception"
    assert result["reasons"] == ["EINVOICE_PRINT_MISMATCH", "TOTAL_MISMATCH"]
    assert result["fields"]["total_amount"]["value"] == "99999.99"


def test_plain_pdf_is_not_an_einvoice(rt: Runtime, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Without an attachment, nothing comes from the e-invoice reader, which does not even open the
    PDF: the parse counted no embedded file (and counts the one a Factur-X carries)."""
    import pytest

    import services.extraction.einvoice as einvoice
    from services.contracts import DocumentRef
    from services.parsing.logic import parse

    pdf, truth = generate(KESTREL, seed=3, serial=3)
    ref = DocumentRef(document_id="d", source="t", filename="f.pdf", content_type="application/pdf",
                      sha256="0" * 64, size=len(pdf), blob_uri="blob://x", submitted_at="2026-12-03T00:00:00Z")
    assert parse(pdf, ref, max_pages=5).attachments == 0
    assert parse(attach(pdf, cii_xml(truth)), ref, max_pages=5).attachments == 1
    monkeypatch.setattr(einvoice, "read_einvoice", lambda *a: pytest.fail("a PDF without files was opened"))
    assert not any(f["source"].startswith("einvoice:") for f in report(pdf, rt)["fields"].values())


def test_values_the_print_leaves_out_contradict_nothing(rt: Runtime) -> None:
    """An order number only the XML carries is no mismatch; the printed values get their place."""
    pdf, truth = generate(KESTREL, seed=3, serial=4, items=2)
    result = report(attach(pdf, cii_xml(truth, {"purchase_order": "PO-ONLY-IN-XML"})), rt)
    assert result["state"] == "accepted", result["reasons"]
    assert result["fields"]["purchase_order"]["value"] == "PO-ONLY-IN-XML"
    assert result["fields"]["purchase_order"]["bbox"] is None
    total = result["fields"]["total_amount"]
    assert total["page"] == 1 and total["bbox"] is not None and total["confidence"] > 0.99


def test_zugferd_1_attachment_is_read(rt: Runtime) -> None:
    """A ZUGFeRD 1.0 invoice (its own namespace, its own file name) is read from its XML."""
    from tests.services.extraction.test_einvoice_xml import ZF1

    pdf, _ = generate(KESTREL, seed=3, serial=5, items=1)
    result = report(attach(pdf, ZF1, "ZUGFeRD-invoice.xml"), rt)
    assert result["fields"]["invoice_number"] == {**result["fields"]["invoice_number"], "value": "471102",
                                                  "source": "einvoice:ZUGFeRD-invoice.xml"}
    assert result["einvoice"]["syntax"] == "cii-zugferd1" and result["einvoice"]["amount_due"] == "6.90"
