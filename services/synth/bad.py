"""Bad input, each kind broken in its own way, with the terminal state and reason it must get.

Used by the integration test and the benchmark: every kind here must end in exactly one
terminal place with the stated reason, and never stop a worker.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from services.contracts import IncomingDocument, Reason
from services.storage.blobs import sha256_hex


@dataclass(frozen=True)
class BadCase:
    name: str
    state: str  # the terminal state it must reach
    reason: Reason
    # (document_id, a valid PDF to break) -> the raw message value to publish
    build: Callable[[str, bytes], bytes]


def envelope(document_id: str, data: bytes, **extra: object) -> IncomingDocument:
    return IncomingDocument(
        document_id=document_id, source="tests", filename=f"{document_id}.pdf",
        content=base64.b64encode(data).decode(), **extra,  # type: ignore[arg-type]
    )


def _raw(document_id: str, data: bytes, **extra: object) -> bytes:
    return envelope(document_id, data, **extra).model_dump_json().encode()


def _dict(document_id: str, data: bytes) -> dict:
    return json.loads(_raw(document_id, data))


def encrypted_pdf(text: str = "secret invoice") -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, encrypt=StandardEncryption("user-pw", ownerPassword="owner-pw"))
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def image_only_pdf() -> bytes:
    """A page with shapes and no text layer: what a scanner without OCR produces."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for i in range(12):
        pdf.rect(60, 700 - i * 30, 300 - i * 10, 12, fill=1)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def many_pages(count: int, mark: str) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for n in range(count):
        pdf.drawString(72, 720, f"{mark} page {n + 1}")
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _unknown_vendor(document_id: str) -> bytes:
    from services.synth.layouts import KESTREL
    from services.synth.render import generate

    return generate(KESTREL, seed=sum(map(ord, document_id)), serial=len(document_id))[0]


ZERO_PAGE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def assemble(objects: list[bytes], *, mark: str = "", info: int | None = None) -> bytes:
    """A PDF of ``objects`` (numbered from 1, the first the catalog) with a correct xref."""
    out, offsets = bytearray(b"%PDF-1.7\n%" + mark.encode() + b"\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    extra = b"/Info %d 0 R" % info if info else b""
    out += b"trailer<</Size %d/Root 1 0 R%s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, extra, xref)
    return bytes(out)


def deep_page_tree(depth: int, mark: str) -> bytes:
    """A page tree nested ``depth`` deep: each /Pages node's only kid is the next one."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>"]
    for n in range(depth):
        objects.append(b"<</Type/Pages/Kids[%d 0 R]/Count 1%s>>" % (n + 3, b"" if n else b"/MediaBox[0 0 612 792]"))
    objects.append(b"<</Type/Page/Parent %d 0 R>>" % (depth + 1))
    return assemble(objects, mark=mark)


def _deep_json(document_id: str, data: bytes) -> bytes:
    nested = b"[" * 5000 + b"]" * 5000
    return b'{"document_id": "' + document_id.encode() + b'", "source": "t", "metadata": ' + nested + b"}"


def _zero_pages(document_id: str, data: bytes) -> bytes:
    return _raw(document_id, ZERO_PAGE_PDF.replace(b"trailer", b"%" + document_id.encode() + b"\ntrailer"))


def _garbage(document_id: str, data: bytes) -> bytes:
    return _raw(document_id, b"%PDF-1.7\n" + bytes(range(256)) * 8 + document_id.encode())


def _broken_json(document_id: str, data: bytes) -> bytes:
    return b'{"document_id": "' + document_id.encode() + b'", "sou'


def _version(document_id: str, data: bytes) -> bytes:
    body = _dict(document_id, data)
    body["contract_version"] = "7.0"
    return json.dumps(body).encode()


def _no_content(document_id: str, data: bytes) -> bytes:
    body = _dict(document_id, data)
    body.pop("content")
    return json.dumps(body).encode()


def _bad_base64(document_id: str, data: bytes) -> bytes:
    body = _dict(document_id, data)
    body["content"] = "***not base64***"
    return json.dumps(body).encode()


def _unknown_field(document_id: str, data: bytes) -> bytes:
    body = _dict(document_id, data)
    body["contnet"] = body.pop("content")
    return json.dumps(body).encode()


CASES: list[BadCase] = [
    BadCase("not_a_pdf", "deadletter", Reason.UNSUPPORTED_TYPE, lambda i, d: _raw(i, b"Dear customer, hello.\n" * 20)),
    BadCase("png_image", "deadletter", Reason.UNSUPPORTED_TYPE, lambda i, d: _raw(i, b"\x89PNG\r\n\x1a\n" + d[:200])),
    BadCase("truncated", "deadletter", Reason.PDF_CORRUPT, lambda i, d: _raw(i, d[: len(d) // 3])),
    BadCase("garbage_body", "deadletter", Reason.PDF_CORRUPT, _garbage),
    BadCase("encrypted", "deadletter", Reason.PDF_ENCRYPTED, lambda i, d: _raw(i, encrypted_pdf(i))),
    BadCase("zero_bytes", "deadletter", Reason.EMPTY_DOCUMENT, lambda i, d: _raw(i, b"")),
    BadCase("zero_pages", "deadletter", Reason.PDF_NO_PAGES, _zero_pages),
    BadCase("broken_json", "deadletter", Reason.MESSAGE_INVALID, _broken_json),
    BadCase("not_json", "deadletter", Reason.MESSAGE_INVALID, lambda i, d: b"\x00\x01binary garbage " + i.encode()),
    BadCase("json_array", "deadletter", Reason.MESSAGE_INVALID, lambda i, d: json.dumps([i]).encode()),
    BadCase("deep_json", "deadletter", Reason.MESSAGE_INVALID, _deep_json),
    BadCase("deep_page_tree", "deadletter", Reason.PDF_CORRUPT, lambda i, d: _raw(i, deep_page_tree(5000, i))),
    BadCase("unknown_version", "deadletter", Reason.CONTRACT_VERSION_UNSUPPORTED, _version),
    BadCase("unknown_field", "deadletter", Reason.MESSAGE_INVALID, _unknown_field),
    # PostgreSQL refuses a NUL in text: the contract refuses it first, and the dead letter has its row.
    BadCase("nul_in_filename", "deadletter", Reason.MESSAGE_INVALID,
            lambda i, d: _raw(i, d).replace(f'"{i}.pdf"'.encode(), f'"{i}\\u0000.pdf"'.encode())),
    BadCase("no_content", "deadletter", Reason.CONTENT_MISSING, _no_content),
    BadCase("bad_base64", "deadletter", Reason.CONTENT_NOT_BASE64, _bad_base64),
    BadCase("checksum_mismatch", "deadletter", Reason.CHECKSUM_MISMATCH,
            lambda i, d: _raw(i, d, sha256=sha256_hex(d + b"x"))),
    BadCase("missing_blob", "deadletter", Reason.BLOB_NOT_FOUND,
            lambda i, d: IncomingDocument(document_id=i, source="tests", blob_uri="blob://sha256/" + "0" * 64)
            .model_dump_json().encode()),
    BadCase("oversize_inline", "deadletter", Reason.INLINE_CONTENT_TOO_LARGE,
            lambda i, d: _raw(i, d + b"\n%" + b"x" * (1024 * 1024))),
    # Needs DOCFLOW_MAX_DOCUMENT_BYTES below the inline limit (the integration test sets 400000).
    BadCase("too_large", "deadletter", Reason.DOCUMENT_TOO_LARGE, lambda i, d: _raw(i, d + b"\n%" + b"x" * 450_000)),
    BadCase("image_only", "exception", Reason.NO_TEXT_LAYER, lambda i, d: _raw(i, image_only_pdf() + i.encode())),
    # A vendor no template reads, on a deployment with no model at all (the shipped rules accept
    # one the ranking and the model read confidently).
    BadCase("unknown_vendor", "exception", Reason.MODEL_UNAVAILABLE, lambda i, d: _raw(i, _unknown_vendor(i))),
    BadCase("too_many_pages", "deadletter", Reason.TOO_MANY_PAGES, lambda i, d: _raw(i, many_pages(60, i))),
    BadCase("duplicate_content", "exception", Reason.DUPLICATE_CONTENT, lambda i, d: _raw(i, d)),
]
