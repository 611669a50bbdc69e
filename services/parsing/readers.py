"""PDF readers behind one small interface, so OCR and faster readers fit beside pdfplumber.

A reader turns bytes into ``Page`` objects (words with boxes; lines are built by
``layout.group_lines``) and raises ``UnreadableDocument`` with a reason code.
"""

from __future__ import annotations

import contextlib
import io
from typing import Protocol

from services.contracts import Page, Reason, Word
from services.errors import UnreadableDocument
from services.parsing.layout import group_lines

# Glyphs closer than this (points) join into one word. pdfplumber's default of 3 pt glues
# "USD" to "1,234.56" when a layout sets them tight; a space in 8-12 pt type is 2.2-3.3 pt.
X_TOLERANCE = 1.5


class Reader(Protocol):
    name: str

    def read(self, data: bytes, *, max_pages: int) -> list[Page]: ...


class PdfplumberReader:
    name = "pdfplumber"

    def read(self, data: bytes, *, max_pages: int) -> list[Page]:
        import pdfplumber
        from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
        from pdfminer.pdfparser import PDFSyntaxError
        from pdfplumber.utils.exceptions import PdfminerException

        try:
            pdf = pdfplumber.open(io.BytesIO(data))
        except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
            raise UnreadableDocument(Reason.PDF_ENCRYPTED, f"encrypted: {type(exc).__name__}") from None
        except PdfminerException as exc:
            cause = exc.args[0] if exc.args else exc
            if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
                raise UnreadableDocument(Reason.PDF_ENCRYPTED, "the PDF needs a password") from None
            raise UnreadableDocument(Reason.PDF_CORRUPT, f"unreadable PDF: {type(cause).__name__}") from None
        except (PDFSyntaxError, ValueError, KeyError, TypeError, AssertionError) as exc:
            raise UnreadableDocument(Reason.PDF_CORRUPT, f"unreadable PDF: {type(exc).__name__}") from None
        try:
            try:
                count = len(pdf.pages)
            except Exception as exc:  # pdfminer raises many types on broken page trees
                raise UnreadableDocument(Reason.PDF_CORRUPT, f"no page tree: {type(exc).__name__}") from None
            if count == 0:
                raise UnreadableDocument(Reason.PDF_NO_PAGES, "the PDF has no pages")
            if count > max_pages:
                raise UnreadableDocument(Reason.TOO_MANY_PAGES, f"{count} pages exceeds the limit of {max_pages}")
            pages = []
            for number, page in enumerate(pdf.pages, start=1):
                if not (float(page.width) > 0 and float(page.height) > 0):
                    raise UnreadableDocument(Reason.PDF_CORRUPT, f"page {number} has no area "
                                             f"({float(page.width):g} x {float(page.height):g} pt)", page=number)
                try:
                    raw_words = page.extract_words(x_tolerance=X_TOLERANCE, y_tolerance=3)
                except Exception as exc:
                    if isinstance(exc, MemoryError) or isinstance(exc.args[0] if exc.args else None, MemoryError):
                        raise MemoryError from None  # over the memory budget (pdfplumber wraps it): not corrupt
                    raise UnreadableDocument(
                        Reason.PDF_CORRUPT, f"page {number} unreadable: {type(exc).__name__}"
                    ) from None
                words = [
                    Word(text=w["text"], bbox=(round(w["x0"], 2), round(w["top"], 2),
                                               round(w["x1"], 2), round(w["bottom"], 2)))
                    for w in raw_words
                ]
                pages.append(
                    Page(
                        number=number,
                        width=float(page.width),
                        height=float(page.height),
                        words=words,
                        lines=group_lines(words),
                        has_text_layer=bool(words),
                    )
                )
            return pages
        finally:  # closing walks the page tree again: a broken one must not fail the close
            with contextlib.suppress(Exception):
                pdf.close()


class PdfiumReader:
    """PDFium's text layer in pdfplumber's form (services/parsing/pdfium.py), five times faster;
    pdfplumber reads what PDFium leaves to it (a document it cannot open, a rotated page), so its
    reasons (PDF_CORRUPT, PDF_ENCRYPTED ...) stay the reasons."""

    name = "pdfium"

    def __init__(self, fallback: Reader | None = None):
        self.fallback = fallback or PdfplumberReader()

    def read(self, data: bytes, *, max_pages: int) -> list[Page]:
        from services.parsing import pdfium

        try:
            return pdfium.read_pages(data, max_pages=max_pages)
        except pdfium.Unsuited:
            return self.fallback.read(data, max_pages=max_pages)


DEFAULT_READER: Reader = PdfiumReader()
