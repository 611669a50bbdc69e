"""The e-invoice teacher: a hybrid invoice of a vendor no template reads is a labeled example for
free. Its XML says what each value is, the print shows where it stands (the e-invoice reader
located each value, services/extraction/einvoice/printed.py); the words there become labels, in
the form a labeler's picks take, and the vendor's template is induced and checked from them
exactly as the labeling service does it (labeling/onboarding.py). ``record`` stores the labels
(origin ``einvoice``: they join the training data) and, unless labelers review first, publishes
the template, audited, so the vendor's plain PDFs after it are detected and read by it.

    lesson(document_id, pages, fields, live, ...) -> Lesson | None     (pure)
    record(session, lesson, publish=...) -> what was done              (the caller's transaction)
    teach(session, classified, fields, ...) -> what was done           (both, for one document)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from labeling import onboarding, store
from labeling.labels import document_options, field_type, suggest, template_id_for
from services.contracts import ClassifiedDocument, FieldValue, LabeledValue, Page
from services.extraction import registry
from services.extraction.ranking.lexicon import fold
from services.storage import audit
from services.storage.models import LabelSet, TemplateVersion
from services.vocabulary.normalise import NORMALISERS
from services.vocabulary.templates import Template, to_yaml

AUTHOR = "einvoice-teacher"
ORIGIN = "einvoice"
# Fields a template must give back before it is published without a person: who the vendor is
# and what the invoice is for. Fewer, and the labels wait for a labeler instead.
MUST_REPRODUCE = ("invoice_number", "invoice_date", "total_amount")
HEADER_BLOCK = 0.45  # the top of the page, as a fraction of its height


@dataclass
class Lesson:
    document_id: str
    template_id: str
    labels: list[LabeledValue]
    template: Template
    yaml: str
    check: dict[str, Any]
    dropped: dict[str, str]

    @property
    def publishable(self) -> bool:
        """The template detects its own document and gives back the fields that matter."""
        doc = self.check["documents"][0] if self.check["documents"] else {}
        fields = self.check["fields"]
        return bool(doc.get("matched")) and all(fields.get(name) for name in MUST_REPRODUCE)


def labels_from(fields: dict[str, FieldValue], pages: list[Page]) -> list[LabeledValue]:
    """A label per e-invoice value the print shows: the XML's value, the printed words at its place
    (as the labeling view pre-fills them, ``suggest``). The printed words must read back to that
    value (the labeling view's normalisers, with the separator and date order the document's other
    values settle), or the field is left out."""
    located = {name: fv for name, fv in fields.items() if fv.source.startswith("einvoice:")}
    labels = suggest(located, pages)
    options = document_options({lab.field: lab.text or "" for lab in labels})
    return [lab for lab in labels if _reads_back(lab.field, lab.text or "", lab.value, options)]


def _reads_back(name: str, text: str, value: str | None, options: Any) -> bool:
    kind = field_type(name)
    if kind in ("text", "vat_id", "iban") or value is None:
        return True  # located by containment: the words hold the value
    try:
        got = NORMALISERS[kind](text, options)
    except ValueError:
        return False
    if kind == "amount":
        return got.lstrip("-") == value.lstrip("-")  # a credit note prints either sign
    return got == value


def lesson(document_id: str, pages: list[Page], fields: dict[str, FieldValue], live: list[Template], *,
           template_id: str, version: int, regex_timeout_s: float) -> Lesson | None:
    """The labels an e-invoice gives its print and the template induced from them, checked on the
    document as the stream would detect and read it; None when the print shows too little."""
    labels = labels_from(fields, pages)
    if not any(lab.field == "invoice_number" for lab in labels):
        return None
    example = onboarding.example(document_id, 1, pages, labels)
    induced, _ = onboarding.induced([example], template_id, version)
    template = induced.template
    # One example cannot tell which anchors stay put: the totals block moves with the number of
    # lines. The layout fingerprint keeps the anchors of the header block, where layouts stand still.
    header = {a: at for a, at in template.layout.items() if at[1] <= HEADER_BLOCK}
    template = template.model_copy(update={"layout": header or template.layout})
    printed = next((lab.text for lab in labels if lab.field == "vendor_name"), None)
    if printed:  # detected by the name as printed ("MUSTER GMBH"), not as the XML has it ("GLN 43... MUSTER GMBH")
        template = template.model_copy(update={"match": template.match.model_copy(update={"keywords": [printed]})})
    result = onboarding.check(template, [example], live, regex_timeout_s)
    return Lesson(document_id=document_id, template_id=template_id, labels=labels, template=template,
                  yaml=to_yaml(template, f"learned from the e-invoice of {document_id}"),
                  check=result, dropped=induced.dropped)


def _unknown_seller(classified: ClassifiedDocument, seller: str, live: list[Template]) -> bool:
    """No template reads this seller: none matched, or the one detection named is another company's
    (the XML names the seller; a VAT id or a name shared with it made detection take another's)."""
    detection = classified.detection
    if detection.status == "unknown":
        return True
    template = next((t for t in live if t.id == detection.template_id), None)
    return template is not None and not same_company(template.issuer or "", seller)


def same_company(a: str, b: str) -> bool:
    """The same name, or one that ends with the other ("GLN 4333741000005 MUSTER GMBH" is "MUSTER GMBH");
    "Lieferant GmbH & Co. KG" is not "Lieferant GmbH"."""
    x, y = sorted((fold(a), fold(b)), key=len)
    return bool(x) and (x == y or y.endswith(f" {x}"))


def template_id(s: Session, vendor_name: str, files: list[Template]) -> str:
    """A new id for the vendor: its name's, with a number when another vendor has that one."""
    base = template_id_for(vendor_name)
    taken = set(s.exec(select(TemplateVersion.template_id).where(
        col(TemplateVersion.template_id).startswith(base))).all()) | {t.id for t in files}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def taught(s: Session, document_id: str) -> bool:
    """Whether this document already taught (a redelivered event teaches once)."""
    return s.exec(select(func.count()).select_from(LabelSet).where(
        LabelSet.document_id == document_id, LabelSet.origin == ORIGIN)).one() > 0


def record(s: Session, found: Lesson, *, publish: bool) -> str:
    """Store the labels and, when ``publish`` and the check holds, the template; audited. Returns
    what was done: "published" or "labels" (left for a labeler to review and publish)."""
    store.save(s, document_id=found.document_id, labels=found.labels, origin=ORIGIN, author=AUTHOR)
    if not (publish and found.publishable):
        return "labels"
    checks = found.check | {"origin": ORIGIN}
    note = f"learned from the e-invoice of {found.document_id}"
    registry.publish(s, found.template, body=found.yaml, author=AUTHOR, documents=[found.document_id],
                     checks=checks, note=note)
    audit.record(s, actor=AUTHOR, action="template.publish", object_type="template", object_id=found.template.ref,
                 reason=note, after={"origin": ORIGIN, "documents": [found.document_id],
                                     "fields": found.check["fields"], "ok": found.check["ok"],
                                     "dropped": found.dropped})
    return "published"


def teach(s: Session, classified: ClassifiedDocument, fields: dict[str, FieldValue], *, live: list[Template],
          files: list[Template], regex_timeout_s: float, mode: str) -> str | None:
    """Learn from one document, in the caller's transaction: what was done ("published", "labels",
    "taught before"), or None when there is nothing to learn (a known vendor, no e-invoice, a print
    that shows too little of it)."""
    name = fields.get("vendor_name")
    if mode == "off" or name is None or not name.value or not name.source.startswith("einvoice:"):
        return None
    if not _unknown_seller(classified, name.value, live):
        return None
    document_id = classified.doc.document_id
    if taught(s, document_id):
        return "taught before"
    tid = template_id(s, name.value, files)
    found = lesson(document_id, classified.pages, fields, live, template_id=tid,
                   version=registry.next_version(s, tid, files), regex_timeout_s=regex_timeout_s)
    return record(s, found, publish=mode == "publish") if found is not None else None
