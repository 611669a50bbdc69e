"""Rankers for the dates, the totals and the currency: each scores every candidate a page offers
and returns the best with a margin (how far ahead of the runner-up it stands), which the package
turns into a confidence.

The totals use what a single label cannot: an invoice's net, tax and total add up, so the printed
triple that does, with the tax a plausible share of the net, is far likelier than any one amount.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import regex

from services.extraction.ranking.layout import PageLayout
from services.extraction.ranking.lexicon import fold, label_score
from services.extraction.ranking.values import Candidate
from services.vocabulary.currencies import ISO_4217

# VAT rates in use in Europe and beyond, as shares; a tax that is one of these of the net is a tax.
RATES = (0.0, 0.025, 0.026, 0.03, 0.04, 0.05, 0.055, 0.06, 0.07, 0.077, 0.08, 0.081, 0.09, 0.095, 0.1, 0.12,
         0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19, 0.2, 0.21, 0.22, 0.23, 0.24, 0.25, 0.27)


@dataclass(frozen=True)
class Pick:
    candidate: Candidate
    value: str
    margin: float  # score of the pick minus the best other value's, 0..1+
    score: float


def _best(scored: list[tuple[float, Candidate]], threshold: float) -> Pick | None:
    scored = [(s, c) for s, c in scored if s > threshold]
    if not scored:
        return None
    scored.sort(key=lambda sc: (-sc[0], sc[1].page, sc[1].match.bbox[1]))
    top, cand = scored[0]
    runner = next((s for s, c in scored[1:] if c.value != cand.value), threshold)
    return Pick(cand, cand.value, top - runner, top)


def invoice_date(dates: list[Candidate], layouts: list[PageLayout]) -> Pick | None:
    """The date labelled as the invoice's; else the first unlabelled date high on the first page."""
    scored = []
    for cand in dates:
        title = _title_bonus(cand)
        s = max(cand.score("invoice_date"), 0.0) if title else cand.score("invoice_date")
        if s < 0:
            continue
        if s == 0 and not title:
            # No label: only a date near the top of the first page may be the issue date.
            if cand.page != 1 or cand.match.bbox[1] > 0.45 * layouts[0].page.height:
                continue
            s = 0.15 - 0.1 * cand.match.bbox[1] / layouts[0].page.height
        scored.append((s + title - 0.05 * (cand.page - 1), cand))
    return _best(scored, 0.0)


def _title_bonus(cand: Candidate) -> float:
    """'Rechnung Nr. 4711 vom 03.04.2025', 'Facture N° 12 du 03/04/2025', 'Invoice 12 dated ...'."""
    before = fold(cand.match.segment.text[:cand.match.start]).split()
    if not before or before[-1] not in ("vom", "du", "dated", "dd", "del", "van", "of", "on", "le"):
        return 0.0
    words = set(before)
    titles = {"rechnung", "invoice", "facture", "factura", "fattura", "factuur", "gutschrift", "handelsrechnung",
              "rechnungskorrektur", "avoir", "credit", "nr", "no", "n", "number", "numero"}
    if words & titles and not words & {"bestellung", "order", "commande", "lieferung", "auftrag", "lieferschein",
                                       "angebot", "vertrag", "pedido", "reklamation", "schreiben"}:
        return 0.9
    return 0.0


def invoice_number(numbers: list[Candidate]) -> Pick | None:
    """The identifier labelled as the invoice's number (its own label, or a title 'Rechnung Nr. 4711')."""
    scored = []
    for cand in numbers:
        s = cand.score("invoice_number")
        if s >= 0 and _titled_number(cand):
            s = max(s, 0.9)
        if s <= 0:
            continue
        if cand.page == 1:
            s += 0.1 * (1 - cand.match.bbox[1] / 842)
        scored.append((s - 0.1 * (cand.page - 1), cand))
    return _best(scored, 0.2)


_INVOICE_WORDS = ("invoice", "facture", "factura", "fattura", "factuur", "gutschrift", "avoir", "credit")


def _titled_number(cand: Candidate) -> bool:
    """'Rechnung Nr. 4711', 'Handelsrechnung (380) Nr. 4711', 'Invoice No 12': the title names it."""
    before = fold(cand.match.segment.text[:cand.match.start]).split()
    if not before or before[-1] not in ("nr", "no", "n", "number", "numero", "nummer", "num"):
        return False
    return any(w.endswith("rechnung") or w in _INVOICE_WORDS for w in before[-5:-1])


def due_date(dates: list[Candidate], issued: str | None) -> Pick | None:
    scored = []
    for cand in dates:
        s = cand.score("due_date")
        if s <= 0 or (issued is not None and cand.value < issued):
            continue
        scored.append((s, cand))
    return _best(scored, 0.0)


@dataclass(frozen=True)
class Totals:
    total: Pick | None
    net: Pick | None
    tax: Pick | None
    consistent: bool  # the three picks add up


def totals(amounts: list[Candidate]) -> Totals:
    """Total, net and tax: labels, then the triple that adds up, then where they stand."""
    if not amounts:
        return Totals(None, None, None, False)
    by_value: dict[str, list[Candidate]] = {}
    for cand in amounts:
        by_value.setdefault(cand.value, []).append(cand)
    values = sorted({Decimal(v) for v in by_value}, key=abs, reverse=True)[:120]
    present = set(values)
    label = {name: {v: max(c.score(name) for c in by_value[str(v)]) for v in values}
             for name in ("total_amount", "net_amount", "tax_amount")}
    last_page = max(c.page for c in amounts)
    # Triples net + tax = total with the tax a plausible rate of the net (or several rates mixed).
    triples: list[tuple[float, tuple[Decimal, Decimal, Decimal]]] = []
    for n, t in itertools.permutations(values, 2):
        if n == 0 or abs(t) >= abs(n) or (t < 0) != (n < 0):
            continue
        sum_ = n + t
        if sum_ not in present or sum_ == n:
            continue
        share = float(t / n)
        plausible = 1.0 if any(abs(share - r) < 0.0015 for r in RATES) else (0.7 if share <= 0.27 else 0.0)
        if not plausible:
            continue
        s = (plausible + max(label["total_amount"][sum_], 0) * 1.5 + max(label["net_amount"][n], 0)
             + max(label["tax_amount"][t], 0) - 2 * (label["total_amount"][sum_] < 0)
             - (label["net_amount"][n] < 0) - (label["tax_amount"][t] < 0))
        triples.append((s, (n, t, sum_)))
    # Zero-rated, exempt or reverse charge: the net is the total and the VAT is printed as 0, both
    # labelled. Such a reading competes with the triples above like any other (0 % is a rate too);
    # without it, two amounts elsewhere that happen to add up to the total (an item and the rest)
    # were taken for net and VAT.
    zero = next((v for v in values if v == 0), None)
    if zero is not None and label["tax_amount"][zero] > 0:
        exempt = [(1.0 + label["total_amount"][v] * 1.5 + label["net_amount"][v] + label["tax_amount"][zero],
                   (v, zero, v)) for v in values
                  if v != 0 and label["total_amount"][v] > 0 and label["net_amount"][v] > 0]
        triples = exempt + triples
    # Several rates print a triple each, a grand total adds them up: the largest consistent one counts most.
    triples = triples[:60]
    largest = max((abs(t[2]) for _s, t in triples), default=Decimal(1)) or Decimal(1)
    best_triple, best_triple_score = None, 0.0
    for s, triple in triples:
        s += 0.8 * float(abs(triple[2]) / largest) + 0.8 * _adds_up(triple, [t for _s, t in triples])
        if s > best_triple_score:
            best_triple, best_triple_score = triple, s
    scored = []
    for value in values:
        lab = label["total_amount"][value]
        if lab < 0:
            continue
        s = lab
        if best_triple is not None and value == best_triple[2]:
            s += 0.6 + 0.1 * best_triple_score
        if value == 0:
            s -= 0.5  # an empty total row ("0,00") is seldom the invoice's total
        if s <= 0:
            continue
        cands = by_value[str(value)]
        if any(c.page == last_page for c in cands):
            s += 0.05
        scored.append((s, max(cands, key=lambda c: (c.score("total_amount"), c.page, c.match.bbox[1]))))
    total = _best(scored, 0.0)
    net: Pick | None = None
    tax: Pick | None = None
    consistent = False
    if total is not None and best_triple is not None and Decimal(total.value) == best_triple[2]:
        consistent = True
        net = _pick_value(by_value, best_triple[0], "net_amount", best_triple_score)
        tax = _pick_value(by_value, best_triple[1], "tax_amount", best_triple_score)
    elif total is not None:
        # A total with no tax beside it (exempt, reverse charge): the net that equals it, if labelled.
        nets = [(label["net_amount"][v] + (0.3 if v == Decimal(total.value) else 0), by_value[str(v)][0])
                for v in values if label["net_amount"][v] > 0.5]
        best = _best(nets, 0.0) if nets else None
        net = best if best is not None and best.value == total.value else None
    return Totals(total, net, tax, consistent)


def _adds_up(triple: tuple[Decimal, Decimal, Decimal], others: list[tuple[Decimal, Decimal, Decimal]]) -> bool:
    """One triple per tax rate, and this one their sum: the invoice's grand total."""
    for a, b in itertools.combinations([t for t in others if t != triple and abs(t[2]) < abs(triple[2])], 2):
        if a[0] + b[0] == triple[0] and a[1] + b[1] == triple[1]:
            return True
    return False


def _pick_value(by_value: dict[str, list[Candidate]], value: Decimal, name: str, strength: float) -> Pick:
    cand = max(by_value[str(value)], key=lambda c: (c.score(name), c.page, c.match.bbox[1]))
    return Pick(cand, str(value), min(1.0, 0.3 + 0.2 * strength), strength)


_CODE = regex.compile(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])")
_SYMBOLS = {"€": "EUR", "£": "GBP", "US$": "USD", "$": "USD", "¥": "JPY", "Fr.": "CHF", "zł": "PLN"}


def currency(layouts: list[PageLayout]) -> tuple[str, float, tuple[int, tuple] | None] | None:
    """The ISO code the page prints (beside a currency label first, else the most printed), else
    the one its symbols stand for; with a confidence and where it stands."""
    counts: Counter[str] = Counter()
    where: dict[str, tuple[int, tuple]] = {}
    labelled = None
    for layout in layouts:
        for seg in layout.segments:
            for m in _CODE.finditer(seg.text):
                code = m.group(1)
                if code not in ISO_4217:
                    continue
                counts[code] += 1
                where.setdefault(code, (seg.page, layout.match_bbox(seg, m.start(), m.end())))
                before = fold(seg.text[:m.start()])
                left = layout.left_of(seg, seg.bbox[0] + 1) if not before else None
                if labelled is None and (label_score("currency", before) > 0
                                         or (left is not None and label_score("currency", left.folded) > 0)):
                    labelled = code
    if labelled:
        return labelled, 0.97, where.get(labelled)
    if counts:
        code, n = counts.most_common(1)[0]
        others = sum(counts.values()) - n
        return code, (0.95 if others == 0 else 0.75), where.get(code)
    symbols: Counter[str] = Counter()
    for layout in layouts:
        for seg in layout.segments:
            for symbol, code in _SYMBOLS.items():
                if symbol in seg.text:
                    symbols[code] += seg.text.count(symbol)
                    if symbol == "US$":
                        symbols["USD"] -= seg.text.count(symbol)  # counted once, not again as "$"
    if symbols:
        code, _ = symbols.most_common(1)[0]
        return code, (0.9 if len([c for c in symbols if symbols[c] > 0]) == 1 else 0.6), None
    return None
