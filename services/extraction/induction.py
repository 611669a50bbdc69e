"""Template induction: a vendor template from one to three labeled documents.

For each labelled field, the words printed just left of the value on its row (or on the row
above it) become the anchor, the direction follows, and the value's kind gives the pattern;
dates and numbers teach the template their formats. Every induced rule is checked by running
the rules engine on the labeled documents: a rule that does not give back its label is
dropped and reported, so the labeler sees per field whether the template reproduces it.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from services.contracts import HEADER_FIELDS, LINE_ITEM_FIELDS, LabeledValue, Page, Word
from services.extraction.rules import extract_field
from services.parsing.anchors import find_anchors
from services.parsing.layout import union
from services.vocabulary.currencies import ISO_4217, SYMBOLS
from services.vocabulary.normalise import _DATE_FORMATS, normalise_amount, normalise_date
from services.vocabulary.templates import FieldRule, FieldType, LineItemRule, MatchRule, Options, Template

TYPE_OF: dict[str, FieldType] = {
    "vendor_vat_id": "vat_id", "vendor_iban": "iban", "invoice_date": "date", "due_date": "date",
    "currency": "currency", "net_amount": "amount", "tax_amount": "amount", "total_amount": "amount",
}
Layout = dict[str, tuple[float, float]]
PATTERNS = {
    "text": r"[A-Za-z0-9][\w\-/.]*",
    # Thousands grouped by one separator, or none at all: never both optional (the digits of a long
    # number could then be split every which way, and a search backtrack for seconds).
    "amount": r"-?(?:\d{1,3}(?:[ .,'\u00a0]\d{3})+|\d+)[.,]\d{2}",
    "currency": r"\b[A-Z]{3}\b|[€£$]",
    "iban": r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}",
}


@dataclass
class Labeled:
    """One labeled document: its parsed pages, its field values, and the boxes of its labels."""

    pages: list[Page]
    fields: dict[str, str | None]
    labels: list[LabeledValue]  # located on a page: each with its page and words


@dataclass
class Induced:
    template: Template
    reproduced: dict[str, list[bool]] = field(default_factory=dict)  # per field, per document
    dropped: dict[str, str] = field(default_factory=dict)  # field -> why no rule


def _value_words(page: Page, label: LabeledValue) -> list[int]:
    found = []
    for truth in label.words:
        tx0, ty0, tx1, ty1 = truth.bbox
        for i, w in enumerate(page.words):
            x0, y0, x1, y1 = w.bbox
            if abs(x0 - tx0) < 2 and abs(y0 - ty0) < 2 and abs(x1 - tx1) < 2 and abs(y1 - ty1) < 2:
                found.append(i)
                break
    return found


def _phrase(words: list[Word]) -> str:
    return " ".join(w.text for w in sorted(words, key=lambda w: w.bbox[0]))


def anchor_left(page: Page, value: list[int], taken: frozenset[int] = frozenset()) -> tuple[str, float] | None:
    """The words left of the value on its row, the nearest run of them, and the gap to the value.
    ``taken``: words that are labelled values themselves, never an anchor."""
    x0, top, _, bottom = union([page.words[i].bbox for i in value])
    h, mid = bottom - top, (top + bottom) / 2
    row = sorted((w for i, w in enumerate(page.words) if i not in value and i not in taken and w.bbox[2] <= x0 + 0.5
                  and abs((w.bbox[1] + w.bbox[3]) / 2 - mid) <= h / 2), key=lambda w: -w.bbox[2])
    # A currency printed just before an amount ("€ 9 858,60", "EUR 120.00") is the value's, not its label.
    edge = x0
    while row and _is_currency(row[0].text) and edge - row[0].bbox[2] <= 1.5 * h:
        edge = row.pop(0).bbox[0]
    if not row:
        return None
    run = [row[0]]
    for w in row[1:]:
        if run[-1].bbox[0] - w.bbox[2] > 1.5 * h:
            break
        run.append(w)
    text = _phrase(run)
    return (text, x0 - row[0].bbox[2]) if re.search(r"[^\W\d_]", text) else None


def _is_currency(text: str) -> bool:
    return text in SYMBOLS or text.upper() in ISO_4217


def anchor_above(page: Page, value: list[int], taken: frozenset[int] = frozenset()) -> tuple[str, float] | None:
    """The words on the row just above the value, over its left edge, and the gap to the value."""
    x0, top, x1, _ = union([page.words[i].bbox for i in value])
    above = [w for i, w in enumerate(page.words)
             if i not in taken and w.bbox[3] <= top + 0.5 and top - w.bbox[3] <= 3 * (w.bbox[3] - w.bbox[1])
             and w.bbox[0] < max(x1, x0 + 160) and w.bbox[2] > x0 - 2]
    if not above:
        return None
    nearest = max(w.bbox[3] for w in above)
    row = [w for w in above if abs(w.bbox[3] - nearest) < 2]
    text = _phrase(row)
    return (text, top - nearest) if re.search(r"[^\W\d_]", text) else None


def _rank(anchor: str, gap: float) -> tuple[int, float]:
    """Label-like anchors first: a phrase that reads as a value (a date, an amount, mostly digits
    like a phone number) is more likely other content that happens to sit beside the value; then
    the nearest."""
    alnum = [c for c in anchor if c.isalnum()]
    value_like = sum(c.isdigit() for c in alnum) > len(alnum) / 2 or _reads_as_date(anchor)
    return (1 if value_like else 0, gap)


def _reads_as_date(text: str) -> bool:
    try:
        normalise_date(text)
        return True
    except ValueError:
        return False


def _shape(printed: str) -> str:
    """A pattern of the printed value's shape: digit runs, letter runs, punctuation kept."""
    out = []
    for token in re.findall(r"\d+|[^\W\d_]+|\s+|.", printed):
        if token.isdigit():
            out.append(r"\d{4}" if len(token) == 4 else r"\d{1,2}" if len(token) <= 2 else rf"\d{{{len(token)}}}")
        elif token.isspace():
            out.append(r"\s+")
        elif token[0].isalpha():
            out.append(r"[^\W\d_]+")
        else:
            out.append(re.escape(token))
    return "".join(out)


def _pattern(name: str, printed: str) -> str:
    kind = TYPE_OF.get(name, "text")
    if kind in ("date", "vat_id"):
        return _shape(printed)
    return PATTERNS[kind]


def infer_options(examples: list[Labeled]) -> Options:
    date_formats: list[str] = []
    decimal: Literal[".", ","] | None = None
    for ex in examples:
        for label in ex.labels:
            printed = " ".join(w.text for w in label.words)
            if label.field in ("invoice_date", "due_date"):
                for fmt in _DATE_FORMATS:
                    try:
                        parsed = datetime.strptime(printed, fmt).date().isoformat()
                        if parsed == label.value and fmt not in date_formats:
                            date_formats.append(fmt)
                    except ValueError:
                        continue
                with contextlib.suppress(ValueError):
                    normalise_date(printed)
            if label.field in ("total_amount", "net_amount") and decimal is None:
                for sep in (".", ","):  # type: Literal[".", ","]
                    try:
                        if normalise_amount(printed, sep) == label.value:
                            decimal = sep
                            break
                    except ValueError:
                        continue
    currency = next((ex.fields.get("currency") for ex in examples if ex.fields.get("currency")), None)
    return Options(date_formats=date_formats, decimal_separator=decimal, currency=currency)


def induce(examples: list[Labeled], template_id: str, *, version: int = 1) -> Induced:
    assert examples, "induction needs at least one labeled document"
    options = infer_options(examples)
    name = next((ex.fields.get("vendor_name") for ex in examples if ex.fields.get("vendor_name")), None) or template_id
    probe = Template(id=template_id, version=version, issuer=name, match=MatchRule(), options=options, fields={})
    fields: dict[str, FieldRule] = {"vendor_name": FieldRule(value=name)}
    dropped: dict[str, str] = {}
    # Currency last: where no label prints it, it is read beside the total.
    for fname in sorted(HEADER_FIELDS, key=lambda f: f == "currency"):
        if fname == "vendor_name":
            continue
        ranked: list[tuple[tuple[int, float], FieldRule, Layout]] = []
        for ex in examples:
            label = next((lab for lab in ex.labels if lab.field == fname), None)
            if label is None or label.page is None:  # typed, not picked: nothing to anchor
                continue
            page = ex.pages[label.page - 1]
            value = _value_words(page, label)
            if not value:
                continue
            printed = " ".join(page.words[i].text for i in value)
            kind = TYPE_OF.get(fname, "text")
            taken = _labelled_words(ex, label.page)
            box = union([page.words[i].bbox for i in value])
            sides: tuple[tuple[Literal["right", "below"], tuple[str, float] | None], ...] = (
                ("right", anchor_left(page, value, taken)), ("below", anchor_above(page, value, taken)))
            for direction, found in sides:
                if found:
                    anchor, gap = found
                    spans = find_anchors(page, anchor)
                    if not spans:  # the words left of it do not read back as an anchor phrase
                        continue
                    reach = max((box[2] - union([w.bbox for w in s.words])[2] for s in spans), default=0) + 40
                    ranked.append((_rank(anchor, gap), FieldRule(
                        anchors=[anchor], direction=direction, type=kind, pattern=_pattern(fname, printed),
                        max_distance=max(60.0, reach)), {anchor: _where(page, _nearest(spans, box, direction))}))
        candidates = [(rule, at) for _, rule, at in sorted(ranked, key=lambda r: r[0])]
        if fname == "currency" and not candidates:
            total = fields.get("total_amount")
            if total is not None:
                candidates.append((FieldRule(anchors=total.anchors, direction=total.direction, type="currency",
                                             pattern=PATTERNS["currency"], max_distance=total.max_distance + 80), {}))
        chosen = _first_reproducing(candidates, examples, fname, probe)
        if chosen is None:
            labelled = any(lab.field == fname for ex in examples for lab in ex.labels)
            dropped[fname] = "no anchor reproduces the label" if labelled else "not printed on the labeled documents"
            continue
        fields[fname] = chosen[0]
        probe = probe.model_copy(update={"layout": probe.layout | chosen[1]})
    template = Template(
        id=template_id, version=version, issuer=name,
        match=MatchRule(keywords=[name], identifiers={k: v for k, v in _identifiers(examples).items() if v}),
        options=options, fields=fields, line_items=induce_line_items(examples, fields), layout=probe.layout,
    )
    reproduced = {f: [_reproduces(template.fields[f], ex, f, template) for ex in examples] for f in template.fields}
    return Induced(template, reproduced, dropped)


def _labelled_words(ex: Labeled, page_number: int) -> frozenset[int]:
    page = ex.pages[page_number - 1]
    return frozenset(i for lab in ex.labels if lab.page == page_number for i in _value_words(page, lab))


def _nearest(spans: list, box: tuple[float, float, float, float], direction: str):  # type: ignore[no-untyped-def,type-arg]
    """The anchor span the value is read from: on the value's row (``right``) or over its column
    (``below``), the nearest -- the label printed beside it, not the same words elsewhere."""
    def distance(span) -> tuple[bool, float]:  # type: ignore[no-untyped-def]
        x0, y0, x1, y1 = union([w.bbox for w in span.words])
        dx, dy = max(0.0, box[0] - x1, x0 - box[2]), max(0.0, box[1] - y1, y0 - box[3])
        return (dy > 0, dx) if direction == "right" else (dx > 0, dy)
    return min(spans, key=distance)


def _where(page: Page, span) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Where an anchor stands, as page fractions: the template's layout fingerprint, which also
    tells the rules engine which of several same anchors is the label."""
    first = span.words[0]
    return (round(first.bbox[0] / page.width, 4), round(first.bbox[1] / page.height, 4))


def _identifiers(examples: list[Labeled]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for ex in examples:
        for label in ex.labels:
            if label.field in ("vendor_vat_id", "vendor_iban") and label.field not in ids:
                ids[label.field] = " ".join(w.text for w in label.words)
    return ids


def _reproduces(rule: FieldRule, ex: Labeled, fname: str, template: Template) -> bool:
    want = ex.fields.get(fname)
    if want is None:
        return True
    got = extract_field(ex.pages, rule, template, 0.25)
    return got is not None and got.value == want


def _first_reproducing(candidates: list[tuple[FieldRule, Layout]], examples: list[Labeled], fname: str,
                       probe: Template) -> tuple[FieldRule, Layout] | None:
    for rule, at in candidates:
        with_layout = probe.model_copy(update={"layout": probe.layout | at})
        if all(_reproduces(rule, ex, fname, with_layout) for ex in examples):
            return rule, at
    return None


def induce_line_items(examples: list[Labeled], fields: dict[str, FieldRule]) -> LineItemRule | None:
    """Column headers from the row above the first labelled line item."""
    for ex in examples:
        firsts = {lab.field.split(".")[2]: lab for lab in ex.labels if lab.field.startswith("line_items.0.")}
        if "amount" not in firsts or firsts["amount"].page is None:
            continue
        page = ex.pages[firsts["amount"].page - 1]
        columns: dict[str, list[str]] = {}
        for sub in LINE_ITEM_FIELDS:
            label = firsts.get(sub)
            if label is None:
                continue
            value = _value_words(page, label)
            if not value:
                continue
            x0, top, x1, _ = union([page.words[i].bbox for i in value])
            above = [w for w in page.words if w.bbox[3] <= top and top - w.bbox[3] < 30]
            if not above:
                continue
            nearest = max(w.bbox[3] for w in above)
            row = [w for w in above if abs(w.bbox[3] - nearest) < 2]
            centre = (x0 + x1) / 2
            # The header word(s) over this column: overlapping, else the closest.
            cell = [w for w in row if w.bbox[0] <= x1 + 2 and w.bbox[2] >= x0 - 2] or \
                sorted(row, key=lambda w: abs((w.bbox[0] + w.bbox[2]) / 2 - centre))[:1]
            columns[sub] = [_phrase(cell)]
        if "amount" in columns and len(columns) >= 2:
            stop = fields["net_amount"].anchors if "net_amount" in fields else []
            return LineItemRule(columns=columns, stop=stop)
    return None


def labeled_from_truth(pdf: bytes, truth: dict) -> Labeled:
    """A synthetic document with its truth as a labeled example (what a labeler would produce)."""
    from services.parsing.readers import DEFAULT_READER

    labels = [LabeledValue.model_validate(label) for label in truth["labels"]]
    return Labeled(pages=DEFAULT_READER.read(pdf, max_pages=50), fields=truth["fields"], labels=labels)
