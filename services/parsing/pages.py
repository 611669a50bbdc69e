"""A stored document's pages for the console, the labeling view and training: rendered to PNG
(pypdfium2) and their words with boxes, read by the stream's own parser (a clicked word is a word
the extractor saw)."""
from __future__ import annotations

import io
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from services.contracts import DocumentRef, Page
from services.parsing.logic import parse
from services.parsing.pdfium import LOCK
from services.storage.blobs import BlobStore

SCALE = 1.5  # 108 dpi: a4 at 893 x 1263 px, readable and light


class PageCache:
    """The words of the last few documents opened (parsing costs ~50 ms a page)."""

    def __init__(self, blobs: BlobStore, max_pages: int, size: int = 16):
        self.blobs, self.max_pages, self.size = blobs, max_pages, size
        self._docs: OrderedDict[str, list[Page]] = OrderedDict()
        self._lock = threading.Lock()

    def pages(self, document_id: str, blob_uri: str) -> list[Page]:
        with self._lock:
            if document_id in self._docs:
                self._docs.move_to_end(document_id)
                return self._docs[document_id]
        ref = DocumentRef(document_id=document_id, source="console", filename="", content_type="application/pdf",
                          sha256="0" * 64, size=0, blob_uri=blob_uri,
                          submitted_at=datetime.now(UTC))
        pages = parse(self.blobs.get(blob_uri), ref, max_pages=self.max_pages).pages
        with self._lock:
            self._docs[document_id] = pages
            while len(self._docs) > self.size:
                self._docs.popitem(last=False)
        return pages

    def words(self, document_id: str, blob_uri: str, number: int) -> dict[str, Any]:
        pages = self.pages(document_id, blob_uri)
        if not 1 <= number <= len(pages):
            raise IndexError(number)
        page = pages[number - 1]
        return {"page": number, "width": page.width, "height": page.height, "ocr": page.ocr,
                "words": [{"text": w.text, "bbox": list(w.bbox)} for w in page.words]}


MAX_PIXELS = 16_000_000  # a rendered page: about 12 times an A4 page at SCALE (some 64 MB as RGBA)


class PageTooLarge(ValueError):
    """A page whose rendering would exceed MAX_PIXELS: refused, never allocated."""


def render_png(data: bytes, number: int, scale: float = SCALE) -> bytes:
    with LOCK:
        return _render_png(data, number, scale)


def _render_png(data: bytes, number: int, scale: float) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        if not 1 <= number <= len(pdf):
            raise IndexError(number)
        page = pdf[number - 1]
        width, height = page.get_size()
        if width * height * scale * scale > MAX_PIXELS:
            raise PageTooLarge(f"page {number} is {width:.0f} x {height:.0f} pt: over {MAX_PIXELS} pixels at "
                               f"{scale}x; open the original instead")
        image = page.render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        return out.getvalue()
    finally:
        pdf.close()
