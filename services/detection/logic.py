"""Template detection as a pure function: parsed words and the templates to a ``Detection``.

Strong identifiers (VAT id, IBAN) printed on the page identify a vendor outright; all
keywords present and no excluded keyword identify it with less certainty. When nothing
matches, the evidence says for each template what was missing: never a silent "no template".
"""

from __future__ import annotations

import re
from typing import Literal

from services.contracts import Detection, ParsedDocument
from services.parsing.anchors import find_anchors
from services.vocabulary.templates import Template

STAGE = "detect"

CONFIDENCE_IDENTIFIER_AND_KEYWORDS = 0.99
CONFIDENCE_IDENTIFIER = 0.95
CONFIDENCE_KEYWORDS = 0.85
# A layout fits when this share of its anchors stand within this fraction of the page of where they stood.
LAYOUT_FIT_MIN = 0.6
LAYOUT_TOLERANCE = 0.04


def page_text(doc: ParsedDocument) -> str:
    return "\n".join(line.text for page in doc.pages for line in page.lines)


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def _has(folded: str, keyword: str) -> bool:
    """The keyword as words of the text: "Lieferant GmbH" is not in "Musterlieferant GmbH", nor in
    "Lieferant GmbH & Co. KG" (another legal entity: the limited partnership the GmbH runs)."""
    return re.search(rf"(?<!\w){re.escape(_fold(keyword))}(?!\w)(?! ?& ?co\b| co\.? kg\b)", folded) is not None


def _other_vat_id(vat_id: str | None, folded: str) -> str | None:
    """A VAT id of the template's country and form printed on the page that is not the template's."""
    own = _compact(vat_id or "")
    if len(own) < 6 or not own[:2].isalpha():
        return None
    body = own[2:]
    char = "[0-9]" if body.isdigit() else "[0-9a-z]"
    pattern = rf"(?<![0-9a-z]){own[:2]}[ .-]?((?:{char}[ .]?){{{len(body) - 1}}}{char})(?![0-9a-z])"
    for m in re.finditer(pattern, folded):
        found = own[:2] + _compact(m.group(1))
        if found != own:
            return found.upper()
    return None


def _compact(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def score(template: Template, folded: str, compact: str) -> tuple[float, list[str]]:
    """Confidence that ``template`` fits the text, and the evidence for or against."""
    rule = template.match
    excluded = [k for k in rule.exclude_keywords if _has(folded, k)]
    if excluded:
        return 0.0, [f"{template.ref}: excluded keyword {excluded[0]!r} present"]
    missing = [k for k in rule.keywords if not _has(folded, k)]
    ids = [name for name, value in rule.identifiers.items() if _compact(value) in compact]
    if ids and not missing:
        return CONFIDENCE_IDENTIFIER_AND_KEYWORDS, [f"{template.ref}: {', '.join(ids)} and keywords"]
    if ids:
        return CONFIDENCE_IDENTIFIER, [f"{template.ref}: {', '.join(ids)}; keyword {missing[0]!r} absent"]
    if rule.keywords and not missing:
        other = _other_vat_id(rule.identifiers.get("vendor_vat_id"), folded)
        if other:  # the name, but someone else's VAT id: another company of that name, or a buyer
            return 0.0, [f"{template.ref}: keywords, but the VAT id printed is {other}, not the template's"]
        return CONFIDENCE_KEYWORDS, [f"{template.ref}: all {len(rule.keywords)} keywords, no identifier"]
    why = f"keyword {missing[0]!r} not found" if missing else "no keywords or identifiers defined"
    if rule.identifiers:
        why += f"; none of {', '.join(rule.identifiers)} printed"
    return 0.0, [f"{template.ref}: {why}"]


def detect(doc: ParsedDocument, templates: list[Template]) -> Detection:
    text = page_text(doc)
    folded, compact = _fold(text), _compact(text)
    best: tuple[float, Template] | None = None
    evidence: list[str] = []
    for template in templates:
        confidence, why = score(template, folded, compact)
        evidence.extend(why)
        if confidence > 0 and (best is None or confidence > best[0]):
            best = (confidence, template)
    if best is None:
        if not templates:
            evidence.append("no templates are loaded")
        return Detection(status="unknown", evidence=evidence[:20])
    confidence, template = best
    fit, fit_why = layout_fit(doc, template)
    status: Literal["matched", "new_layout"] = "matched" if fit is None or fit >= LAYOUT_FIT_MIN else "new_layout"
    return Detection(
        status=status,
        template_id=template.id,
        template_version=template.version,
        confidence=confidence if status == "matched" else round(confidence * fit, 4),  # type: ignore[operator]
        evidence=[e for e in evidence if e.startswith(template.ref)] + [fit_why],
    )


def layout_fit(doc: ParsedDocument, template: Template) -> tuple[float | None, str]:
    """Share of the template's anchors printed where its fingerprint has them (None: no fingerprint)."""
    if not template.layout:
        return None, f"{template.ref}: no layout fingerprint"
    hits = 0
    for phrase, (x, y) in template.layout.items():
        for page in doc.pages[:2] + doc.pages[2:][-1:]:  # letterhead first, totals on the last page
            spans = find_anchors(page, phrase)
            if any(abs(s.page.words[s.idx[0]].bbox[0] / page.width - x) <= LAYOUT_TOLERANCE
                   and abs(s.page.words[s.idx[0]].bbox[1] / page.height - y) <= LAYOUT_TOLERANCE for s in spans):
                hits += 1
                break
    fit = hits / len(template.layout)
    return fit, f"{template.ref}: {hits} of {len(template.layout)} anchors where the layout has them"
