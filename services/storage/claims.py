"""The claim check for parsed pages: their words ride in the blob store, the message carries the
reference (``pages_uri``), so a message's size never depends on how many words a document has.

``store`` as a worker parses a document (the message then carries the address), ``check_in`` before a
parsed or classified document is sent, ``check_out`` after one is decoded. The pages are stored
once, content-addressed: the classified message of a document points at the same blob as its
parsed one (no stage changes pages).

A document's stages mostly run in one worker (its partition's), so the pages a worker checked in or
out lately are kept, read-only, by their address: the next stage takes them without reading and
validating the JSON again (about 1 ms of a known vendor's 25 through the broker).

Pages are made again from the document's bytes, which the blob store keeps synced: so they are
stored without a sync of their own (``durable=False``; the sync was 0.5-0.9 ms of a busy worker's
CPU a document, on its event loop). A process that dies keeps them; a power cut may take or tear
the newest, as it may an SQLite commit here. ``check_out`` checks them against their address, and
where they are gone, a reader that can parse (``reparse``) makes them again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from services.contracts import PAGES, Contract, DocumentRef, Page, ParsedDocument
from services.errors import UnreadableDocument
from services.storage.blobs import BlobStore

M = TypeVar("M", bound=Contract)
RECENT = 32  # documents' pages kept in this process
_recent: OrderedDict[tuple[str, str], list[Page]] = OrderedDict()  # (store, address) -> pages
_lock = threading.Lock()


def store(pages: list[Page], blobs: BlobStore, raw: bytes | None = None) -> str:
    """The pages in the blob store, their address answered: ``raw``, their JSON where the reader gave
    it already (the parse sandbox's answer), else made here. A worker stores a document's pages as they
    are parsed, in the thread that parsed them: its parsed and classified messages then carry the
    address (``pages_uri``), and sending them writes nothing."""
    uri = blobs.put(raw if raw is not None else PAGES.dump_json(pages), durable=False)
    _keep(blobs, uri, pages)
    return uri


def check_in(message: M, blobs: BlobStore) -> M:
    """The message with its pages in the blob store and ``pages`` empty (others unchanged)."""
    if not isinstance(message, ParsedDocument) or not message.pages:
        return message
    uri = message.pages_uri or store(message.pages, blobs)
    return message.model_copy(update={"pages": [], "pages_uri": uri})  # type: ignore[return-value]


def check_out(message: M, blobs: BlobStore, reparse: Callable[[DocumentRef], list[Page]] | None = None) -> M:
    """The message with its pages read back; where they are gone (or torn), made again by
    ``reparse`` from the document's bytes, or ``UnreadableDocument`` BLOB_NOT_FOUND without one."""
    if isinstance(message, ParsedDocument) and message.pages_uri and not message.pages:
        with _lock:
            pages = _recent.get((str(blobs.root), message.pages_uri))
        if pages is None or not blobs.exists(message.pages_uri):  # gone is gone, kept or not
            try:
                pages = PAGES.validate_json(blobs.get(message.pages_uri, verify=True))
            except UnreadableDocument:
                if reparse is None:
                    raise
                pages = reparse(message.doc)
                store(pages, blobs)  # where the next reader finds them
            _keep(blobs, message.pages_uri, pages)
        message.pages = pages
    return message


def _keep(blobs: BlobStore, uri: str, pages: list[Page]) -> None:
    """Content-addressed: the same address is the same pages, so a kept copy never goes stale."""
    key = (str(blobs.root), uri)
    with _lock:
        _recent[key] = pages
        _recent.move_to_end(key)
        while len(_recent) > RECENT:
            _recent.popitem(last=False)
