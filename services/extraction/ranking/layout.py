"""A page as segments (the reader's lines: runs of words with no wide gap) and the labels a
value has around it: the words before it in its segment, the segment left of it on its row,
the header above it in its column."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property
from math import isnan

from services.contracts import BBox, Page
from services.extraction.ranking.lexicon import fold


@dataclass(frozen=True)
class Segment:
    page: int
    index: int
    text: str
    bbox: BBox
    words: tuple[int, ...]  # indexes into the page's words
    height: float  # the median word height: the font size, near enough

    @cached_property
    def folded(self) -> str:  # asked for again and again by the neighbour look-ups: folded once
        return fold(self.text)

    @cached_property
    def worded(self) -> bool:
        """It holds words, not just numbers (a label may stand in it)."""
        return any(c.isalpha() for c in self.text)


@dataclass(frozen=True)
class Match:
    """One value found in a segment: its text, the words it covers and what labels it."""

    segment: Segment
    raw: str
    start: int  # character offsets in the segment's text
    end: int
    bbox: BBox


class PageLayout:
    """Segments of one page with the neighbour look-ups the rankers need.

    Every value of a page asks for its neighbours, and a neighbour stands in a band of heights
    (above it, on its row): the segments are kept sorted by their bottom edge as well, so that a
    look-up tests the band's few segments, in page order as a scan of all would, not every one."""

    def __init__(self, page: Page):
        self.page = page
        self.segments = []
        for n, line in enumerate(page.lines):
            heights = sorted(page.words[i].bbox[3] - page.words[i].bbox[1] for i in line.words) or [0.0]
            self.segments.append(Segment(page.number, n, line.text, line.bbox, tuple(line.words),
                                         heights[len(heights) // 2]))
        by_bottom = sorted(range(len(self.segments)), key=lambda n: self.segments[n].bbox[3])
        self._bottoms = [self.segments[n].bbox[3] for n in by_bottom]
        self._by_bottom = by_bottom
        # The tallest segment bounds how far below a row's top a segment on that row can end.
        self._tallest = max((seg.bbox[3] - seg.bbox[1] for seg in self.segments), default=0.0)
        self._banded = not any(isnan(v) for seg in self.segments for v in seg.bbox)  # else scanned whole
        # Segments no part of which folds to a letter: ASCII without one (folding leaves such a
        # character as it is; a sign elsewhere may fold to letters, "№" to "No", and is read).
        self._letterless = [all(_LETTERLESS.issuperset(page.words[i].text) for i in seg.words)
                            for seg in self.segments]

    def _bottoms_within(self, low: float, high: float) -> list[Segment]:
        """The segments whose bottom edge lies in [low, high], widened by a rounding's width (the
        callers test each one exactly), in page order; every segment where a coordinate is no number."""
        if not self._banded or isnan(low) or isnan(high):
            return self.segments
        first = bisect_left(self._bottoms, low - _SLACK)
        picked = sorted(self._by_bottom[first:bisect_right(self._bottoms, high + _SLACK)])
        return [self.segments[n] for n in picked]

    def _on_rows_of(self, box: BBox) -> list[Segment]:
        """Every segment that may share a row with ``box`` (more: _same_row decides). Sharing a row
        means overlapping it by half the lower one's height, so the bottom lies below ``box``'s top
        and at most the tallest segment's height below its bottom (a box upside down overlaps
        nothing by half its negative height)."""
        return self._bottoms_within(box[1], box[3] + self._tallest)

    def match_bbox(self, seg: Segment, start: int, end: int) -> BBox:
        """The box of the words the characters [start, end) of ``seg.text`` fall in."""
        boxes, offset = [], 0
        for i in seg.words:
            text = self.page.words[i].text
            if offset < end and offset + len(text) > start:
                boxes.append(self.page.words[i].bbox)
            offset += len(text) + 1
        boxes = boxes or [seg.bbox]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))

    def left_of(self, seg: Segment, x: float) -> Segment | None:
        """The nearest segment with words (not just numbers) on the same row that ends left of ``x``."""
        best = None
        box = seg.bbox
        for other in self._on_rows_of(box):  # the cheap tests first: this runs for every value of a page
            end = other.bbox[2]
            if end > x + 1 or x - end > 320 or other is seg or not _same_row(box, other.bbox) or not other.worded:
                continue
            if best is None or end > best.bbox[2]:
                best = other
        return best

    def above(self, bbox: BBox, reach: float = 3.2) -> list[Segment]:
        """Segments above ``bbox`` whose x-range overlaps it, nearest first, within ``reach`` line heights."""
        height = max(bbox[3] - bbox[1], 4.0)
        low, high, top = -height * 0.3, reach * height * 1.6, bbox[1]
        found = []
        for other in self._bottoms_within(top - high, top - low):
            box = other.bbox
            gap = top - box[3]
            if gap < low or gap > high or box[1] >= top - 1:
                continue
            if _overlap_beyond(bbox, box, -2):
                found.append((gap, other))
        return [seg for _gap, seg in sorted(found, key=lambda pair: pair[0])]

    def header_words_above(self, bbox: BBox, reach: float = 12.0) -> str:
        """The words of the nearest segment above that stand over ``bbox`` and say something (a
        table's column header, above the rows of numbers between)."""
        for seg in self.above(bbox, reach):
            if self._letterless[seg.index]:
                continue  # a row of numbers between the value and its header: nothing of it says anything
            words = [self.page.words[i] for i in seg.words if _overlap_beyond(bbox, self.page.words[i].bbox, -3)]
            text = fold(" ".join(w.text for w in words))
            if any(c.isalpha() for c in text):
                return text
        return ""


_LETTERLESS = frozenset(chr(c) for c in range(128) if not chr(c).isalpha())
_SLACK = 1e-6  # points: a band's edges widened by more than a float's rounding of a page's coordinates


def _overlap_beyond(a: BBox, b: BBox, least: float) -> bool:
    """min(a's right, b's) - max(a's left, b's) > ``least``: how far the x-ranges overlap (negative:
    apart), in four subtractions (min and max are calls: this runs for every segment near every
    value of a page)."""
    return a[2] - b[0] > least and b[2] - a[0] > least and a[2] - a[0] > least and b[2] - b[0] > least


def _same_row(a: BBox, b: BBox) -> bool:
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap > 0.5 * min(a[3] - a[1], b[3] - b[1])


def labels_of(layout: PageLayout, match: Match, reach: float = 12.0) -> list[tuple[str, float]]:
    """The texts that may label ``match``, each with how much a label there counts: the words
    before it in its segment (the last few), the segment left of it, the column header above."""
    seg = match.segment
    out = []
    before = fold(seg.text[:match.start])
    if before:
        out.append((" ".join(before.split()[-7:]), 1.0))
    # The segment to the left on the same row: "Rechnungsdatum" ..... "05.03.2020".
    if not before or len(before.split()) <= 1 or not any(c.isalpha() for c in before):
        left = layout.left_of(seg, match.bbox[0])
        if left is not None and len(left.folded.split()) <= 6:  # a label, not a sentence beside the value
            out.append((left.folded, 0.9))
    # A header above it: a key/value block laid out in columns, or a totals table.
    header = layout.header_words_above(match.bbox, reach)
    if header:
        out.append((header, 0.75))
    return out
