"""Candidate ranking: for a vendor no template knows, every value of a kind the pages offer is
scored on what a person reads it by (its label, whose block it stands in, the size of its type,
whether the totals add up) and the best one taken, with a confidence from how far it stands
ahead. A pure function of the parsed pages; no vendor's layout is written in it.

    rank(pages) -> {field: FieldValue}
"""

from __future__ import annotations

from services.contracts import FieldValue, Page
from services.extraction.ranking import fields, parties, values
from services.extraction.ranking.layout import PageLayout

SOURCE = "ranker@1"

# Confidence by the kind of evidence a pick stands on, lowered when a different value scored
# nearly as well. The tiers sit against the validation thresholds (0.80 by default, 0.85 for
# the number, 0.90 for the total): only the strong kinds of evidence clear them.
CLOSE_CALL = 0.25


def _tier(strong: bool, fair: bool, margin: float, levels: tuple[float, float, float]) -> float:
    confidence = levels[0] if strong else levels[1] if fair else levels[2]
    return round(confidence - (0.12 if margin < CLOSE_CALL else 0.0), 4)


def _value(pick: fields.Pick, confidence: float) -> FieldValue:
    match = pick.candidate.match
    return FieldValue(value=pick.value, confidence=confidence, source=SOURCE, page=match.segment.page,
                      bbox=match.bbox, raw=match.raw)


def rank(pages: list[Page]) -> dict[str, FieldValue]:
    """The ranked values of the header fields this step reads."""
    layouts = [PageLayout(p) for p in pages if p.words][:20]
    if not layouts:
        return {}
    out: dict[str, FieldValue] = {}
    dates = values.find(layouts, "date")
    issued = fields.invoice_date(dates, layouts)
    if issued is not None:  # an invoice-date label or a title heading; a generic "Date"; no label
        out["invoice_date"] = _value(issued, _tier(issued.score >= 0.8, issued.score >= 0.45, issued.margin,
                                                   (0.95, 0.88, 0.55)))
    number = fields.invoice_number(values.find(layouts, "number"))
    if number is not None:
        out["invoice_number"] = _value(number, _tier(number.score >= 0.8, number.score >= 0.5, number.margin,
                                                     (0.95, 0.86, 0.7)))
    due = fields.due_date(dates, issued.value if issued else None)
    if due is not None:
        out["due_date"] = _value(due, _tier(due.score >= 0.8, True, due.margin, (0.92, 0.8, 0.8)))
    totals = fields.totals(values.find(layouts, "amount"))
    if totals.total is not None:  # the triple adds up beside a total label; adds up; a label alone
        labelled = totals.total.candidate.score("total_amount") >= (0.5 if totals.consistent else 0.7)
        out["total_amount"] = _value(totals.total, _tier(totals.consistent and labelled, totals.consistent,
                                                         totals.total.margin, (0.97, 0.9, 0.75 if labelled else 0.6)))
        for name, pick in (("net_amount", totals.net), ("tax_amount", totals.tax)):
            if pick is not None:
                out[name] = _value(pick, 0.95 if totals.consistent else 0.6)
    found = fields.currency(layouts)
    if found is not None:
        code, confidence, where = found
        out["currency"] = FieldValue(value=code, confidence=confidence, source=SOURCE,
                                     page=where[0] if where else None, bbox=where[1] if where else None, raw=code)
    party = parties.vendor_name(layouts)
    if party is not None:  # a company under the seller's heading; a company the page marks as the seller's
        marked = party.evidence & {"repeated", "sender", "letterhead", "footer", "seller"}
        strong = "legal" in party.evidence and ("seller" in party.evidence or len(marked) >= 2)
        fair = "seller" in party.evidence or ("legal" in party.evidence and bool(marked))
        out["vendor_name"] = FieldValue(value=party.value, source=SOURCE, page=party.page, bbox=party.bbox,
                                        raw=party.value,
                                        confidence=_tier(strong, fair, party.margin - 0.3, (0.95, 0.85, 0.6)))
    return out
