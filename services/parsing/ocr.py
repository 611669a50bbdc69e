"""OCR for pages without a text layer: Tesseract (Debian's tesseract-ocr, via pytesseract)
turns the rendered page into the same words-with-boxes form the PDF reader gives."""

from __future__ import annotations

import os
import shutil
from functools import cache
from typing import Any

from services.contracts import Page, Word
from services.parsing.layout import group_lines
from services.parsing.pdfium import LOCK

DPI = 200
# A page is rendered for OCR at DPI, or smaller where that would pass this many pixels (a poster-
# sized or hostile 20,000-point page is read at what its pixels allow, never at gigapixels).
MAX_PIXELS = 16_000_000
# Each added language model costs time on every page (five cost 2.5x one here); set
# DOCFLOW_OCR_LANGUAGES=eng+deu+fra+spa+nld where accents in names matter more than speed.
LANGUAGES = os.environ.get("DOCFLOW_OCR_LANGUAGES", "eng")
MIN_CONFIDENCE = 30.0


@cache
def available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_page(image, scale: float, number: int, width: float, height: float) -> Page:  # type: ignore[no-untyped-def]
    """Words of a page rendered at ``scale`` (``render``), boxes in PDF points with the origin top-left."""
    import pytesseract

    data = pytesseract.image_to_data(image, lang=LANGUAGES, config="--psm 3", output_type=pytesseract.Output.DICT)
    k = 1 / scale
    words = []
    for text, conf, left, top, w, h in zip(data["text"], data["conf"], data["left"], data["top"], data["width"],
                                           data["height"], strict=True):
        text = text.strip()
        if text and float(conf) >= MIN_CONFIDENCE:
            words.append(Word(text=text, bbox=(round(left * k, 2), round(top * k, 2),
                                               round((left + w) * k, 2), round((top + h) * k, 2))))
    return Page(number=number, width=width, height=height, words=words, lines=group_lines(words),
                has_text_layer=False, ocr=True)


def ocr_missing(data: bytes, pages: list[Page]) -> list[Page]:
    """Pages with no words are read again through OCR; the others are kept as they are."""
    if not available() or all(p.words for p in pages):
        return pages
    import pypdfium2 as pdfium

    with LOCK:  # rendering is PDFium's; reading the images is Tesseract's, in a process of its own
        document = pdfium.PdfDocument(data)
        try:
            images = {p.number: render(document[p.number - 1], p.width, p.height) for p in pages if not p.words}
        finally:
            document.close()
    return [p if p.words else ocr_page(*images[p.number], number=p.number, width=p.width, height=p.height)
            for p in pages]


def render(pdf_page, width: float, height: float) -> tuple[Any, float]:  # type: ignore[no-untyped-def]
    """A pypdfium2 page as a greyscale image for OCR, and the scale it was rendered at."""
    scale = min(DPI / 72, (MAX_PIXELS / max(1.0, width * height)) ** 0.5)
    return pdf_page.render(scale=scale).to_pil().convert("L"), scale
