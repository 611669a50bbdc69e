"""The e-invoice XML inside a PDF: by its standard file name (Factur-X, ZUGFeRD 1.0 and 2.x,
XRechnung), else any XML attachment whose document element is an invoice syntax; read with a
size limit, so an attachment that inflates to gigabytes is refused, not decompressed."""

from __future__ import annotations

import io
import zlib

from services.extraction.einvoice.xml import MAX_XML_BYTES

STANDARD_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "zugferd_invoice.xml", "xrechnung.xml")
INVOICE_ROOTS = (b"CrossIndustryInvoice", b"CrossIndustryDocument", b"Invoice", b"CreditNote")


class AttachmentTooLarge(ValueError):
    pass


def find(data: bytes) -> tuple[str, bytes] | None:
    """(file name, XML bytes) of the embedded e-invoice, if the PDF carries one."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            files = dict(pdf.attachments.items())
            ordered = sorted(files, key=lambda n: (n.lower() not in STANDARD_NAMES, n))
            for name in ordered:
                if name.lower() not in STANDARD_NAMES and not name.lower().endswith(".xml"):
                    continue
                try:
                    body = _read(files[name])
                except AttachmentTooLarge:
                    continue
                if name.lower() in STANDARD_NAMES or _looks_like_invoice(body):
                    return name, body
    except Exception:  # an attachment no reader can open is no e-invoice: the print is read
        return None
    return None


def _read(spec) -> bytes:  # type: ignore[no-untyped-def]
    """The file's bytes, never more than MAX_XML_BYTES of them decompressed."""
    import pikepdf

    stream = spec.get_file().obj
    filters = stream.get("/Filter")
    names = [] if filters is None else [str(f) for f in filters] if isinstance(filters, pikepdf.Array) \
        else [str(filters)]
    if any(n != "/FlateDecode" for n in names) or stream.get("/DecodeParms") is not None:
        # Only deflate can be inflated with a bound here; e-invoices are stored plain or deflated.
        raise AttachmentTooLarge(f"filters {names} are not read")
    body = bytes(stream.read_raw_bytes())
    for _ in names:  # a chain of deflates (a bomb's trick) is inflated, bounded, one by one
        body = zlib.decompressobj().decompress(body, MAX_XML_BYTES + 1)
    if len(body) > MAX_XML_BYTES:
        raise AttachmentTooLarge(len(body))
    return body


def _looks_like_invoice(body: bytes) -> bool:
    head = body[:4096]
    return any(b"<" + root in head or b":" + root in head for root in INVOICE_ROOTS)
