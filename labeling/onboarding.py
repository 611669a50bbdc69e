"""One-example onboarding: a template induced from labeled documents, checked on them, published.

``induce`` writes the YAML; ``check`` runs any template text (induced or edited by the labeler)
on the labeled documents exactly as the stream would: detection against the live templates
plus this one, then every rule, compared with the labels field by field. Publishing stores a
new version only when the YAML is valid; what the check gave is stored with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labeling.labels import truth
from services.contracts import HEADER_FIELDS, LabeledValue, ParsedDocument
from services.detection.logic import detect
from services.errors import TemplateError
from services.extraction.induction import Induced, Labeled, induce
from services.extraction.logic import read_with
from services.vocabulary.templates import Template, parse_template, to_yaml


@dataclass
class Example:
    document_id: str
    revision: int
    labeled: Labeled


def example(document_id: str, revision: int, pages: list, labels: list[LabeledValue]) -> Example:
    """A labeled document for induction: every value counts for the check, but only values located
    on the page (not just typed) can teach a rule where to look."""
    located = [lab for lab in labels if lab.page and lab.words]
    return Example(document_id, revision, Labeled(pages=pages, fields=truth(labels)["fields"], labels=located))


def induced(examples: list[Example], template_id: str, version: int) -> tuple[Induced, str]:
    result = induce([e.labeled for e in examples], template_id, version=version)
    note = f"induced from {', '.join(f'{e.document_id} (labels r{e.revision})' for e in examples)}"
    return result, to_yaml(result.template, note)


def check(template: Template, examples: list[Example], live: list[Template], regex_timeout_s: float) -> dict[str, Any]:
    """Per labeled document: which template detection picks, and per header field the label beside
    what the template gives (``ok``: equal; None where nothing was labelled). ``ok`` overall when
    every document is matched to this template and every labelled field is reproduced."""
    others = [t for t in live if t.id != template.id]
    documents: list[dict[str, Any]] = []
    per_field: dict[str, Any] = {}
    for ex in examples:
        pages = ex.labeled.pages
        detection = detect(ParsedDocument.model_construct(pages=pages), [template, *others])
        fields, _ = read_with(template, pages, regex_timeout_s)
        rows = {}
        for name in HEADER_FIELDS:
            want, got = ex.labeled.fields.get(name), fields.get(name)
            if want is None and got is None:
                continue
            value = got.value if got else None
            # A field nobody labelled has no verdict: its value is shown, not judged.
            ok = None if want is None else value == want
            rows[name] = {"label": want, "template": value, "ok": ok, "source": got.source if got else None}
            if ok is not None:
                per_field.setdefault(name, []).append(ok)
        documents.append({
            "document_id": ex.document_id, "revision": ex.revision,
            "detected": {"status": detection.status, "template": detection.template_id,
                         "evidence": detection.evidence[:4]},
            "matched": detection.status == "matched" and detection.template_id == template.id,
            "fields": rows,
        })
    return {
        "ok": bool(documents) and all(d["matched"] for d in documents) and all(all(v) for v in per_field.values()),
        "fields": {name: all(v) for name, v in per_field.items()},
        "documents": documents,
    }


def parse_candidate(text: str, template_id: str, version: int) -> Template:
    """The labeler's YAML as the template to publish: its id must be the one being onboarded; the
    version is the registry's next one, whatever the text says. TemplateError on anything invalid."""
    template = parse_template(text, f"{template_id} (draft)")
    if template.id != template_id:
        raise TemplateError(f"{template_id} (draft)", f"id is {template.id!r}, expected {template_id!r}")
    return template.model_copy(update={"version": version})
