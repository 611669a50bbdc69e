"""Every value of a kind a page offers (dates, amounts, identifiers), each with its labels'
verdict per field: the candidates the rankers choose among."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import regex

from services.extraction.ranking.layout import Match, PageLayout, Segment, labels_of
from services.extraction.ranking.lexicon import label_score
from services.vocabulary.normalise import normalise_amount, normalise_date
from services.vocabulary.regex_budget import remaining

_MONTH = r"[^\W\d_]{3,10}\.?"
DATE = regex.compile(
    r"(?<![\d.,/-])(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}|\d{4}/\d{2}/\d{2}"
    rf"|\d{{1,2}}\.? (?:de )?{_MONTH} (?:de )?\d{{4}}|{_MONTH} \d{{1,2}},? \d{{4}})(?![\d,/-]|\.\d)"
)
# An amount has decimals; thousands grouped by . , ' or a space; a sign before or after.
AMOUNT = regex.compile(r"(?<![\w.,/-])-?\(?(?:\d{1,3}(?:[.,' ]\d{3})+|\d+)[.,]\d{2}\)?-?(?![\d%]|[.,]\d)")
# An identifier: letters, digits and - / . _, with at least one digit (invoice numbers, order numbers).
NUMBER = regex.compile(r"(?<![\w/.-])(?=[A-Za-z0-9/._-]*\d)[A-Za-z0-9][A-Za-z0-9/._-]{1,30}[A-Za-z0-9](?![\w/-])")

_SMALL_OR_DECIMAL = regex.compile(r"\d{1,2}|\d+[.,]\d+")  # a day, a count, a rate: no identifier

MAX_SEGMENT = 2000  # characters of one segment searched
REGEX_TIMEOUT_S = 0.25
# A segment this short is searched without a timeout of its own: the regex module's timeout costs
# 2-9 us a search however short the text (three searches of every segment of a page: a tenth of the
# ranking's time), and none of the three patterns backtracks beyond what a segment's length allows
# (under 0.2 ms on 200 characters built to make them work; tests/services/extraction/test_ranking.py
# holds them to 10 ms). The document's budget is still asked before every search.
UNTIMED = 200


@dataclass
class Candidate:
    kind: str
    value: str  # normal form: ISO date, decimal string
    match: Match
    labels: list[tuple[str, float]]
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def page(self) -> int:
        return self.match.segment.page

    def score(self, name: str) -> float:
        """The nearest label that says anything decides: its weight times how near it stands."""
        if name not in self.scores:
            verdict = 0.0
            for text, nearness in self.labels:
                found = label_score(name, text)
                if found:
                    verdict = -1.0 if found < 0 else found * nearness
                    break
            self.scores[name] = verdict
        return self.scores[name]


def find(layouts: list[PageLayout], kind: str, *, budget: int = 4000) -> list[Candidate]:
    """The ``kind`` ("date", "amount" or "number") values on every page, at most ``budget`` of them."""
    pattern, normalise = {"date": (DATE, _date), "amount": (AMOUNT, _amount), "number": (NUMBER, _number)}[kind]
    out: list[Candidate] = []
    for layout in layouts:
        last = None
        for seg, start, end, raw in _matches(layout, pattern):
            # the document's budget, asked before each segment's values (the search itself asked it too)
            if seg is not last and remaining(REGEX_TIMEOUT_S) <= 0:
                return out
            last = seg
            value = normalise(raw)
            if value is None:
                continue
            match = Match(seg, raw, start, end, layout.match_bbox(seg, start, end))
            # A table's header may stand many rows above an amount; a date's label is near it.
            out.append(Candidate(kind, value, match, labels_of(layout, match, 12.0 if kind == "amount" else 3.5)))
            if len(out) >= budget:
                return out
    return out


def _matches(layout: PageLayout, pattern: regex.Pattern) -> Iterator[tuple[Segment, int, int, str]]:
    """(segment, start, end, text) of every match in each segment's first ``MAX_SEGMENT`` characters,
    in page order. The page's segments are searched as one text, a line break between each two: no
    pattern matches a line break or across one, and each sees a break as it sees a text's edge. One
    search a page, not one a segment (69 segments a page on the anchor's invoices: the ranking took
    3.7 ms a document against 4.5). A text that times out is searched again segment by segment, the
    slow one passed over; a segment that holds a line break of its own is searched alone."""
    texts = [seg.text[:MAX_SEGMENT] for seg in layout.segments]
    allowed = remaining(REGEX_TIMEOUT_S)
    if allowed <= 0 or not texts:
        return
    joined = "\n".join(texts)
    if joined.count("\n") == len(texts) - 1:  # no segment holds a break of its own
        try:
            found = list(pattern.finditer(joined, timeout=allowed if len(joined) > UNTIMED else None))
        except TimeoutError:
            pass
        else:
            starts = list(itertools.accumulate((len(text) + 1 for text in texts[:-1]), initial=0))
            for m in found:
                k = bisect.bisect_right(starts, m.start()) - 1
                yield layout.segments[k], m.start() - starts[k], m.end() - starts[k], m.group(0)
            return
    for seg, text in zip(layout.segments, texts, strict=True):
        allowed = remaining(REGEX_TIMEOUT_S)
        if allowed <= 0:
            return
        try:  # bounded work per segment: a pathological one is passed over, never a failed document
            found = list(pattern.finditer(text, timeout=allowed if len(text) > UNTIMED else None))
        except TimeoutError:
            continue
        for m in found:
            yield seg, m.start(), m.end(), m.group(0)


def _number(raw: str) -> str | None:
    """An identifier that is no date, amount or percentage on its own."""
    if DATE.fullmatch(raw) or AMOUNT.fullmatch(raw) or _SMALL_OR_DECIMAL.fullmatch(raw):
        return None
    return raw


def _date(raw: str) -> str | None:
    try:
        value = normalise_date(raw.replace(" de ", " "))
    except ValueError:
        return None
    return value if "1990" <= value[:4] <= "2099" else None


def _amount(raw: str) -> str | None:
    text = raw.replace("'", "").replace("(", "-").replace(")", "")
    try:
        return normalise_amount(text)
    except ValueError:
        return None


