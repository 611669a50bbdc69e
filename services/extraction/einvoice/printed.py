"""Where the print shows each value of the e-invoice, read the way the print writes it.

Dates, amounts and numbers are found with the candidate finders of the ranking (any separator,
any date order or month name the print uses; a credit note's amounts with either sign), names
by containment after folding and without legal forms, identifiers without their spaces. Of
several places the one labelled for the field counts (the total beside "Total", not the same
figure in a line). An amount the print leaves out is implied when the other two of net, VAT
and total are printed and the three add up. A value the print does not show is a mismatch only where the print's own
reading of that field (the ranking) says something else with confidence; a value that is just
not printed (an order number, an IBAN left off the page) contradicts nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Literal

from services.contracts import TOTALS, BBox, FieldValue, Page
from services.extraction.ranking import rank
from services.extraction.ranking.layout import PageLayout
from services.extraction.ranking.lexicon import LEGAL_FORMS, fold
from services.extraction.ranking.values import Candidate, find
from services.parsing.layout import union
from services.vocabulary.currencies import SYMBOLS
from services.vocabulary.normalise import adds_up

Verdict = Literal["printed", "implied", "absent", "contradicted"]
# What the print says of a field counts against the XML from this confidence of its reading on.
CONTRADICTS = 0.85
_KINDS = {"invoice_date": "date", "due_date": "date", "net_amount": "amount", "tax_amount": "amount",
          "total_amount": "amount", "invoice_number": "number", "purchase_order": "number"}


@dataclass(frozen=True)
class Place:
    page: int
    bbox: BBox
    raw: str


class Print:
    """The pages of one document, searched for the values of its e-invoice."""

    def __init__(self, pages: list[Page]):
        self.layouts = [PageLayout(p) for p in pages if p.words][:20]
        self.pages = pages
        self._found: dict[str, list[Candidate]] = {}

    def candidates(self, kind: str) -> list[Candidate]:
        if kind not in self._found:
            self._found[kind] = find(self.layouts, kind)
        return self._found[kind]

    @cached_property
    def reading(self) -> dict[str, FieldValue]:
        """What the print alone says (the candidate ranking), asked only when a value is not found."""
        return rank(self.pages)

    def locate(self, name: str, value: str) -> Place | None:
        kind = _KINDS.get(name)
        if kind == "amount":
            return self._best(name, [c for c in self.candidates(kind) if _same_amount(c.value, value)])
        if kind == "date":
            return self._best(name, [c for c in self.candidates(kind) if c.value == value])
        if kind == "number":
            want = _compact(value)
            found = self._best(name, [c for c in self.candidates(kind) if _compact(c.value) == want])
            return found or self._words(want)
        if name == "vendor_name":
            return self._name(value)
        if name == "currency":
            return self._currency(value)
        return self._words(_compact(value))

    def verdict(self, name: str, value: str) -> tuple[Verdict, Place | None]:
        place = self.locate(name, value)
        if place is not None:
            return "printed", place
        said = self.reading.get(name)
        if said is not None and said.value and said.confidence >= CONTRADICTS and not _agrees(name, said.value, value):
            return "contradicted", Place(said.page or 1, said.bbox or (0, 0, 0, 0), said.raw or said.value)
        return "absent", None

    def verdicts(self, values: dict[str, str]) -> dict[str, tuple[Verdict, Place | None]]:
        """Every value's verdict. An amount the print leaves out (no VAT line on a small business's
        invoice) is implied when the other two of net, VAT and total are printed and add up with it."""
        out = {name: self.verdict(name, value) for name, value in values.items()}
        if all(name in values for name in TOTALS) and adds_up(*(values[n] for n in TOTALS)):
            for name in TOTALS:
                others = [out[n][0] for n in TOTALS if n != name]
                if out[name][0] != "printed" and others == ["printed", "printed"]:
                    out[name] = ("implied", None)
        return out

    @staticmethod
    def _best(name: str, found: list[Candidate]) -> Place | None:
        if not found:
            return None
        best = max(found, key=lambda c: c.score(name))  # the first of equals: reading order
        return Place(best.page, best.match.bbox, best.match.raw)

    def _words(self, want: str) -> Place | None:
        """The shortest run of words on a line whose letters and digits contain ``want``."""
        if len(want) < 2:
            return None
        for layout in self.layouts:
            for seg in layout.segments:
                if want not in _compact(seg.text):
                    continue
                words = [layout.page.words[i] for i in seg.words]
                for end in range(len(words)):  # the first run to hold it, shrunk from the left
                    for start in range(end, max(-1, end - 12), -1):
                        run = words[start:end + 1]
                        if want in "".join(_compact(w.text) for w in run):
                            return Place(seg.page, union([w.bbox for w in run]), " ".join(w.text for w in run))
        return None

    def _name(self, value: str) -> Place | None:
        """The first line that holds the name (or that the XML's name holds: 'GLN 4333... MUSTER GMBH'
        is printed 'MUSTER GMBH'), compared without case, accents, punctuation and legal forms."""
        want = _core(value)
        if len(want) < 3:
            return None
        for layout in self.layouts:
            for seg in layout.segments:
                core = _core(seg.text)
                if f" {want} " in f" {core} ":
                    return _narrowest(layout, seg, value)
                if len(core) >= 6 and f" {core} " in f" {want} ":
                    return Place(seg.page, seg.bbox, seg.text)
        return None

    def _currency(self, code: str) -> Place | None:
        symbols = [s for s, c in SYMBOLS.items() if c == code]
        for layout in self.layouts:
            for w in layout.page.words:
                if re.search(rf"(?<![A-Z]){code}(?![A-Z])", w.text) or any(s in w.text for s in symbols):
                    return Place(layout.page.number, w.bbox, w.text)
        return None


def _narrowest(layout: PageLayout, seg, value: str) -> Place:  # type: ignore[no-untyped-def]
    """The fewest words of the line that hold the whole name, legal form and all, else its core
    (a letterhead line may go on with the street)."""
    words = [layout.page.words[i] for i in seg.words]
    for norm in (fold, _core):
        want, best = f" {norm(value)} ", None
        for start in range(len(words)):
            for end in range(start + 1, len(words) + 1):
                run = " ".join(w.text for w in words[start:end])
                if (best is None or end - start < len(best)) and want in f" {norm(run)} ":
                    best = words[start:end]
                    break
        if best:
            return Place(seg.page, union([w.bbox for w in best]), " ".join(w.text for w in best))
    return Place(seg.page, seg.bbox, seg.text)


def _same_amount(printed: str, value: str) -> bool:
    try:
        return abs(Decimal(printed)) == abs(Decimal(value))  # a credit note prints either sign
    except InvalidOperation:
        return False


def _agrees(name: str, said: str, value: str) -> bool:
    if _KINDS.get(name) == "amount":
        return _same_amount(said, value)
    if name == "vendor_name":
        a, b = _core(said), _core(value)
        return bool(a and b) and (f" {a} " in f" {b} " or f" {b} " in f" {a} ")
    return _compact(said) == _compact(value)


def _compact(text: str) -> str:
    return re.sub(r"[\W_]", "", text).upper()


_LEGAL = sorted(LEGAL_FORMS, key=len, reverse=True)


def _core(name: str) -> str:
    folded = f" {fold(name)} "
    for form in _LEGAL:
        folded = folded.replace(f" {form} ", " ")
    return " ".join(folded.split())

