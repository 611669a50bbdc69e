"""Intake: envelope checks, sniffing, limits, content-addressed storage, document ids."""

from __future__ import annotations

import base64

import pytest

from services.contracts import IncomingDocument, Reason
from services.errors import UnreadableDocument
from services.ids import assign_document_id
from services.intake.logic import Limits, intake, sniff
from services.storage.blobs import BlobStore, sha256_hex

PDF = b"%PDF-1.4\n%minimal\n"
LIMITS = Limits(max_document_bytes=1000, inline_content_limit=600)


def env(data: bytes | None = PDF, **kw: object) -> IncomingDocument:
    content = base64.b64encode(data).decode() if data is not None else None
    return IncomingDocument(source="erp", content=content, **kw)  # type: ignore[arg-type]


def test_stores_content_addressed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The bytes land in the blob store under their sha256, once, whoever sends them."""
    blobs = BlobStore(tmp_path)
    ref = intake(env(), "d1", blobs=blobs, limits=LIMITS)
    assert ref.sha256 == sha256_hex(PDF)
    assert ref.blob_uri == f"blob://sha256/{ref.sha256}"
    assert blobs.get(ref.blob_uri) == PDF
    assert intake(env(), "d2", blobs=blobs, limits=LIMITS).blob_uri == ref.blob_uri


def test_reads_blob_reference(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A claim-check envelope (blob_uri) is read from the blob store."""
    blobs = BlobStore(tmp_path)
    uri = blobs.put(PDF)
    ref = intake(env(None, blob_uri=uri), "d1", blobs=blobs, limits=LIMITS)
    assert ref.size == len(PDF)


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (env(b""), Reason.EMPTY_DOCUMENT),
        (env(b"hello"), Reason.UNSUPPORTED_TYPE),
        (env(PDF + b"x" * 800), Reason.INLINE_CONTENT_TOO_LARGE),
        (env(PDF, sha256="0" * 64), Reason.CHECKSUM_MISMATCH),
        (env(None), Reason.CONTENT_MISSING),
        (IncomingDocument(source="s", content="!!!"), Reason.CONTENT_NOT_BASE64),
        (env(None, blob_uri="blob://sha256/" + "a" * 64), Reason.BLOB_NOT_FOUND),
        (env(None, blob_uri="file:///etc/passwd"), Reason.BLOB_NOT_FOUND),
    ],
)
def test_rejects_with_reason(tmp_path, envelope: IncomingDocument, reason: Reason) -> None:  # type: ignore[no-untyped-def]
    """Each kind of unusable envelope is refused with its own reason code."""
    with pytest.raises(UnreadableDocument) as info:
        intake(envelope, "d", blobs=BlobStore(tmp_path), limits=LIMITS)
    assert info.value.reason == reason


def test_too_large_by_blob(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A stored document over the size limit is refused before it is parsed."""
    blobs = BlobStore(tmp_path)
    uri = blobs.put(PDF + b"x" * 2000)
    with pytest.raises(UnreadableDocument) as info:
        intake(env(None, blob_uri=uri), "d", blobs=blobs, limits=LIMITS)
    assert info.value.reason == Reason.DOCUMENT_TOO_LARGE


@pytest.mark.parametrize(
    ("head", "kind"),
    [(PDF, "application/pdf"), (b"\x89PNG\r\n\x1a\nxx", "image/png"), (b"\xff\xd8\xff\xe0", "image/jpeg"),
     (b"PK\x03\x04", "application/zip"), (b"plain words", "text/plain"),
     (b"\xff\xfe\x00\x81", "application/octet-stream"), (b"junk before %PDF-1.7", "application/pdf"),
     (b"\x89PNG\r\n\x1a\n then %PDF-1.4", "image/png")],
)
def test_sniff(head: bytes, kind: str) -> None:
    """The type comes from the leading bytes, not from the envelope's claim."""
    assert sniff(head) == kind


def test_document_id_is_stable() -> None:
    """Explicit id first, then the message key, then a digest: re-deliveries keep their id."""
    explicit = env(document_id="abc")
    assert assign_document_id(explicit, b"key", b"raw") == "abc"
    assert assign_document_id(env(), b"key-1", b"raw") == "key-1"
    anonymous = env()
    assert assign_document_id(anonymous, None, b"") == assign_document_id(env(), None, b"")
    assert assign_document_id(None, None, b"broken").startswith("doc-")
    assert assign_document_id(None, None, b"a") != assign_document_id(None, None, b"b")
