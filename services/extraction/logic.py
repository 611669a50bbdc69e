"""Extraction as a pure function: a classified document and the templates to field values.

The chain is an ordered list of extractors with one signature; each fills the fields the
ones before it left empty. A later issue adds the layout model after the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.contracts import ClassifiedDocument, ExtractedDocument, FieldValue, LineItem
from services.extraction.rules import extract_field, extract_line_items
from services.extraction.templates import Template

STAGE = "extract"


@dataclass(frozen=True)
class Context:
    templates: dict[str, Template]
    regex_timeout_s: float = 0.25


Extractor = Callable[[ClassifiedDocument, Context], tuple[dict[str, FieldValue], list[LineItem]]]


def template_rules(doc: ClassifiedDocument, ctx: Context) -> tuple[dict[str, FieldValue], list[LineItem]]:
    """The detected vendor template's anchors and patterns (nothing when no template matched)."""
    template = ctx.templates.get(doc.detection.template_id or "")
    if template is None or doc.detection.status != "matched":
        return {}, []
    fields = {}
    for name, rule in template.fields.items():
        found = extract_field(doc.pages, rule, template, ctx.regex_timeout_s)
        if found is not None:
            fields[name] = found
    items = extract_line_items(doc.pages, template.line_items, template.options) if template.line_items else []
    return fields, items


# The chain, in order of precedence.
EXTRACTORS: list[Extractor] = [
    # 1. Known vendor: its template's rules, precise and cheap.
    template_rules,
]


def extract(doc: ClassifiedDocument, ctx: Context) -> ExtractedDocument:
    fields: dict[str, FieldValue] = {}
    items: list[LineItem] = []
    for extractor in EXTRACTORS:
        found, found_items = extractor(doc, ctx)
        for name, value in found.items():
            fields.setdefault(name, value)
        items = items or found_items
    return ExtractedDocument(
        doc=doc.doc,
        detection=doc.detection,
        page_count=len(doc.pages),
        text_layer=doc.text_layer,
        fields=fields,
        line_items=items,
    )
