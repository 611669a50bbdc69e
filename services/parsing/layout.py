"""Geometry over words: reading-order lines from boxes.

``_rows`` and ``split_rows`` run in C where setup.py built services/parsing/_chars.c (0.15 ms a
document's pages against 0.5 in Python on the anchor bench's invoices), and their Python loops here
otherwise: the same rows and lines to the last bit (tests/services/test_layout.py)."""

from __future__ import annotations

import bisect
import itertools
from types import ModuleType

from services.contracts import BBox, Line, Word, make_line

_compiled: ModuleType | None
try:  # ``_rows`` and ``split_rows`` in C (services/parsing/_chars.c); in Python where it is not built
    from services.parsing import _chars as _compiled
except ImportError:  # pragma: no cover - a build without a C compiler
    _compiled = None


def union(boxes: list[BBox]) -> BBox:
    if len(boxes) == 1:  # most lines of an invoice are one word
        return tuple(boxes[0])  # type: ignore[return-value]
    x0, top, x1, bottom = zip(*boxes, strict=True)
    return min(x0), min(top), max(x1), max(bottom)


def group_lines(words: list[Word], *, gap_factor: float = 3.0) -> list[Line]:
    """Words whose vertical centres lie within half a word height form a line.

    Within a line, a horizontal gap wider than ``gap_factor`` times the mean word
    height starts a new line, so that two columns side by side stay apart.
    """
    return split_rows(words, rows_of(words), gap_factor)


# The rows of the pages grouped lately, by their very words (held here, so no id is reused while
# kept; the page's list may be a copy of the one grouped, its words are the same objects): the
# parse groups a page's lines and a template's line-item table its whole rows, from the same rows.
_ROWS: list[tuple[list[Word], list[list[int]]]] = []
_KEEP = 8


def rows_of(words: list[Word]) -> list[list[int]]:
    """The words' rows (indexes, in the order rows begin), each by vertical centre; not to be changed."""
    for kept, rows in reversed(_ROWS):
        if len(kept) == len(words) and all(a is b for a, b in zip(kept, words, strict=True)):
            return rows
    rows = _rows(words)
    _ROWS.append((words, rows))
    del _ROWS[:-_KEEP]
    return rows


def _rows(words: list[Word]) -> list[list[int]]:
    if _compiled is not None:
        grouped = _compiled.rows([w.bbox for w in words])
        if grouped is not None:  # None: a coordinate that is no finite number, grouped below
            return grouped  # type: ignore[no-any-return]
    return _python_rows(words)


def _python_rows(words: list[Word]) -> list[list[int]]:
    order = sorted(range(len(words)), key=lambda i: (words[i].bbox[1], words[i].bbox[0]))
    rows: list[list[int]] = []
    by_centre: list[tuple[float, int]] = []  # (row centre, row number), sorted: the rows near a word by bisection
    for i in order:
        _x0, top, _x1, bottom = words[i].bbox
        mid, half = (top + bottom) / 2, max((bottom - top) / 2, 1.0)
        lo = bisect.bisect_left(by_centre, (mid - half - 1e-6, -1))
        hi = bisect.bisect_right(by_centre, (mid + half + 1e-6, len(rows)))
        near = [r for c, r in by_centre[lo:hi] if abs(c - mid) <= half]
        if near:  # the first row made of those near enough, as a scan of every row would find it
            rows[min(near)].append(i)
        else:
            bisect.insort(by_centre, (mid, len(rows)))
            rows.append([i])
    return rows


def split_rows(words: list[Word], rows: list[list[int]], gap_factor: float) -> list[Line]:
    """Rows of words to lines: a gap of ``gap_factor`` word heights starts a new one; in reading order
    (``rows`` left as they are: they may be ``rows_of``'s)."""
    if _compiled is not None:
        split = _compiled.lines([w.bbox for w in words], rows, gap_factor)
        if split is not None:
            return [make_line(text=" ".join([words[i].text for i in idx]), bbox=box, words=idx) for idx, box in split]
    return _python_split_rows(words, rows, gap_factor)


def _python_split_rows(words: list[Word], rows: list[list[int]], gap_factor: float) -> list[Line]:
    lines: list[Line] = []
    for unsorted in rows:
        row = sorted(unsorted, key=lambda i: words[i].bbox[0])
        height = sum(words[i].bbox[3] - words[i].bbox[1] for i in row) / len(row)
        segment = [row[0]]
        for prev, cur in itertools.pairwise(row):
            if words[cur].bbox[0] - words[prev].bbox[2] > gap_factor * height:
                lines.append(_line(words, segment))
                segment = [cur]
            else:
                segment.append(cur)
        lines.append(_line(words, segment))
    lines.sort(key=lambda ln: (round(ln.bbox[1]), ln.bbox[0]))
    return lines


def _line(words: list[Word], idx: list[int]) -> Line:
    # Built valid (a str, a union of validated boxes, indexes): no validation per line.
    return make_line(
        text=" ".join(words[i].text for i in idx),
        bbox=union([words[i].bbox for i in idx]),
        words=idx,
    )
