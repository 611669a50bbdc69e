"""Extraction as a pure function: a classified document and the templates to field values.

The chain is an ordered list of extractors with one signature (EXTRACTORS); per field, each
later value is merged into the earlier one: agreement raises confidence, disagreement lowers it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from services.contracts import (
    HEADER_FIELDS,
    TOTALS,
    ClassifiedDocument,
    EInvoice,
    ExtractedDocument,
    FieldValue,
    LineItem,
    Page,
)
from services.extraction.rules import RULE_CONFIDENCE, extract_field, extract_line_items
from services.vocabulary.identifiers import iban_is_valid, vat_in_form, vat_is_valid
from services.vocabulary.normalise import adds_up
from services.vocabulary.regex_budget import budget
from services.vocabulary.templates import Template

STAGE = "extract"


@dataclass(frozen=True)
class Context:
    templates: dict[str, Template]
    regex_timeout_s: float = 0.25
    regex_budget_s: float = 2.0  # all the regex searches of one document together
    # Every known version by (id, version): the version detection named is the one extraction reads,
    # even when a newer one was published between the two stages.
    versions: dict[tuple[str, int], Template] = field(default_factory=dict)
    generic: Template | None = None  # rules/generic.yaml: any vendor's labels, for documents no template matched
    model: Any = None  # a LayoutModel, or None before `docflow train` made one
    blobs: Any = None  # the BlobStore, to read an embedded e-invoice from the document's bytes
    rank: bool = True  # candidate ranking for documents no template matched
    model_only_floor: float = 0.8  # see MODEL_ONLY_FLOOR
    # Would validation accept this document as it stands? (the runtime passes validation's check.) A
    # known vendor whose complete template read a document validation accepts needs no model.
    settled: Callable[[ExtractedDocument], bool] | None = None


Extractor = Callable[[ClassifiedDocument, Context], tuple[dict[str, FieldValue], list[LineItem]]]


def embedded_einvoice(doc: ClassifiedDocument, ctx: Context) -> tuple[dict[str, FieldValue], list[LineItem],
                                                                       EInvoice] | None:
    """A Factur-X / ZUGFeRD / XRechnung XML inside the PDF: authoritative, checked against the print.
    Read before the chain; its values are the ones every later extractor can only confirm."""
    if ctx.blobs is None or doc.attachments == 0:  # a PDF that embeds no file carries no e-invoice
        return None
    from services.extraction.einvoice import read_einvoice

    return read_einvoice(ctx.blobs.get(doc.doc.blob_uri), doc.pages)


def template_rules(doc: ClassifiedDocument, ctx: Context) -> tuple[dict[str, FieldValue], list[LineItem]]:
    """The detected vendor template's anchors and patterns (nothing when no template matched)."""
    template = _detected(doc, ctx)
    if template is None:
        return {}, []
    fields, items = read_with(template, doc.pages, ctx.regex_timeout_s)
    return fields | _identified(template, doc.pages, fields), items


def _identified(template: Template, pages: list[Page], read: dict[str, FieldValue]) -> dict[str, FieldValue]:
    """The vendor's VAT id and IBAN where no rule read them but the page prints them: they are what
    detection knew the vendor by (a layout that moved its identifiers away from their anchors)."""
    out: dict[str, FieldValue] = {}
    printed = None
    for name in ("vendor_vat_id", "vendor_iban"):
        value = template.match.identifiers.get(name)
        if name in read or not value:
            continue
        printed = printed if printed is not None else re.sub(r"[\W_]", "", "".join(
            w.text for p in pages for w in p.words)).upper()
        code = re.sub(r"[\W_]", "", value).upper()
        if len(code) >= 6 and code in printed:
            out[name] = FieldValue(value=code, confidence=RULE_CONFIDENCE, source=template.ref, raw=value)
    return out


def _detected(doc: ClassifiedDocument, ctx: Context) -> Template | None:
    """The template version detection named (None when no template matched)."""
    if doc.detection.status == "unknown":
        return None
    detected = (doc.detection.template_id or "", doc.detection.template_version or 0)
    return ctx.versions.get(detected) or ctx.templates.get(detected[0])


def read_with(template: Template, pages: list[Page],
              regex_timeout_s: float) -> tuple[dict[str, FieldValue], list[LineItem]]:
    """Every field and the line items ``template`` finds on ``pages``."""
    fields = read_fields(template, pages, regex_timeout_s, template.fields)
    items = extract_line_items(pages, template.line_items, template.options) if template.line_items else []
    return fields, items


def read_fields(template: Template, pages: list[Page], regex_timeout_s: float,
                names: Iterable[str]) -> dict[str, FieldValue]:
    """The fields ``names`` (of those ``template`` has a rule for) it finds on ``pages``."""
    fields = {}
    for name in names:
        found = extract_field(pages, template.fields[name], template, regex_timeout_s)
        if found is not None:
            fields[name] = found
    return fields


GENERIC_CONFIDENCE = 0.7
# Fields the generic rules read better than the model on vendors nobody trained on: identifiers
# in their form beside their labels. The others only fill gaps (and confirm what the ranking read).
GENERIC_FIRST = frozenset({"vendor_vat_id", "vendor_iban"})


def _generic(doc: ClassifiedDocument, ctx: Context, first: bool) -> dict[str, FieldValue]:
    if ctx.generic is None:
        return {}
    # Each of its field rules runs once a document: the identifiers first, the rest later (its item
    # table is generic_rest's).
    names = [name for name in ctx.generic.fields if (name in GENERIC_FIRST) == first]
    found = read_fields(ctx.generic, doc.pages, ctx.regex_timeout_s, names)
    return {name: value.model_copy(update={"confidence": _generic_confidence(name, value.value)})
            for name, value in found.items() if _plausible(name, value.value or "")}


CHECKED_CONFIDENCE = 0.9


def _generic_confidence(name: str, value: str | None) -> float:
    """An identifier beside its label whose check digits hold is seldom anything else; one whose
    check digits fail, or a country without them, stays at the generic rules' confidence."""
    if name == "vendor_iban" and value and iban_is_valid(value):
        return CHECKED_CONFIDENCE
    if name == "vendor_vat_id" and value and vat_is_valid(value):
        return CHECKED_CONFIDENCE
    return GENERIC_CONFIDENCE


def _plausible(name: str, value: str) -> bool:
    """A generic rule reads whatever stands beside a label: an identifier must have its form (its
    check digits are validation's business: a wrong one is reported there, IBAN_INVALID or
    VAT_INVALID, rather than silently dropped here)."""
    if name == "vendor_iban":
        return bool(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", value))
    if name == "vendor_vat_id":
        form = vat_in_form(value)
        return form if form is not None else sum(c.isdigit() for c in value) >= 6
    return True


def generic_identifiers(doc: ClassifiedDocument, ctx: Context) -> tuple[dict[str, FieldValue], list[LineItem]]:
    """VAT id and IBAN beside their usual labels, in their form."""
    return _generic(doc, ctx, first=True), []


def generic_rest(doc: ClassifiedDocument, ctx: Context) -> tuple[dict[str, FieldValue], list[LineItem]]:
    """No vendor template matched: what the generic rules read of the other fields, where the model
    read nothing, and the item table under a header row they know."""
    if doc.detection.status == "matched" or ctx.generic is None:
        return {}, []
    items = extract_line_items(doc.pages, ctx.generic.line_items, ctx.generic.options) if ctx.generic.line_items else []
    return _generic(doc, ctx, first=False), items


def ranked_candidates(doc: ClassifiedDocument, ctx: Context) -> tuple[dict[str, FieldValue], list[LineItem]]:
    """Every value the pages offer, ranked by its label, its block, its type and whether the totals
    add up (services/extraction/ranking)."""
    if not ctx.rank:
        return {}, []
    from services.extraction.ranking import rank

    return rank(doc.pages), []


# A value the model alone read (nothing else on the page agreed; for a known vendor, a field its template missed)
# must clear this to be kept: its confidence is calibrated on synthetic layouts, and on real ones
# such guesses are mostly wrong (a VAT id read as the IBAN). No value serves an operator better
# than a guess that sends the document to them; a value in the wrong form is never kept.
MODEL_ONLY_FLOOR = 0.8


def layout_model(doc: ClassifiedDocument, ctx: Context) -> tuple[dict[str, FieldValue], list[LineItem]]:
    """The layout model over words and boxes: reads any vendor, known or not."""
    if ctx.model is None or not any(p.words for p in doc.pages):
        return {}, []
    found = ctx.model.extract(doc.pages)
    if doc.detection.status != "matched":
        found = {name: fv for name, fv in found.items() if fv.value and _plausible(name, fv.value)}
    return found, []


def _against_totals(fields: dict[str, FieldValue], found: dict[str, FieldValue]) -> dict[str, FieldValue]:
    """The model's readings without its other amounts where those read before it add up (net +
    tax = total, from a template's rules or the ranking, which weighs the arithmetic): two readers
    and the sum against one is no disagreement. Trained on synthetic layouts, the model reads a real
    invoice's rate line or an item's tax as the VAT total, sure of it (ONNX Runtime's int8, as near
    the float32 model as its calibration: 1.0), and questioned right totals on 13 of the 45."""
    if not all(name in fields for name in TOTALS) or not adds_up(*(fields[name].value for name in TOTALS)):
        return found
    return {name: fv for name, fv in found.items() if name not in TOTALS or fv.value == fields[name].value}


def _items_add_up(items: list[LineItem], net: FieldValue | None) -> bool:
    """Rows read as the invoice's items by a reader that knows no vendor: they add up to the net to
    the cent, and each row's quantity times its price is its amount where it prints both. Anything
    less is no item table worth an integrator's trust, and a validation issue for nothing."""
    if not items or net is None or net.value is None:
        return False
    try:
        amounts = [Decimal(item.amount) for item in items]  # type: ignore[arg-type]
        if sum(amounts, Decimal(0)) != Decimal(net.value):
            return False
        return all(abs(Decimal(i.quantity) * Decimal(i.unit_price) - a) <= Decimal("0.01")
                   for i, a in zip(items, amounts, strict=True) if i.quantity and i.unit_price)
    except (InvalidOperation, TypeError):
        return False


def _uncorroborated(fields: dict[str, FieldValue], floor: float = MODEL_ONLY_FLOOR) -> dict[str, FieldValue]:
    """``fields`` without the unsure values only the model read (for a known vendor too: where its
    template read nothing, a model-only guess sent the document to a person for nothing)."""
    return {name: fv for name, fv in fields.items() if not (_model_only(fv.source) and fv.confidence < floor)}


def _model_only(source: str) -> bool:
    """'model:<version>' or 'model:<version>+int8', with no other reader agreeing ('ranker@1+model:...')."""
    return source.startswith("model:") and all(part.startswith("model:") or part == "int8"
                                               for part in source.split("+"))


# The chain, in order of precedence; per field, later extractors are merged into earlier ones.
# Before them all, an embedded e-invoice (embedded_einvoice): the data itself, when the PDF carries it.
EXTRACTORS: list[Extractor] = [
    # 2. Known vendor: its template's rules, precise and cheap.
    template_rules,
    # 3. Unknown vendor (a known one's gaps): VAT id and IBAN beside the labels every invoice uses.
    generic_identifiers,
    # 4. Unknown vendor (a known one's gaps): the values the pages offer, ranked.
    ranked_candidates,
    # 5. Any vendor: the layout model.
    layout_model,
    # 6. Unknown vendor: the generic rules' other fields, where nothing else read them.
    generic_rest,
]
# A matched template reads its vendor; where it read nothing of these fields (a template induced
# from one invoice that printed no VAT line, a layout that moved), these readers fill the gap, and
# only the gap: they never confirm or question what the template read.
FILL_GAPS: dict[Extractor, tuple[str, ...]] = {
    generic_identifiers: ("vendor_vat_id",),
    ranked_candidates: ("invoice_number", "invoice_date", "currency", "net_amount", "tax_amount", "total_amount"),
}
AUTHORITATIVE = "einvoice:"  # values from these sources are never overruled, only confirmed


def merge(first: FieldValue | None, second: FieldValue | None, *, strict: bool = False) -> FieldValue | None:
    """Combine one field's values from two extractors, ``first`` the earlier (more specific) one.

    Agreement raises confidence (both would have to be wrong). On disagreement the earlier
    extractor's value stays; a surer reader lowers it by as much as it was sure, so that a real
    disagreement falls under the confidence threshold and reaches an operator; a less sure one
    leaves it as it was (``strict``: a rule-based one, the ranking or the generic rules, lowers it
    too; the model, calibrated on synthetic layouts, only when surer). An authoritative source (an
    embedded e-invoice) is never overruled.
    """
    if first is None or second is None:
        return first or second
    if first.source.startswith(AUTHORITATIVE):  # the document's own data: nothing to add
        return first
    if first.value == second.value:
        return first.model_copy(update={
            "confidence": round(1 - (1 - first.confidence) * (1 - second.confidence), 4),
            "source": f"{first.source}+{second.source}",
        })
    questions = second.confidence > first.confidence or (strict and not second.source.startswith("model:"))
    if not questions:
        # A less sure reader that disagrees is no evidence against the first: the template read its
        # vendor's layout, the ranking weighs labels and arithmetic the generic rules and the model
        # (trained on synthetic layouts) see only in part. On real invoices the model's disagreement
        # is mostly its own error (a template's right VAT id, IBAN and net fell to 0.56-0.68 and sent
        # the vendor's every invoice to a person). A surer one still lowers it.
        return first
    return first.model_copy(update={"confidence": round(first.confidence * (1 - 0.5 * second.confidence), 4)})


def extract(doc: ClassifiedDocument, ctx: Context) -> ExtractedDocument:
    with budget(ctx.regex_budget_s):  # every regex search of this document together
        return _extract(doc, ctx)


def _extract(doc: ClassifiedDocument, ctx: Context) -> ExtractedDocument:
    embedded = embedded_einvoice(doc, ctx)
    fields: dict[str, FieldValue] = dict(embedded[0]) if embedded else {}
    items: list[LineItem] = list(embedded[1]) if embedded else []
    matched = doc.detection.status == "matched"
    # A layout the template does not know (its anchors are not where they stood): what it reads is
    # questioned by the ranking and the generic rules wherever they disagree, however sure.
    strict = doc.detection.status == "new_layout"
    modelled = False
    for extractor in EXTRACTORS:
        if extractor is layout_model and matched and _settled(doc, ctx, fields, items, embedded):
            continue  # the template read all it knows, validation accepts it: the model adds nothing
        modelled = modelled or extractor is layout_model
        gaps = FILL_GAPS.get(extractor) if matched else None
        if gaps is not None and all(name in fields for name in gaps):
            continue  # the template read what this reader could add: no cost for a known vendor
        found, found_items = extractor(doc, ctx)
        if extractor is layout_model:
            found = _against_totals(fields, found)
        if extractor is generic_rest and not _items_add_up(found_items, fields.get("net_amount")):
            found_items = []  # a table the generic rules found is kept only where it is the invoice's net
        for name, value in found.items():
            if gaps is not None and name in fields:
                continue
            merged = merge(fields.get(name), value, strict=strict)
            if merged is not None:
                fields[name] = merged
        items = items or found_items
    fields = _uncorroborated(fields, ctx.model_only_floor)
    return _document(doc, fields, items, embedded, ctx.model.version if modelled and ctx.model is not None else None)


def _settled(doc: ClassifiedDocument, ctx: Context, fields: dict[str, FieldValue], items: list[LineItem],
             embedded: tuple | None) -> bool:
    """A known vendor's document needs no model: its template has a rule for every header field
    (where it read nothing, the field is not printed; a template induced from invoices without a
    due date has no rule for one, and the model reads it where a later invoice prints it) and
    validation accepts what was read."""
    template = _detected(doc, ctx)
    return ctx.settled is not None and template is not None and set(HEADER_FIELDS) <= set(template.fields) \
        and ctx.settled(_document(doc, fields, items, embedded, None))


def _document(doc: ClassifiedDocument, fields: dict[str, FieldValue], items: list[LineItem],
              embedded: tuple | None, model_version: str | None) -> ExtractedDocument:
    return ExtractedDocument(
        doc=doc.doc,
        detection=doc.detection,
        page_count=len(doc.pages),
        text_layer=doc.text_layer,
        fields=fields,
        line_items=items,
        model_version=model_version,
        ocr=any(p.ocr for p in doc.pages),
        einvoice=embedded[2] if embedded else None,
    )
