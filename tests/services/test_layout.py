"""Lines from word boxes (services/parsing/layout.py): the rows and lines its C loops
(services/parsing/_chars.c) give are the Python loops', to the last bit, on every layout, on the
real samples where present, and on crowded grids of tied boxes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from services.contracts import Word, make_word
from services.parsing import layout
from services.parsing.pdfium import read_pages
from services.synth.layouts import LAYOUTS
from services.synth.render import generate

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "zugferd-dev"
GAPS = (3.0, 1e9, 0.5, 0.0)  # the parse's, the line items', and either side of every gap


def _same(words: list[Word], gap: float) -> int:
    """Both loops' rows and lines of ``words``; the number of lines."""
    rows = layout._python_rows(words)
    assert layout._rows(words) == rows
    python = layout._python_split_rows(words, [list(row) for row in rows], gap)
    compiled = layout.split_rows(words, rows, gap)
    assert [line.model_dump() for line in compiled] == [line.model_dump() for line in python]
    return len(python)


def test_the_c_loops_group_every_page_as_the_python_loops_do() -> None:
    assert layout._compiled is not None, "setup.py's extension was not built: is gcc there?"
    pdfs = [generate(LAYOUTS[vendor], seed=5, serial=n, items=1 + 13 * n)[0] for vendor in sorted(LAYOUTS)
            for n in range(3)]
    pdfs += [pdf.read_bytes() for pdf in sorted(REAL.rglob("*.pdf"))] if REAL.exists() else []
    lines = 0
    for data in pdfs:
        for page in read_pages(data, max_pages=50):
            for gap in GAPS:
                lines += _same(page.words, gap)
    assert lines > 1000


def test_the_c_loops_break_ties_as_pythons_stable_sorts_do() -> None:
    """Boxes on a coarse grid: equal tops, equal left edges, equal centres, zero-height words,
    rows whose centres lie exactly half a word apart."""
    assert layout._compiled is not None
    rnd = random.Random(7)
    for _ in range(2000):
        step = rnd.choice([0.25, 0.5, 1.0, 3.0])
        words = []
        for i in range(rnd.randint(0, 40)):
            x0, top = rnd.randint(0, 40) * step, rnd.randint(0, 30) * step
            words.append(make_word(text=f"w{i}", bbox=(x0, top, x0 + rnd.randint(0, 8) * step,
                                                        top + rnd.randint(0, 6) * step)))
        _same(words, rnd.choice(GAPS))


def test_a_box_that_is_no_number_is_grouped_by_the_python_loops() -> None:
    """Python's sort orders a NaN its own way: such a page is left to it, not guessed at in C."""
    assert layout._compiled is not None
    words = [make_word(text="a", bbox=(float("nan"), 1.0, 2.0, 3.0)), make_word(text="b", bbox=(1.0, 1.0, 2.0, 3.0))]
    assert layout._compiled.rows([w.bbox for w in words]) is None
    assert layout._compiled.lines([w.bbox for w in words], [[0, 1]], 3.0) is None
    assert [line.text for line in layout.group_lines(words)] == ["a b"]


def test_a_row_that_names_no_word_or_a_box_that_is_no_box_is_refused() -> None:
    assert layout._compiled is not None
    for box in ((0.0, 1.0, 2.0), [0.0, 1.0, 2.0, 3.0], None, (0.0, "1", 2.0, 3.0)):
        with pytest.raises(TypeError):
            layout._compiled.rows([(0.0, 0.0, 1.0, 1.0), box])
    with pytest.raises(IndexError):
        layout._compiled.lines([(0.0, 0.0, 1.0, 1.0)], [[3]], 3.0)
    with pytest.raises(ValueError):
        layout._compiled.lines([(0.0, 0.0, 1.0, 1.0)], [[]], 3.0)


def test_without_the_c_module_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    pdf, _ = generate(LAYOUTS[sorted(LAYOUTS)[0]], seed=9, serial=4, items=14)
    page = read_pages(pdf, max_pages=50)[0]
    compiled = (layout.group_lines(page.words), layout.group_lines(page.words, gap_factor=1e9))
    monkeypatch.setattr(layout, "_compiled", None)
    layout._ROWS.clear()
    assert (layout.group_lines(page.words), layout.group_lines(page.words, gap_factor=1e9)) == compiled


def test_a_number_that_empties_the_boxes_while_they_are_read_does_not_upset_the_c_loops() -> None:
    """The C loops read a copy of the list: a coordinate whose ``__float__`` changes the list
    cannot make them read past its end."""
    assert layout._compiled is not None
    boxes: list = []

    class Sly:
        def __float__(self) -> float:
            boxes.clear()
            return 0.0

    boxes.extend([(Sly(), 0.0, 1.0, 1.0)] + [(float(n), 0.0, float(n) + 1, 1.0) for n in range(1, 200)])
    assert sorted(i for row in layout._compiled.rows(boxes) for i in row) == list(range(200))
