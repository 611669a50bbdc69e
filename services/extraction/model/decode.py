"""From per-word tag probabilities to one value per field, with its box and raw text."""

from __future__ import annotations

from dataclasses import dataclass

from services.contracts import FieldValue
from services.extraction.model.features import PageWords
from services.extraction.model.labels import FIELD_TYPES, LABEL_ID, LABELS
from services.parsing.layout import union
from services.vocabulary.normalise import NORMALISERS, normalise_currency
from services.vocabulary.templates import Options

_OPTIONS = Options()


@dataclass
class Candidate:
    field: str
    page: int
    words: list[int]  # positions in PageWords
    score: float
    raw: str
    value: str


def spans(page: PageWords, probs: list[list[float]]) -> list[Candidate]:
    """Runs of consecutive words whose most likely tag belongs to one field."""
    found: list[Candidate] = []
    current: tuple[str, list[int]] | None = None

    def close() -> None:
        if current is None:
            return
        field, idx = current
        score = sum(probs[i][LABEL_ID[f"B-{field}"]] + probs[i][LABEL_ID[f"I-{field}"]] for i in idx) / len(idx)
        raw = " ".join(page.words[i] for i in idx)
        try:
            value = NORMALISERS[FIELD_TYPES[field]](raw, _OPTIONS)
        except ValueError:
            return
        found.append(Candidate(field, page.page, idx, score, raw, value))

    for i, row in enumerate(probs):
        label = LABELS[row.index(max(row))]  # the first most likely tag, as max(range, key=) finds it
        if label == "O":
            close()
            current = None
            continue
        prefix, field = label[0], label[2:]
        if current is not None and current[0] == field and prefix == "I":
            current[1].append(i)
        else:
            close()
            current = (field, [i])
    close()
    return found


def choose(pages: list[PageWords], page_probs: list[list[list[float]]], source: str,
           calibrate) -> dict[str, FieldValue]:  # type: ignore[no-untyped-def]
    """The best-scoring candidate per field; currency falls back to the money amounts' text."""
    by_page = {p.page: p for p in pages}
    best: dict[str, Candidate] = {}
    for page, probs in zip(pages, page_probs, strict=True):
        for cand in spans(page, probs):
            if cand.field not in best or cand.score > best[cand.field].score:
                best[cand.field] = cand
    fields = {}
    for name, cand in best.items():
        page = by_page[cand.page]
        fields[name] = FieldValue(
            value=cand.value, confidence=round(calibrate(cand.score), 4), source=source, page=cand.page,
            bbox=union([page.boxes[i] for i in cand.words]), raw=cand.raw,
        )
    if "currency" not in fields:
        for name in ("total_amount", "net_amount", "tax_amount"):
            amount = best.get(name)
            if amount is None:
                continue
            code = _currency_near(by_page[amount.page], amount)
            if code:
                fields["currency"] = FieldValue(
                    value=code, confidence=round(calibrate(amount.score) * 0.9, 4), source=source, page=amount.page,
                    bbox=fields[name].bbox, raw=amount.raw,
                )
                break
    return fields


def _currency_near(page: PageWords, cand: Candidate) -> str | None:
    """The currency printed with an amount: inside its span or the next or previous word on the row."""
    first, last = cand.words[0], cand.words[-1]
    top, bottom = page.boxes[first][1], page.boxes[first][3]
    around = [i for i in (first - 1, *cand.words, last + 1) if 0 <= i < len(page.words)
              and abs(page.boxes[i][1] - top) < (bottom - top)]
    for i in around:
        try:
            return normalise_currency(page.words[i])
        except ValueError:
            continue
    return None
