"""Geometry over words: reading-order lines from boxes."""

from __future__ import annotations

import bisect
import itertools

from services.contracts import BBox, Line, Word, make_line


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
    return split_rows(words, [list(row) for row in rows_of(words)], gap_factor)


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
    """Rows of words to lines: a gap of ``gap_factor`` word heights starts a new one; in reading order."""
    lines: list[Line] = []
    for row in rows:
        row.sort(key=lambda i: words[i].bbox[0])
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
