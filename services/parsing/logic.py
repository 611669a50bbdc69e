"""Parse as a pure function: stored bytes to a ``ParsedDocument``."""

from __future__ import annotations

from typing import Literal

from services.contracts import DocumentRef, Page, ParsedDocument, Reason
from services.errors import UnreadableDocument
from services.parsing import pdfium
from services.parsing.readers import DEFAULT_READER, Reader

STAGE = "parse"
# A dense invoice page holds one to three thousand words; a page past this is a text flood, and
# every later stage's work grows with its words.
MAX_WORDS_PER_PAGE = 10_000


def parse(data: bytes, doc: DocumentRef, *, max_pages: int, reader: Reader = DEFAULT_READER,
          ocr: bool = True, max_words: int = MAX_WORDS_PER_PAGE) -> ParsedDocument:
    """Read every page's words and lines, through OCR where a page has no text layer; raise
    ``UnreadableDocument`` for corrupt, encrypted, empty or oversized PDFs, and for a page of
    more than ``max_words`` words."""
    pages = _bounded(reader.read(data, max_pages=max_pages), max_words)
    with_text = sum(p.has_text_layer for p in pages)
    text_layer: Literal["full", "partial", "none"] = (
        "full" if with_text == len(pages) else "none" if with_text == 0 else "partial")
    name = reader.name
    if ocr and with_text < len(pages):
        from services.parsing import ocr as tesseract

        pages = _bounded(tesseract.ocr_missing(data, pages), max_words)
        if any(p.ocr for p in pages):
            name += "+tesseract"
    return ParsedDocument(doc=doc, parser=name, pages=pages, text_layer=text_layer,
                          attachments=pdfium.attachment_count(data))


def _bounded(pages: list[Page], max_words: int) -> list[Page]:
    for page in pages:
        if len(page.words) > max_words:
            raise UnreadableDocument(Reason.TOO_MANY_WORDS, f"page {page.number} has {len(page.words)} words, "
                                     f"over the limit of {max_words}", page=page.number)
    return pages
