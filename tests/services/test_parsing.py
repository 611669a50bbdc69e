"""Parsing: words with boxes, lines, text-layer presence, and every unreadable PDF's reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.contracts import DocumentRef, Reason
from services.errors import UnreadableDocument
from services.parsing.logic import parse
from services.synth import bad
from services.synth.layouts import NORTHWIND
from services.synth.render import generate


def ref() -> DocumentRef:
    return DocumentRef(document_id="d", source="t", filename="f.pdf", content_type="application/pdf",
                       sha256="0" * 64, size=1, blob_uri="blob://x", submitted_at=datetime.now(UTC))


def test_words_boxes_and_lines() -> None:
    """A generated invoice yields its words with boxes inside the page, grouped into lines."""
    data, truth = generate(NORTHWIND, seed=1, serial=1, items=3)
    doc = parse(data, ref(), max_pages=10)
    assert doc.text_layer == "full" and doc.parser == "pdfium"
    page = doc.pages[0]
    texts = [w.text for w in page.words]
    assert truth["fields"]["invoice_number"] in texts
    for w in page.words:
        x0, top, x1, bottom = w.bbox
        assert 0 <= x0 < x1 <= page.width and 0 <= top < bottom <= page.height
    assert any(line.text.startswith("Invoice No:") for line in page.lines)
    # pdfplumber's default tolerance would glue the amount to the currency; ours keeps them apart.
    assert any(line.text.endswith(" GBP") for line in page.lines)


def test_long_tables_run_onto_more_pages() -> None:
    """Forty line items need a second page, and the parser reads both."""
    data, _ = generate(NORTHWIND, seed=1, serial=2, items=40)
    doc = parse(data, ref(), max_pages=10)
    assert len(doc.pages) >= 2 and all(p.words for p in doc.pages)


def test_image_only_has_no_text_layer() -> None:
    """A page without text is reported as text_layer none, not as an error."""
    assert parse(bad.image_only_pdf(), ref(), max_pages=5).text_layer == "none"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (bad.encrypted_pdf(), Reason.PDF_ENCRYPTED),
        (bad.ZERO_PAGE_PDF, Reason.PDF_NO_PAGES),
        (b"%PDF-1.7\n" + bytes(range(256)) * 4, Reason.PDF_CORRUPT),
        (generate(NORTHWIND, 1, 1)[0][:5000], Reason.PDF_CORRUPT),
        (bad.many_pages(6, "x"), Reason.TOO_MANY_PAGES),
    ],
    ids=["encrypted", "zero-pages", "garbage", "truncated", "too-many-pages"],
)
def test_unreadable(data: bytes, reason: Reason) -> None:
    """Each unreadable PDF raises UnreadableDocument with its reason code."""
    with pytest.raises(UnreadableDocument) as info:
        parse(data, ref(), max_pages=5)
    assert info.value.reason == reason


@pytest.mark.skipif(not __import__("shutil").which("tesseract"), reason="tesseract-ocr is not installed")
def test_scanned_pages_are_read_by_ocr() -> None:
    """An image-only page is read through Tesseract into words with boxes near the truth's."""
    import random

    from services.synth.scan import scan

    pdf, truth = generate(NORTHWIND, seed=1, serial=4, items=2)
    scanned, moved = scan(pdf, truth, random.Random(1))
    doc = parse(scanned, ref(), max_pages=5)
    assert doc.text_layer == "none" and doc.parser == "pdfium+tesseract" and doc.pages[0].ocr
    number = next(lab for lab in moved["labels"] if lab["field"] == "invoice_number")
    hits = [w for w in doc.pages[0].words if w.text == number["text"]]
    assert hits, "the invoice number was not read"
    assert max(abs(a - b) for a, b in zip(hits[0].bbox, number["bbox"], strict=True)) < 6


def _group_lines_by_scanning(words, gap_factor=3.0):  # type: ignore[no-untyped-def]
    """The former quadratic row finding (every word against every row), kept as the reference."""
    from services.parsing.layout import split_rows

    order = sorted(range(len(words)), key=lambda i: (words[i].bbox[1], words[i].bbox[0]))
    rows, centre = [], []
    for i in order:
        _x0, top, _x1, bottom = words[i].bbox
        mid, half = (top + bottom) / 2, max((bottom - top) / 2, 1.0)
        for r, c in enumerate(centre):
            if abs(c - mid) <= half:
                rows[r].append(i)
                break
        else:
            rows.append([i])
            centre.append(mid)
    return split_rows(words, rows, gap_factor)


def test_line_grouping_by_bisection_is_the_scan_it_replaced() -> None:
    """Rows found by bisection over their centres, not by scanning every row: the same lines on
    random pages (mixed heights, overlapping rows), and a page of 40,000 rows in linear-log time."""
    import random

    from services.contracts import Word
    from services.parsing.layout import group_lines

    rng = random.Random(7)
    for _ in range(200):
        words = []
        for n in range(rng.randint(1, 120)):
            x, y, h = rng.uniform(0, 500), rng.uniform(0, 800), rng.choice([0.5, 2, 6, 9, 9, 10, 12, 24])
            words.append(Word(text=f"w{n}", bbox=(x, y, x + rng.uniform(5, 60), y + h)))
        assert group_lines(words) == _group_lines_by_scanning(words)
    flood = [Word(text="x", bbox=(10, 2.5 * n, 20, 2.5 * n + 2)) for n in range(40_000)]
    assert len(group_lines(flood)) == 40_000


def test_the_sandbox_answers_what_parsing_in_process_gives() -> None:
    """The child's answer is JSON checked against the contract: the same pages as parsing here, the
    same reasons for unreadable bytes, and the child lives on between documents."""
    from services.parsing.sandbox import ParseSandbox

    sandbox = ParseSandbox(timeout_s=20, memory_mb=1536)
    try:
        pdf, doc = generate(NORTHWIND, 2, 3, items=4)[0], ref()
        assert sandbox.parse(pdf, doc, max_pages=5).document == parse(pdf, doc, max_pages=5)
        for data, reason in ((bad.ZERO_PAGE_PDF, Reason.PDF_NO_PAGES), (bad.many_pages(6, "x"), Reason.TOO_MANY_PAGES)):
            with pytest.raises(UnreadableDocument) as info:
                sandbox.parse(data, ref(), max_pages=5)
            assert info.value.reason == reason
        assert sandbox.parse(pdf, ref(), max_pages=5).cpu_s > 0 and sandbox.restarts == 0
    finally:
        sandbox.close()
