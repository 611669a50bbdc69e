"""Embedded e-invoices: a PDF that carries a Factur-X / ZUGFeRD (1.0 and 2.x) / XRechnung XML is
read from the XML, the document's own data in CII or UBL syntax, and each value is looked for on
the printed page. A value the print contradicts loses confidence, so validation sends the
document to an operator (EINVOICE_PRINT_MISMATCH); one it shows gets its page and box (where
the e-invoice teacher learns the vendor's layout from); one it leaves out stays authoritative.

    read_einvoice(pdf_bytes, pages) -> (fields, line_items, EInvoice) | None
"""

from __future__ import annotations

from typing import Any

from services.contracts import EInvoice, FieldValue, LineItem, Page
from services.extraction.einvoice import attachment, cii, ubl
from services.extraction.einvoice.printed import Print
from services.extraction.einvoice.xml import NotAnInvoice, Reading, parse

PRINTED, IMPLIED, ABSENT, CONTRADICTED = 0.999, 0.99, 0.95, 0.6
CONFIDENCE = {"printed": PRINTED, "implied": IMPLIED, "absent": ABSENT, "contradicted": CONTRADICTED}


def read_xml(xml: bytes, name: str = "invoice.xml") -> Reading:
    """An e-invoice XML in any syntax this reader knows; NotAnInvoice (or an XML error) otherwise."""
    root: Any = parse(xml)
    if root.tag in cii.ROOTS:
        return cii.read(root, name)
    if root.tag in ubl.ROOTS:
        return ubl.read(root, name)
    raise NotAnInvoice(f"{root.tag} is no invoice syntax (CII, ZUGFeRD 1.0, UBL)")


def read_einvoice(data: bytes, pages: list[Page]) -> tuple[dict[str, FieldValue], list[LineItem], EInvoice] | None:
    """Fields from the embedded XML, each checked against the print; None for a PDF without one."""
    found = attachment.find(data)
    if found is None:
        return None
    name, xml = found
    try:
        reading = read_xml(xml, name)
    except Exception:  # a broken attachment is no e-invoice: the page is read as usual
        return None
    source, printed = f"einvoice:{name}", Print(pages)
    fields = {}
    for field, (verdict, place) in printed.verdicts(reading.fields).items():
        value, located = reading.fields[field], place if verdict == "printed" else None
        fields[field] = FieldValue(value=value, confidence=CONFIDENCE[verdict], source=source, raw=value,
                                   page=located.page if located else None, bbox=located.bbox if located else None)
    return fields, reading.items, reading.info
