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


def test_plain_pdf_is_not_an_einvoice(rt: Runtime) -> None:
    """Without an attachment, nothing comes from the e-invoice reader."""
    pdf, _ = generate(KESTREL, seed=3, serial=3)
    assert not any(f["source"].startswith("einvoice:") for f in report(pdf, rt)["fields"].values())
