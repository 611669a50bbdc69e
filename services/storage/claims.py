"""The claim check for parsed pages: their words ride in the blob store, the message carries the
reference (``pages_uri``), so a message's size never depends on how many words a document has.

``check_in`` before a parsed or classified document is sent, ``check_out`` after one is decoded.
The pages are stored once, content-addressed: the classified message of a document points at the
same blob as its parsed one (no stage changes pages).
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import TypeAdapter

from services.contracts import Contract, Page, ParsedDocument
from services.storage.blobs import BlobStore

M = TypeVar("M", bound=Contract)
_PAGES = TypeAdapter(list[Page])


def check_in(message: M, blobs: BlobStore) -> M:
    """The message with its pages in the blob store and ``pages`` empty (others unchanged)."""
    if not isinstance(message, ParsedDocument) or not message.pages:
        return message
    uri = message.pages_uri or blobs.put(_PAGES.dump_json(message.pages))
    return message.model_copy(update={"pages": [], "pages_uri": uri})  # type: ignore[return-value]


def check_out(message: M, blobs: BlobStore) -> M:
    """The message with its pages read back (``UnreadableDocument`` BLOB_NOT_FOUND if they are gone)."""
    if isinstance(message, ParsedDocument) and message.pages_uri and not message.pages:
        message.pages = _PAGES.validate_json(blobs.get(message.pages_uri))
    return message
