"""The seller's name: which of the names a page prints is the vendor's.

A name is a short segment of words (or the first part of a sender line "Firma GmbH · Straße 1 ·
12345 Ort") that reads as a company. It scores by whose block it stands in (under "Verkäufer",
"Seller", "Fournisseur" ... or under "Rechnungsempfänger", "Bill to", "Client" ...), by a legal
form (GmbH, SARL, Ltd ...), by being printed again (letterhead, footer, bank line: the seller's name
recurs, the buyer's seldom), by letterhead size, by a footer column it heads, and against the
window-envelope address field, where the buyer stands.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.contracts import BBox
from services.extraction.ranking.layout import PageLayout, Segment
from services.extraction.ranking.lexicon import BUYER_LABELS, COUNTRIES, LEGAL_FORMS, NOT_A_NAME, SELLER_LABELS, fold

_SEPARATORS = re.compile(r"\s+[·•|∙]\s+|\s+[-\u2013]\s+|,\s+|\s{3,}")  # · • | - (en dash) , or a wide gap
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
# A street or a post-box line: the address under a name, not the name.
_ADDRESS = re.compile(r"(?:^|\s)(?:\d+\w?\s+)?(?:rue|avenue|av|bd|boulevard|chemin|allee|place|impasse|route|street|st|"
                      r"road|rd|lane|way|drive|via|viale|piazza|calle|postfach|po box|bp|cedex)\b"
                      r"|\w+(?:strasse|str|weg|gasse|platz|allee|ring|damm|ufer|chaussee)\b(?:\s+\d|$)")


def _any_of(phrases: Iterable[str]) -> Callable[[str], re.Match[str] | None]:
    """A test whether a text holds any of ``phrases`` (as ``any(p in text for p in phrases)``), in
    one search: each name and party probe of a page is tested against every label and legal form,
    hundreds of them, and a Python loop over them was a third of the ranking's time."""
    return re.compile("|".join(re.escape(p) for p in sorted(set(phrases))) or "(?!)").search  # none: no match


# The phrases as they are searched for: padded with the blanks that make them words.
_LEGAL = _any_of(f" {form} " for form in LEGAL_FORMS)
_NOT_A_NAME = _any_of(f" {phrase}" for phrase in NOT_A_NAME)
_SELLER, _BUYER = (_any_of(f" {label} " for label in labels) for labels in (SELLER_LABELS, BUYER_LABELS))
_PARTY_LABELS = frozenset(SELLER_LABELS + BUYER_LABELS)


@dataclass(frozen=True)
class NamePick:
    value: str
    score: float
    margin: float
    page: int
    bbox: BBox
    evidence: frozenset[str]  # what spoke for it: seller, legal, repeated, sender, letterhead, footer


def legal_form(folded: str) -> bool:
    return _LEGAL(f" {folded} ") is not None


def _looks_like_name(text: str) -> bool:
    folded = fold(text)
    words = folded.split()
    if not 1 <= len(words) <= 9 or len(folded) < 3:
        return False
    letters = sum(map(str.isalpha, text))  # every segment of a page asks: map, not a generator, counts in C
    digits = sum(map(str.isdigit, text))
    if letters < 3 or digits > 0.25 * max(letters, 1) or "@" in text or text.rstrip().endswith(":"):
        return False
    if _NOT_A_NAME(f" {folded}") and not legal_form(folded):
        return False
    if text.lstrip()[:1] in "([{/*-" or _BIC.fullmatch(text.strip()) or _ADDRESS.search(folded):
        return False
    if folded in COUNTRIES:
        return False
    # A party's label alone ("Lieferant", "Bill to:") is a heading, not a name.
    return not (folded in SELLER_LABELS or folded in BUYER_LABELS or text.rstrip().endswith(":"))


def _party(layout: PageLayout, seg: Segment) -> str | None:
    """'seller' or 'buyer' when a party label heads the block ``seg`` stands in (or labels it on
    its left), else None."""
    own = _own_party(seg.folded)
    if own:
        return own
    left = layout.left_of(seg, seg.bbox[0] + 1)
    probes = [left] if left is not None else []
    # A key/value block: the heading stands above the label column ("Verkäufer" over "Name:").
    candidates = layout.above(seg.bbox, reach=7.0)[:6] + (layout.above(left.bbox, reach=7.0)[:6] if left else [])
    probes += sorted(candidates, key=lambda other: seg.bbox[1] - other.bbox[3])
    for probe in probes:
        if probe is left and not (probe.text.rstrip().endswith(":") or probe.folded in _PARTY_LABELS):
            continue  # the text of another block on the row, not a label beside the name
        party = _own_party(probe.folded)
        if party:
            return party
    return None


def _own_party(folded: str) -> str | None:
    """A name printed after its party's label on one line: "Auftraggeber Firma GmbH"."""
    first = f" {' '.join(folded.split()[:3])} "
    if _BUYER(first):
        return "buyer"
    if _SELLER(first):
        return "seller"
    return None


def _in_window(layout: PageLayout, bbox: BBox) -> bool:
    """The DIN 5008 / C5-C6 window: where a posted invoice prints the recipient's address."""
    page = layout.page
    if page.number != 1:
        return False
    mm = page.width / 210.0
    return 15 * mm <= bbox[0] <= 110 * mm and 38 * mm <= bbox[1] <= 100 * mm


def vendor_name(layouts: list[PageLayout]) -> NamePick | None:
    """The best-scored seller name, or None when no name scores above the floor."""
    names: list[tuple[str, Segment, PageLayout, bool]] = []  # text, segment, layout, is a sender-line part
    for layout in layouts[:3]:
        for seg in layout.segments:
            parts = [p for p in _SEPARATORS.split(seg.text) if p.strip()]
            label, colon, value = seg.text.partition(":")
            if colon and len(label.split()) <= 3:  # "Name: Lieferant GmbH", "NOM : LE FOURNISSEUR"
                if value.strip() and _looks_like_name(value):
                    names.append((value.strip(), seg, layout, False))
            elif len(parts) >= 3 and _looks_like_name(parts[0]):
                names.append((parts[0].strip(), seg, layout, True))
            elif _looks_like_name(seg.text.strip()):
                names.append((seg.text.strip(), seg, layout, False))
    if not names:
        return None
    seen: Counter[str] = Counter()
    for layout in layouts:
        for seg in layout.segments:
            seen.update({fold(p) for p in _SEPARATORS.split(seg.text) if p.strip()}
                        | {seg.folded, fold(seg.text.partition(":")[2])})
    tallest = max((seg.height for _t, seg, lay, _s in names if lay.page.number == 1), default=0.0)
    scored: dict[str, tuple[float, str, Segment, frozenset[str]]] = {}
    for text, seg, layout, sender in names:
        folded = fold(text)
        top = seg.bbox[1] / layout.page.height
        party = _party(layout, seg)
        evidence = {
            "legal": legal_form(folded),
            "seller": party == "seller",
            "buyer": party == "buyer",
            "repeated": seen[folded] > 1,
            "sender": sender,
            "letterhead": layout.page.number == 1 and top < 0.2 and seg.height >= max(tallest - 0.5, 11),
            "footer": top > 0.85,
            "window": party is None and _in_window(layout, seg.bbox) and not sender,
        }
        # A footer's name heading its column counts more (the column is looked at only for one).
        footer = (0.45 if _heads_column(layout, seg) else 0.2) if evidence["footer"] else 0.0
        s = (1.0 * evidence["legal"] + 1.2 * evidence["seller"] - 1.6 * evidence["buyer"]
             + 0.35 * min(seen[folded] - 1, 3) + (0.5 + 0.3 * (seg.height <= 8)) * sender
             + 0.6 * evidence["letterhead"] + footer
             - 0.7 * evidence["window"] - 0.4 * (not evidence["legal"] and party != "seller"))
        if folded not in scored or s > scored[folded][0]:
            scored[folded] = (s, text, seg, frozenset(k for k, v in evidence.items() if v))
    ranked = sorted(scored.values(), key=lambda t: (-t[0], t[2].page, t[2].bbox[1]))
    top, text, seg, marks = ranked[0]
    if top <= 0.3:
        return None
    runner = ranked[1][0] if len(ranked) > 1 else 0.0
    return NamePick(text.strip(" ,;:"), top, top - runner, seg.page, seg.bbox, marks)


def _heads_column(layout: PageLayout, seg: Segment) -> bool:
    return not any(other.bbox[3] <= seg.bbox[1] + 1 and seg.bbox[1] - other.bbox[3] < 2 * seg.height
                   and min(other.bbox[2], seg.bbox[2]) - max(other.bbox[0], seg.bbox[0]) > 0
                   for other in layout.segments if other is not seg)
