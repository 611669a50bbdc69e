"""A labeler's picks (words clicked or dragged over on a page) to labels, as pure functions.

A label is a ``LabeledValue`` (services/contracts.py), the synthetic corpus's truth form, so the
same record is training data for the layout model (``docflow train`` aligns ``words`` to tokens),
the input of template induction and the unit of the ``labels`` topic:
``{"field", "value", "text", "page", "bbox", "words": [{"text", "bbox"}]}`` as JSON (``stored``).
Fields are the header fields of the schema and ``line_items.<row>.<column>``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.contracts import (
    HEADER_FIELDS,
    LINE_ITEM_FIELDS,
    FieldValue,
    Label,
    LabeledValue,
    LabeledWord,
    Page,
    Word,
)
from services.extraction.model.labels import FIELD_TYPES
from services.parsing.layout import union
from services.vocabulary.normalise import _DATE_FORMATS, NORMALISERS
from services.vocabulary.templates import Options

MAX_ROWS = 500
BOX_TOLERANCE = 1.5  # points: a box sent back by the browser or Label Studio is the word's box
_LINE_FIELD = re.compile(r"^line_items\.(\d{1,3})\.(" + "|".join(LINE_ITEM_FIELDS) + r")$")


class Pick(BaseModel):
    """What a labeler chose for one field: words on a page (their boxes), and/or a typed value."""

    field: str = Field(max_length=40)
    page: int | None = Field(default=None, ge=1)
    words: list[tuple[float, float, float, float]] = Field(default_factory=list, max_length=400)
    value: str | None = Field(default=None, max_length=1000, description="Overrides the words' text.")


class LabelError(ValueError):
    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def field_type(name: str) -> str:
    """The normaliser kind of a header or line-item field; ValueError for anything else."""
    if name in HEADER_FIELDS:
        return FIELD_TYPES[name]
    match = _LINE_FIELD.match(name)
    if match is None or int(match.group(1)) >= MAX_ROWS:
        raise ValueError(f"unknown field {name!r}: a header field or line_items.<row>.<{'|'.join(LINE_ITEM_FIELDS)}>")
    return "text" if match.group(2) == "description" else "amount"


def words_at(page: Page, boxes: Iterable[tuple[float, float, float, float]]) -> list[Word]:
    """The page's words at these boxes, in reading order; ValueError for a box with no word."""
    found: list[Word] = []
    for box in boxes:
        word = next((w for w in page.words
                     if all(abs(a - b) <= BOX_TOLERANCE for a, b in zip(w.bbox, box, strict=True))), None)
        if word is None:
            raise ValueError(f"no word at {list(box)} on page {page.number}")
        if word not in found:
            found.append(word)
    return sorted(found, key=lambda w: (round(w.bbox[1] / 4), w.bbox[0]))


def words_inside(page: Page, rect: tuple[float, float, float, float], min_overlap: float = 0.5) -> list[Word]:
    """Words whose box lies at least ``min_overlap`` inside ``rect`` (a dragged or imported region)."""
    x0, y0, x1, y1 = rect
    out = []
    for w in page.words:
        wx0, wy0, wx1, wy1 = w.bbox
        area = max(1e-6, (wx1 - wx0) * (wy1 - wy0))
        inter = max(0.0, min(x1, wx1) - max(x0, wx0)) * max(0.0, min(y1, wy1) - max(y0, wy0))
        if inter / area >= min_overlap:
            out.append(w)
    return sorted(out, key=lambda w: (round(w.bbox[1] / 4), w.bbox[0]))


def document_options(texts: dict[str, str]) -> Options:
    """The decimal separator and date format one document uses, read off all its labelled values at
    once: '1.234,56' settles the separator for '12,50' beside it, '17/04/2025' the order of '03/04/2025'."""
    decimal = None
    for name, text in texts.items():
        if field_type(name) == "amount" and "." in text and "," in text:
            decimal = "," if text.rfind(",") > text.rfind(".") else "."
            break
    dates = [t for n, t in texts.items() if field_type(n) == "date"]
    formats = []
    for fmt in _DATE_FORMATS:
        if dates and all(_parses(t, fmt) for t in dates):
            formats.append(fmt)
    return Options(date_formats=formats[:1], decimal_separator=decimal)  # type: ignore[arg-type]


def _parses(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(" ".join(text.split()), fmt)
        return True
    except ValueError:
        return False


def build(picks: list[Pick], pages: list[Page]) -> list[LabeledValue]:
    """Labels from picks: the words' text, the value normalised to the field schema. A field picked
    twice is an error; so is a box where the page has no word. LabelError lists every problem."""
    problems: dict[str, str] = {}
    chosen: dict[str, tuple[Pick, list[Word]]] = {}
    for pick in picks:
        try:
            field_type(pick.field)
            if pick.field in chosen:
                raise ValueError("labelled twice")
            words: list[Word] = []
            if pick.words:
                if pick.page is None or not 1 <= pick.page <= len(pages):
                    raise ValueError(f"no page {pick.page}")
                words = words_at(pages[pick.page - 1], pick.words)
            elif not (pick.value or "").strip():
                raise ValueError("neither words nor a value")
            chosen[pick.field] = (pick, words)
        except ValueError as exc:
            problems[pick.field] = str(exc)
    texts = {name: " ".join(w.text for w in words) for name, (_, words) in chosen.items() if words}
    options = document_options(texts)
    labels = []
    for name, (pick, words) in chosen.items():
        text = texts.get(name, "")
        try:
            value = NORMALISERS[field_type(name)](pick.value if (pick.value or "").strip() else text, options)
        except ValueError as exc:
            problems[name] = f"{exc} (type the value to correct it)"
            continue
        labels.append(_label(name, value, words, text=text or None, page=pick.page if words else None))
    if problems:
        raise LabelError(problems)
    return sorted(labels, key=_order)


def _label(name: str, value: str | None, words: list[Word], *, text: str | None, page: int | None) -> LabeledValue:
    def box(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return (round(bbox[0], 2), round(bbox[1], 2), round(bbox[2], 2), round(bbox[3], 2))

    return LabeledValue(field=name, value=value, text=text, page=page,
                        bbox=box(union([w.bbox for w in words])) if words else None,
                        words=[LabeledWord(text=w.text, bbox=box(w.bbox)) for w in words])


def _order(label: LabeledValue) -> tuple:
    match = _LINE_FIELD.match(label.field)
    if match:
        return (1, int(match.group(1)), LINE_ITEM_FIELDS.index(match.group(2)))
    return (0, HEADER_FIELDS.index(label.field), 0)


def stored(labels: list[LabeledValue]) -> list[dict[str, Any]]:
    """The labels as JSON: a label set's column, a truth.json's ``labels``, an API's answer."""
    return [label.model_dump(mode="json") for label in labels]


def suggest(fields: dict[str, FieldValue], pages: list[Page]) -> list[LabeledValue]:
    """Labels pre-filled from an extraction: the words inside each value's box, so a labeler
    confirms or corrects instead of starting from nothing."""
    out = []
    for name, found in fields.items():
        if name not in HEADER_FIELDS or not found.page or not found.bbox or not 1 <= found.page <= len(pages):
            continue
        words = words_inside(pages[found.page - 1], found.bbox)
        if words:
            out.append(_label(name, found.value, words, text=" ".join(w.text for w in words), page=found.page))
    return sorted(out, key=_order)


def truth(labels: list[LabeledValue]) -> dict[str, Any]:
    """``fields``, ``line_items`` and ``labels`` as the corpus truth has them (``docflow eval``,
    training, induction)."""
    fields: dict[str, str | None] = {name: None for name in HEADER_FIELDS}
    rows: dict[int, dict[str, str | None]] = {}
    for label in labels:
        match = _LINE_FIELD.match(label.field)
        if match:
            rows.setdefault(int(match.group(1)), dict.fromkeys(LINE_ITEM_FIELDS))[match.group(2)] = label.value
        else:
            fields[label.field] = label.value
    return {"fields": fields, "line_items": [rows[r] for r in sorted(rows)], "labels": stored(labels)}


def messages(document_id: str, revision: int, labels: list[LabeledValue], *, origin: str, author: str,
             at: datetime) -> list[Label]:
    """One ``labels`` message per labelled value; ids are stable per revision (a re-send is the same label)."""
    return [Label(label_id=f"{document_id}:r{revision}:{lab.field}", document_id=document_id, field=lab.field,
                  value=lab.value, page=lab.page, bbox=lab.bbox,
                  origin=origin, author=author, created_at=at)  # type: ignore[arg-type]
            for lab in labels]


_LEGAL = re.compile(r"\b(gmbh|ag|kg|sa|sas|sarl|ltd|limited|inc|llc|bv|b\.v\.|nv|srl|sl|plc|co)\b\.?", re.IGNORECASE)


def template_id_for(vendor_name: str) -> str:
    """A template id suggested from a vendor's name: 'Bergmann Werkzeuge GmbH' -> 'bergmann-werkzeuge'."""
    folded = unicodedata.normalize("NFKD", _LEGAL.sub(" ", vendor_name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:60] or "vendor"
