"""Intake as a pure function: an envelope in, a stored ``DocumentRef`` (or a reasoned error) out."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from services.contracts import DocumentRef, IncomingDocument, Reason
from services.errors import UnreadableDocument
from services.storage.blobs import BlobStore, sha256_hex

STAGE = "intake"

# Leading bytes of formats people send by mistake, so the reason names what arrived.
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"PK\x03\x04", "application/zip"),
    (b"<?xml", "application/xml"),
    (b"{", "application/json"),
)


@dataclass(frozen=True)
class Limits:
    max_document_bytes: int
    inline_content_limit: int


def sniff(data: bytes) -> str:
    head = data[:1024]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"%PDF-" in head:  # readers accept up to 1 KiB of junk before the header
        return "application/pdf"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def load_content(envelope: IncomingDocument, blobs: BlobStore, limits: Limits) -> bytes:
    if (envelope.content is None) == (envelope.blob_uri is None):
        raise UnreadableDocument(Reason.CONTENT_MISSING, "exactly one of content or blob_uri is required")
    if envelope.content is not None:
        # base64 grows by 4/3: check the encoded size before decoding anything.
        if len(envelope.content) > limits.inline_content_limit * 4 // 3 + 4:
            raise UnreadableDocument(
                Reason.INLINE_CONTENT_TOO_LARGE,
                f"inline content over {limits.inline_content_limit} bytes: use blob_uri",
            )
        try:
            return base64.b64decode(envelope.content, validate=True)
        except (binascii.Error, ValueError):
            raise UnreadableDocument(Reason.CONTENT_NOT_BASE64, "content is not valid base64") from None
    return blobs.get(envelope.blob_uri or "")


def intake(envelope: IncomingDocument, document_id: str, *, blobs: BlobStore, limits: Limits) -> DocumentRef:
    """Check one envelope and store its bytes content-addressed; raise ``UnreadableDocument``."""
    data = load_content(envelope, blobs, limits)
    if not data:
        raise UnreadableDocument(Reason.EMPTY_DOCUMENT, "the document has zero bytes")
    if len(data) > limits.max_document_bytes:
        raise UnreadableDocument(
            Reason.DOCUMENT_TOO_LARGE, f"{len(data)} bytes exceeds the limit of {limits.max_document_bytes}"
        )
    digest = sha256_hex(data)
    if envelope.sha256 and envelope.sha256 != digest:
        raise UnreadableDocument(Reason.CHECKSUM_MISMATCH, "sha256 of the content differs from the envelope's")
    kind = sniff(data)
    if kind != "application/pdf":
        raise UnreadableDocument(Reason.UNSUPPORTED_TYPE, f"content is {kind}, not a PDF")
    uri = blobs.put(data)
    return DocumentRef(
        document_id=document_id,
        source=envelope.source,
        filename=envelope.filename,
        content_type=kind,
        sha256=digest,
        size=len(data),
        blob_uri=uri,
        metadata=envelope.metadata,
        submitted_at=envelope.submitted_at,
    )
