"""Parse as a pure function: stored bytes to a ``ParsedDocument``."""

from __future__ import annotations

from services.contracts import DocumentRef, ParsedDocument
from services.parsing.readers import DEFAULT_READER, Reader

STAGE = "parse"


def parse(data: bytes, doc: DocumentRef, *, max_pages: int, reader: Reader = DEFAULT_READER,
          ocr: bool = True) -> ParsedDocument:
    """Read every page's words and lines, through OCR where a page has no text layer; raise
    ``UnreadableDocument`` for corrupt, encrypted, empty or oversized PDFs."""
    pages = reader.read(data, max_pages=max_pages)
    with_text = sum(p.has_text_layer for p in pages)
    text_layer = "full" if with_text == len(pages) else "none" if with_text == 0 else "partial"
    name = reader.name
    if ocr and with_text < len(pages):
        from services.parsing import ocr as tesseract

        pages = tesseract.ocr_missing(data, pages)
        if any(p.ocr for p in pages):
            name += "+tesseract"
    return ParsedDocument(doc=doc, parser=name, pages=pages, text_layer=text_layer)
