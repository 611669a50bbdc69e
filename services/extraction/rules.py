"""The rules engine: a template's anchors, directions and patterns applied to words with boxes.

For each field: find an anchor phrase on a page, take the words right of it (same row) or
below it (next row, same column), match the field's pattern and normalise the match. The
first anchor occurrence that yields a valid value wins; its page, box and raw text are kept.
"""

from __future__ import annotations

import regex

from services.contracts import FieldValue, LineItem, Page, Word
from services.parsing.anchors import GAP_BREAK, Span, find_anchors, fold
from services.parsing.layout import group_lines, union
from services.vocabulary.currencies import ISO_4217, SYMBOLS
from services.vocabulary.normalise import NORMALISERS, normalise_amount
from services.vocabulary.regex_budget import remaining
from services.vocabulary.templates import FieldRule, LineItemRule, Options, Template

RULE_CONFIDENCE = 0.98
CONSTANT_CONFIDENCE = 0.99


def by_layout(spans: list[Span], where: tuple[float, float] | None) -> list[Span]:
    """Several places print the anchor equally well: the one nearest where the template's layout
    has it first (a title "Invoice" and the label "Invoice"; a totals block that moves with the
    number of line items keeps its order by rank)."""
    if where is None or len(spans) < 2:
        return spans

    def key(span: Span) -> tuple:
        first, page = span.words[0], span.page
        return span.rank, abs(first.bbox[0] / page.width - where[0]) + abs(first.bbox[1] / page.height - where[1])

    return sorted(spans, key=key)


def right_of(anchor: Span, max_distance: float) -> Span | None:
    _ax0, atop, ax1, abottom = union([w.bbox for w in anchor.words])
    height = abottom - atop
    middle, half, start = (atop + abottom) / 2, height / 2, ax1 - 0.5
    band = [  # the cheap test first: this runs over the page's every word for every anchor
        i for i, w in enumerate(anchor.page.words)
        if start <= (x0 := w.bbox[0]) and x0 - ax1 <= max_distance
        and abs((w.bbox[1] + w.bbox[3]) / 2 - middle) <= half and i not in anchor.idx
    ]
    band.sort(key=lambda i: anchor.page.words[i].bbox[0])
    kept: list[int] = []
    for i in band:
        if kept and anchor.page.words[i].bbox[0] - anchor.page.words[kept[-1]].bbox[2] > GAP_BREAK * height:
            break
        kept.append(i)
    return Span(anchor.page, kept) if kept else None


def below(anchor: Span, max_distance: float) -> Span | None:
    ax0, atop, ax1, abottom = union([w.bbox for w in anchor.words])
    height = abottom - atop
    right_edge = ax0 + max(ax1 - ax0, 160.0)
    column = [
        i for i, w in enumerate(anchor.page.words)
        if w.bbox[1] >= abottom - 0.5 and w.bbox[1] - abottom <= min(max_distance, 3 * height)
        and w.bbox[2] > ax0 - 2 and w.bbox[0] < right_edge
    ]
    if not column:
        return None
    first_top = min(anchor.page.words[i].bbox[1] for i in column)
    row = [i for i in column if anchor.page.words[i].bbox[1] - first_top <= height / 2]
    row.sort(key=lambda i: anchor.page.words[i].bbox[0])
    return Span(anchor.page, row)


def _match(span: Span, rule: FieldRule, options: Options, timeout: float) -> tuple[str, str, Span] | None:
    text = span.text
    if rule.pattern:
        allowed = remaining(timeout)
        if allowed <= 0:
            return None
        try:
            found = regex.search(rule.pattern, text, flags=regex.IGNORECASE, timeout=allowed)
        except TimeoutError:
            return None
        if not found:
            return None
        group = 1 if found.re.groups else 0
        raw, start, end = found.group(group), found.start(group), found.end(group)
    else:
        raw, start, end = text, 0, len(text)
    try:
        value = NORMALISERS[rule.type](raw, options)
    except ValueError:
        return None
    # The words whose characters the match covers: the value's own box.
    covered, pos = [], 0
    for i, word in zip(span.idx, span.words, strict=True):
        if pos < end and pos + len(word.text) > start:
            covered.append(i)
        pos += len(word.text) + 1
    return value, raw, Span(span.page, covered or span.idx)


def extract_field(pages: list[Page], rule: FieldRule, template: Template, timeout: float) -> FieldValue | None:
    if rule.value is not None:
        return FieldValue(value=rule.value, confidence=CONSTANT_CONFIDENCE, source=template.ref, raw=rule.value)
    searches = {"right": (right_of,), "below": (below,), "right_or_below": (right_of, below)}[rule.direction]
    for page in pages:
        for phrase in rule.anchors:
            for anchor in by_layout(find_anchors(page, phrase), template.layout.get(phrase)):
                for search in searches:
                    span = search(anchor, rule.max_distance)
                    hit = span and _match(span, rule, template.options, timeout)
                    if hit:
                        value, raw, where = hit
                        return FieldValue(
                            value=value, confidence=RULE_CONFIDENCE, source=template.ref, page=page.number,
                            bbox=union([w.bbox for w in where.words]), raw=raw,
                        )
    return None


def extract_line_items(pages: list[Page], rule: LineItemRule, options: Options) -> list[LineItem]:
    """Rows under the table header, words assigned to the nearest column, across pages."""
    items: list[LineItem] = []
    stops = [" ".join(fold(t) for t in stop.split()) for stop in rule.stop]  # folded once, asked every row
    for page in pages:
        rows = group_lines(page.words, gap_factor=1e9)
        columns: dict[str, tuple[float, float]] | None = None
        found: dict[str, list[Span]] = {}  # each column synonym's anchors on the page, looked for once
        for row in rows:
            if columns is None:
                columns = _header_columns(page, row.words, rule, found)
                continue
            words = [page.words[i] for i in row.words]
            folded = " ".join(fold(w.text) for w in words)
            if any(stop in folded for stop in stops):
                break
            cells: dict[str, list[Word]] = {}
            for w in words:
                cells.setdefault(_column_of(w, columns), []).append(w)
            text = {k: " ".join(w.text for w in v) for k, v in cells.items()}
            if "amount" in text and _is_amount(text["amount"], options):
                items.append(
                    LineItem(
                        description=text.get("description"),
                        quantity=_amount_or_none(text.get("quantity"), options),
                        unit_price=_amount_or_none(text.get("unit_price"), options),
                        amount=_amount_or_none(text.get("amount"), options),
                        page=page.number,
                        bbox=row.bbox,
                    )
                )
            elif items and text.get("description") and items[-1].page == page.number:
                items[-1].description = f"{items[-1].description or ''} {text['description']}".strip()
    return items


def _header_columns(page: Page, row: list[int], rule: LineItemRule,
                    found: dict[str, list[Span]]) -> dict[str, tuple[float, float]] | None:
    in_row = set(row)

    def spans_of(synonym: str) -> list[Span]:
        if synonym not in found:
            found[synonym] = find_anchors(page, synonym)
        return [s for s in found[synonym] if in_row.issuperset(s.idx)]

    if not any(spans_of(synonym) for synonym in rule.columns.get("amount", ())):
        return None  # a header names the amount column: every row above the table is passed over here
    columns = {}
    for name, synonyms in rule.columns.items():
        for synonym in synonyms:
            spans = spans_of(synonym)
            if spans:
                box = union([w.bbox for w in spans[0].words])
                columns[name] = (box[0], box[2])
                break
    return columns if len(columns) >= 2 and "amount" in columns else None


_NUMBER = regex.compile(r"^[-+(]?\d[\d.,'\u00a0 ]*\)?$")


def _column_of(word: Word, columns: dict[str, tuple[float, float]]) -> str:
    """Text left of every numeric column is description; a number goes to the numeric column it
    lines up with (left, centre or right: vendors align numbers every way)."""
    numeric = {name: span for name, span in columns.items() if name != "description"}
    is_number = bool(_NUMBER.match(word.text)) or word.text.upper() in ISO_4217 or word.text in SYMBOLS
    if "description" in columns and numeric:
        left_of_numbers = word.bbox[2] <= min(x0 for x0, _ in numeric.values()) - 2
        if left_of_numbers or not is_number:
            return "description"
    x0, x1 = word.bbox[0], word.bbox[2]
    return min(numeric or columns, key=lambda c: min(
        abs(x1 - columns[c][1]), abs(x0 - columns[c][0]), abs((x0 + x1) / 2 - sum(columns[c]) / 2)))


def _is_amount(text: str, options: Options) -> bool:
    return _amount_or_none(text, options) is not None


def _amount_or_none(text: str | None, options: Options) -> str | None:
    if not text:
        return None
    try:
        return normalise_amount(text, options.decimal_separator)
    except ValueError:
        return None
