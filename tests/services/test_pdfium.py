"""The pdfium reader against the pdfplumber reader it replaces as the default: the same words, in
the same order, with boxes within a point, on synthetic invoices of every layout and on the real
sample invoices in ../shared/corpus (where that folder is present)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.parsing import pdfium
from services.parsing.readers import DEFAULT_READER, PdfiumReader, PdfplumberReader
from services.synth import bad
from services.synth.layouts import LAYOUTS
from services.synth.render import generate

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "zugferd-dev"
PLUMBER = PdfplumberReader()


def compare(data: bytes) -> tuple[int, int, float]:
    """(pages, pages whose word lists agree, the largest box difference on those pages)."""
    ours, theirs = pdfium.read_pages(data, max_pages=50), PLUMBER.read(data, max_pages=50)
    assert len(ours) == len(theirs)
    same, worst = 0, 0.0
    for a, b in zip(ours, theirs, strict=True):
        assert (a.width, a.height) == pytest.approx((b.width, b.height))
        if sorted(w.text for w in a.words) != sorted(w.text for w in b.words):
            continue
        same += 1
        for x, y in zip(_ordered(a.words), _ordered(b.words), strict=True):
            worst = max(worst, *(abs(p - q) for p, q in zip(x.bbox, y.bbox, strict=True)))
    return len(ours), same, worst


def _ordered(words: list) -> list:  # type: ignore[type-arg]
    return sorted(words, key=lambda w: (w.text, w.bbox))


@pytest.mark.parametrize("vendor", sorted(LAYOUTS))
def test_the_same_words_and_boxes_on_synthetic_invoices(vendor: str) -> None:
    for serial in range(3):
        pdf, _ = generate(LAYOUTS[vendor], seed=11, serial=serial, items=1 + 9 * serial)  # one to three pages
        pages, same, worst = compare(pdf)
        assert same == pages and worst < 1.0, (vendor, serial, same, pages, worst)
        ours = pdfium.read_pages(pdf, max_pages=50)
        assert [w.text for p in ours for w in p.words] == [w.text for p in PLUMBER.read(pdf, max_pages=50)
                                                            for w in p.words], "in the same order"


@pytest.mark.skipif(not REAL.exists(), reason="the real sample invoices are not here")
def test_the_same_words_on_real_invoices_boxes_within_a_point() -> None:
    pages = same = 0
    worst = 0.0
    for pdf in sorted(REAL.rglob("*.pdf")):
        p, s, w = compare(pdf.read_bytes())
        pages, same, worst = pages + p, same + s, max(worst, w)
    # The pages that differ: margin text turned 90 degrees (pdfplumber reads it backwards), two
    # overprinted letters, a space PDFium infers between "19%" and "UST(S)".
    assert same >= 0.9 * pages and worst < 1.0, (same, pages, worst)


def test_it_is_the_default_and_leaves_what_it_cannot_read_to_pdfplumber() -> None:
    assert isinstance(DEFAULT_READER, PdfiumReader)
    from services.errors import UnreadableDocument

    for data, reason in ((bad.encrypted_pdf(), "PDF_ENCRYPTED"), (bad.ZERO_PAGE_PDF, "PDF_NO_PAGES"),
                         (bad.deep_page_tree(5000, "x"), "PDF_CORRUPT")):
        with pytest.raises(UnreadableDocument) as caught:
            DEFAULT_READER.read(data, max_pages=50)
        assert caught.value.reason == reason



CONCURRENT = """
import io, sys
from concurrent.futures import ThreadPoolExecutor
from reportlab.pdfgen import canvas
from services.parsing import pdfium
from services.parsing.pages import render_png

def pdf(k):  # the standard 14 fonts, not embedded: PDFium's font mapper is shared by every document
    out = io.BytesIO()
    c = canvas.Canvas(out)
    for font in ("Helvetica", "Times-Roman", "Courier", "Helvetica-Bold"):
        c.setFont(font, 10)
        for y in range(40):
            c.drawString(40, 800 - 19 * y - k, f"{font} {y} Rechnung Nr. {k}-{y} vom 12.03.2025 Summe 1.234,56 EUR")
        c.showPage()
    c.save()
    return out.getvalue()

def texts(data):
    return [(w.text, tuple(w.bbox)) for p in pdfium.read_pages(data, max_pages=50) for w in p.words]

pdfs = [pdf(k) for k in range(4)]
alone = [texts(p) for p in pdfs]
with ThreadPoolExecutor(3) as pool:
    reads = [pool.submit(lambda: [texts(p) for p in pdfs]) for _ in range(6)]
    draws = [pool.submit(lambda: [render_png(p, 1) for p in pdfs]) for _ in range(6)]
    wrong = sum(f.result() != alone for f in reads)
    drawn = sum(len(f.result()) for f in draws)
print(wrong, drawn)
"""


def test_threads_reading_and_rendering_at_once_read_what_one_thread_reads() -> None:
    """The console renders a page's image while it reads the page's words, each in a thread of the
    server's pool. Without the process's PDFium lock that crashes the process (or fails to load
    pages, or reads wrong words), so it runs in a child."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", CONCURRENT], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["0", "24"], run.stdout


def _both_loops(data: bytes) -> list[tuple[list, list, list, list]]:
    """Each page's chars and words from the C loop and from the Python loop."""
    import pypdfium2 as pdfium_api
    import pypdfium2.raw as raw

    out = []
    document = pdfium_api.PdfDocument(data)
    try:
        for page in document:
            x0, y0, x1, y1 = page.get_mediabox()
            left, top = min(x0, x1), max(y0, y1)
            textpage = page.get_textpage()
            python = pdfium._chars(raw, textpage, left, top)
            out.append((pdfium._compiled_chars(raw, textpage, left, top), python,
                        pdfium._compiled_words(raw, textpage, left, top), list(pdfium._words(python))))
            textpage.close()
            page.close()
    finally:
        document.close()
    return out


def _turned_and_tied() -> bytes:
    """Standard-14 and embedded fonts, a margin line turned 90 degrees, a ligature, a wide gap,
    letters spaced and raised either side of the word-joining tolerances."""
    import io

    from reportlab.pdfgen import canvas

    from services.synth.render import _register_fonts

    _register_fonts()
    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.setFont("Helvetica", 10)
    c.drawString(40, 800, "Rechnung Nr. 2025-17 vom 12.03.2025")
    c.drawString(40, 780, "Summe          1.234,56 EUR")
    c.setFont("DocflowSans", 9)
    c.drawString(40, 760, "Lieferung \ufb01nal, Betrag € 12,00")
    for n, spacing in enumerate((1.0, 2.0)):  # letters 1 and 2 points apart: one word, then one a letter
        text = c.beginText(40, 740 - 14 * n)
        text.setCharSpace(spacing)
        text.textOut("Gesamtbetrag")
        text.setRise(2.0 + 2 * n)  # a raised mark 2 and 4 points up: the same word, then its own
        text.textOut("1)")
        c.drawText(text)
    c.saveState()
    c.translate(20, 300)
    c.rotate(90)
    c.setFont("Times-Roman", 7)
    c.drawString(0, 0, "Sitz der Gesellschaft: Berlin, HRB 12345")
    c.restoreState()
    c.showPage()
    c.save()
    return out.getvalue()


def test_the_c_loop_gives_the_python_loops_chars_and_words_to_the_last_bit() -> None:
    """services/parsing/_chars.c is the Python loops' rule in C: the same chars and words, the same floats.
    ``make setup`` builds it (an install without a compiler runs the Python loop)."""
    assert pdfium._compiled is not None, "setup.py's extension was not built: is gcc there?"
    pdfs = [_turned_and_tied()]
    pdfs += [generate(LAYOUTS[vendor], seed=5, serial=1, items=40)[0] for vendor in sorted(LAYOUTS)]
    pdfs += [pdf.read_bytes() for pdf in sorted(REAL.rglob("*.pdf"))] if REAL.exists() else []
    pages = 0
    for data in pdfs:
        for compiled, python, compiled_words, python_words in _both_loops(data):
            assert compiled == python
            assert [type(ch[5]) for ch in compiled] == [bool] * len(compiled)
            assert compiled_words == python_words
            pages += 1
    assert pages > len(pdfs)  # forty items run over a page


def test_without_the_c_module_the_reader_reads_the_same_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """An install that could not build _chars.c runs the loops in Python: the same pages."""
    pdf, _ = generate(LAYOUTS[sorted(LAYOUTS)[0]], seed=9, serial=4, items=14)
    compiled = pdfium.read_pages(pdf, max_pages=50)
    monkeypatch.setattr(pdfium, "_compiled", None)
    assert pdfium.read_pages(pdf, max_pages=50) == compiled
