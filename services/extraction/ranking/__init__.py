"""Candidate ranking: for a vendor no template knows, every value of a kind the pages offer is
scored on what a person reads it by (its label, whose block it stands in, the size of its type,
whether the totals add up) and the best one taken, with a confidence from how far it stands
ahead. A pure function of the parsed pages; no vendor's layout is written in it.

    rank(pages, known) -> {field: FieldValue}
"""

from __future__ import annotations

from services.contracts import FieldValue, Page
from services.extraction.ranking import fields, parties, values
from services.extraction.ranking.layout import PageLayout

SOURCE = "ranker@1"


def _confidence(base: float, margin: float, floor: float = 0.5, ceiling: float = 0.97) -> float:
    """A pick's confidence: ``base`` for the kind of evidence, more the further ahead it stands."""
    return round(max(floor, min(ceiling, base + 0.25 * min(margin, 1.0))), 4)


def _value(pick: fields.Pick, confidence: float) -> FieldValue:
    match = pick.candidate.match
    return FieldValue(value=pick.value, confidence=confidence, source=SOURCE, page=match.segment.page,
                      bbox=match.bbox, raw=match.raw)


def rank(pages: list[Page], known: dict[str, FieldValue] | None = None) -> dict[str, FieldValue]:
    """The ranked values of the header fields this step reads; ``known``: values read before it
    (the vendor's VAT id and IBAN say where the seller's block is)."""
    layouts = [PageLayout(p) for p in pages if p.words][:20]
    if not layouts:
        return {}
    out: dict[str, FieldValue] = {}
    dates = values.find(layouts, "date")
    issued = fields.invoice_date(dates, layouts)
    if issued is not None:
        labelled = issued.score >= 0.5
        out["invoice_date"] = _value(issued, _confidence(0.72 if labelled else 0.5, issued.margin))
    number = fields.invoice_number(values.find(layouts, "number"))
    if number is not None:
        out["invoice_number"] = _value(number, _confidence(0.6 + 0.25 * min(number.score, 1.0), number.margin - 0.2))
    due = fields.due_date(dates, issued.value if issued else None)
    if due is not None:
        out["due_date"] = _value(due, _confidence(0.7, due.margin))
    totals = fields.totals(values.find(layouts, "amount"))
    if totals.total is not None:
        base = 0.8 if totals.consistent else 0.62
        if totals.consistent and totals.total.score >= 1.5:
            base = 0.9
        out["total_amount"] = _value(totals.total, _confidence(base, totals.total.margin, ceiling=0.98))
        for name, pick in (("net_amount", totals.net), ("tax_amount", totals.tax)):
            if pick is not None:
                out[name] = _value(pick, _confidence(0.78 if totals.consistent else 0.6, pick.margin))
    found = fields.currency(layouts)
    if found is not None:
        code, confidence, where = found
        out["currency"] = FieldValue(value=code, confidence=confidence, source=SOURCE,
                                     page=where[0] if where else None, bbox=where[1] if where else None, raw=code)
    seller_ids = [(v.page, v.bbox) for k, v in (known or {}).items()
                  if k in ("vendor_vat_id", "vendor_iban") and v.page is not None and v.bbox is not None]
    name = parties.vendor_name(layouts, seller_ids)
    if name is not None:
        out["vendor_name"] = FieldValue(value=name.value, confidence=_confidence(0.55 + 0.1 * min(name.score, 3),
                                                                                 name.margin - 0.3, ceiling=0.95),
                                        source=SOURCE, page=name.page, bbox=name.bbox, raw=name.value)
    return out
