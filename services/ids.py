"""Document ids: assigned here and nowhere else (the submitting client, the in-process path, the
intake stage and the transport for an event it cannot read all ask this module)."""

from __future__ import annotations

import hashlib
import uuid

from services.contracts import IncomingDocument


def new_document_id() -> str:
    """A submitted file: a document of its own every time it is sent (the duplicate check finds
    the same bytes sent twice)."""
    return f"doc-{uuid.uuid4().hex}"


def content_document_id(data: bytes) -> str:
    """A local file read in-process (``docflow extract``): the same bytes, the same id."""
    return "doc-" + hashlib.sha256(data).hexdigest()[:32]


def assign_document_id(envelope: IncomingDocument | None, key: bytes | None, raw: bytes) -> str:
    """The id a document is tracked by, even when its envelope is broken.

    Explicit id first, then the Kafka key the producer used, then a digest of what arrived:
    a re-delivery of the same message gets the same id.
    """
    if envelope is not None and envelope.document_id:
        return envelope.document_id
    if key:
        text = key.decode("utf-8", "replace").strip()
        if text:
            return text[:128]
    if envelope is not None:
        basis = f"{envelope.source}\n{envelope.sha256 or ''}\n{envelope.content or envelope.blob_uri or ''}"
        return "doc-" + hashlib.sha256(basis.encode()).hexdigest()[:32]
    return content_document_id(raw)
