"""The message model of every topic: the contracts between stages and with integrators.

Each model carries ``contract_version`` ("MAJOR.MINOR"). A consumer accepts any minor
version of its own major and ignores fields it does not know; a different major is
dead-lettered with ``CONTRACT_VERSION_UNSUPPORTED``. ``docflow contracts export``
writes these models as JSON Schema plus an AsyncAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from services import topics

M = TypeVar("M", bound=BaseModel)

CONTRACT_MAJOR = 1
CONTRACT_VERSION = f"{CONTRACT_MAJOR}.6"  # 1.1: extracted documents name the model that read them
# 1.2: review decisions carry an id and boxes; accepted documents say who reviewed them
# 1.3: model events carry their sequence number and the gate's "rejected"; alerts their scope
# 1.4: extracted documents carry an embedded e-invoice's totals, allowances and tax breakdown;
#      line items their price base quantity, allowances, charges and parent line; labels "einvoice"
# 1.5: parsed and classified documents carry their pages by reference (pages_uri, a claim check)
# 1.6: parsed and classified documents say how many files the PDF embeds (attachments)

# The invoice field schema (design card): header fields, then line items.
HEADER_FIELDS = (
    "vendor_name", "vendor_vat_id", "vendor_iban", "invoice_number", "invoice_date", "due_date",
    "purchase_order", "currency", "net_amount", "tax_amount", "total_amount",
)
TOTALS = ("net_amount", "tax_amount", "total_amount")  # a printed invoice's net + tax = total
LINE_ITEM_FIELDS = ("description", "quantity", "unit_price", "amount")

BBox = tuple[float, float, float, float]
"""x0, top, x1, bottom in PDF points, origin at the top-left of the page."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Reason(StrEnum):
    """Reason codes: why a document left the straight-through path."""

    # intake
    ENVELOPE_INVALID = "ENVELOPE_INVALID"
    CONTRACT_VERSION_UNSUPPORTED = "CONTRACT_VERSION_UNSUPPORTED"
    CONTENT_MISSING = "CONTENT_MISSING"
    CONTENT_NOT_BASE64 = "CONTENT_NOT_BASE64"
    INLINE_CONTENT_TOO_LARGE = "INLINE_CONTENT_TOO_LARGE"
    BLOB_NOT_FOUND = "BLOB_NOT_FOUND"
    CHECKSUM_MISMATCH = "CHECKSUM_MISMATCH"
    EMPTY_DOCUMENT = "EMPTY_DOCUMENT"
    DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    DUPLICATE_CONTENT = "DUPLICATE_CONTENT"
    # parse
    PDF_CORRUPT = "PDF_CORRUPT"
    PDF_ENCRYPTED = "PDF_ENCRYPTED"
    PDF_NO_PAGES = "PDF_NO_PAGES"
    TOO_MANY_PAGES = "TOO_MANY_PAGES"
    TOO_MANY_WORDS = "TOO_MANY_WORDS"  # a page over DOCFLOW_MAX_WORDS_PER_PAGE: a text flood
    NO_TEXT_LAYER = "NO_TEXT_LAYER"
    PARSE_TIMEOUT = "PARSE_TIMEOUT"  # over DOCFLOW_PARSE_TIMEOUT_S of wall time in the parse sandbox
    PARSE_MEMORY_EXCEEDED = "PARSE_MEMORY_EXCEEDED"  # over DOCFLOW_PARSE_MEMORY_MB in the parse sandbox
    # detect / extract / validate
    UNKNOWN_TEMPLATE = "UNKNOWN_TEMPLATE"
    MODEL_UNAVAILABLE = "MODEL_UNAVAILABLE"
    NEW_LAYOUT_VERSION = "NEW_LAYOUT_VERSION"
    EINVOICE_PRINT_MISMATCH = "EINVOICE_PRINT_MISMATCH"
    REQUIRED_FIELD_MISSING = "REQUIRED_FIELD_MISSING"
    AMOUNT_INVALID = "AMOUNT_INVALID"
    DATE_INVALID = "DATE_INVALID"
    CURRENCY_INVALID = "CURRENCY_INVALID"
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    LINE_ITEMS_MISMATCH = "LINE_ITEMS_MISMATCH"
    LINE_ITEM_ARITHMETIC = "LINE_ITEM_ARITHMETIC"
    DUE_BEFORE_ISSUE = "DUE_BEFORE_ISSUE"
    DATE_OUT_OF_RANGE = "DATE_OUT_OF_RANGE"
    IBAN_INVALID = "IBAN_INVALID"
    VAT_ID_INVALID = "VAT_ID_INVALID"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"
    # review
    REOPENED = "REOPENED"
    REVIEW_UNKNOWN_DOCUMENT = "REVIEW_UNKNOWN_DOCUMENT"
    # any stage
    MESSAGE_INVALID = "MESSAGE_INVALID"
    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
    POISON = "POISON"  # re-driven DOCFLOW_MAX_REDRIVES times and still never reached a terminal place
    INTERNAL_ERROR = "INTERNAL_ERROR"


class Contract(BaseModel):
    """Base of every topic payload."""

    model_config = ConfigDict(extra="ignore", frozen=False)
    topic: ClassVar[str]
    contract_version: str = CONTRACT_VERSION


# ---------------------------------------------------------------- documents.incoming
class IncomingDocument(Contract):
    """The envelope an upstream system publishes. Content inline (base64) or by blob reference."""

    model_config = ConfigDict(extra="forbid")
    topic: ClassVar[str] = topics.INCOMING
    document_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$",
        description="Assigned from source and sha256 when absent, so re-deliveries keep their id.",
    )
    source: str = Field(min_length=1, max_length=200)
    filename: str = Field(default="document.pdf", max_length=500)
    content_type: str = "application/pdf"
    content: str | None = Field(default=None, description="Document bytes, base64.")
    blob_uri: str | None = Field(default=None, description="blob://sha256/<hex>, for large documents.")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    metadata: dict[str, str] = Field(default_factory=dict, description=(
        "Free keys for the integrator, passed through: at most 100, keys up to 100 characters, values up to 2,000."))
    submitted_at: datetime = Field(default_factory=utcnow)

    @field_validator("source", "filename", "content_type")
    @classmethod
    def _printable(cls, value: str) -> str:
        if _CONTROL.search(value):
            raise ValueError("control characters (NUL, line breaks ...) are not allowed")
        return value

    @field_validator("metadata")
    @classmethod
    def _printable_metadata(cls, value: dict[str, str]) -> dict[str, str]:
        if any(_CONTROL.search(k) or "\x00" in v for k, v in value.items()):
            raise ValueError("metadata keys may not hold control characters, nor values a NUL")
        if len(value) > 100 or any(len(k) > 100 or len(v) > 2000 for k, v in value.items()):
            raise ValueError("metadata holds at most 100 keys of up to 100 characters, values of up to 2,000")
        return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class DocumentRef(BaseModel):
    """What every later stage knows about the document itself (never its content)."""

    document_id: str
    source: str
    filename: str
    content_type: str
    sha256: str
    size: int
    blob_uri: str
    metadata: dict[str, str] = Field(default_factory=dict)
    submitted_at: datetime


# ---------------------------------------------------------------- documents.parsed
class Word(BaseModel):
    text: str
    bbox: BBox


class Line(BaseModel):
    text: str
    bbox: BBox
    words: list[int] = Field(default_factory=list, description="Indexes into the page's words.")


def built(cls: type[M]) -> Callable[..., M]:
    """A constructor for ``cls`` from values built valid, every field given (a reader's words and
    lines: a str and four floats each): what ``model_construct`` does, without its pass over the
    fields for defaults and aliases. 0.7 µs a word against 1.9, and a page has hundreds."""
    new, setattr_ = cls.__new__, object.__setattr__
    names = frozenset(cls.model_fields)

    def make(**values: Any) -> M:
        assert values.keys() == names, f"{cls.__name__} needs every field"
        model = new(cls)
        setattr_(model, "__dict__", values)
        setattr_(model, "__pydantic_fields_set__", set(names))
        setattr_(model, "__pydantic_extra__", None)
        setattr_(model, "__pydantic_private__", None)
        return model

    return make


make_word, make_line = built(Word), built(Line)


class Page(BaseModel):
    number: int = Field(ge=1)
    width: float
    height: float
    words: list[Word] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)
    tables: list[list[list[str | None]]] = Field(default_factory=list)
    has_text_layer: bool = True
    ocr: bool = Field(default=False, description="Words read by OCR from the page image.")


# A document's pages as JSON: what the parse sandbox answers and the blob store keeps as their claim
# check (services/storage/claims.py), the one form both write and read.
PAGES = TypeAdapter(list[Page])

class ParsedDocument(Contract):
    topic: ClassVar[str] = topics.PARSED
    doc: DocumentRef
    parser: str
    pages: list[Page] = Field(description="Empty on the wire when pages_uri is set.")
    text_layer: Literal["full", "partial", "none"]
    pages_uri: str | None = Field(default=None, description=(
        "blob://sha256/<hex> of the pages' JSON in the blob store (claim check): the message's size does "
        "not grow with the document's words."))
    attachments: int | None = Field(default=None, ge=0, description=(
        "Files the PDF embeds (its EmbeddedFiles tree); none: no e-invoice inside to look for. Null: not "
        "counted."))


# ---------------------------------------------------------------- documents.classified
class Detection(BaseModel):
    """``new_layout``: the vendor's identifiers are printed, but not where its template expects
    its labels: a new layout version, read with care and shown to an operator."""

    status: Literal["matched", "new_layout", "unknown"]
    template_id: str | None = None
    template_version: int | None = None
    confidence: float = Field(default=0.0, ge=0, le=1)
    evidence: list[str] = Field(default_factory=list, description="Why it matched, or why nothing did.")


class ClassifiedDocument(ParsedDocument):
    topic: ClassVar[str] = topics.CLASSIFIED
    detection: Detection


# ---------------------------------------------------------------- documents.extracted
class FieldValue(BaseModel):
    value: str | None
    confidence: float = Field(ge=0, le=1)
    source: str = Field(description="rule id@version, or model version")
    page: int | None = None
    bbox: BBox | None = None
    raw: str | None = None


class LineItem(BaseModel):
    description: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    amount: str | None = None
    page: int | None = None
    bbox: BBox | None = None
    # An e-invoice's line says more (EN 16931 BG-25): the quantity its price is for (BT-149), the
    # line's own allowances and charges (BG-27/28, summed), its id and, for a sub-line, its parent.
    price_basis_quantity: str | None = None
    allowances: str | None = None
    charges: str | None = None
    line_id: str | None = None
    parent_line_id: str | None = None


class AllowanceCharge(BaseModel):
    """A document-level allowance (BG-20) or charge (BG-21) of an e-invoice."""

    charge: bool
    amount: str
    reason: str | None = None
    tax_category: str | None = None
    tax_rate: str | None = None


class TaxBreakdown(BaseModel):
    """One VAT category and rate of an e-invoice (BG-23)."""

    category: str | None = None
    rate: str | None = None
    basis: str | None = None
    tax: str | None = None


class EInvoice(BaseModel):
    """What an embedded e-invoice says beyond the header fields, for its own calculation rules."""

    attachment: str
    syntax: Literal["cii", "cii-zugferd1", "ubl"]
    profile: str | None = Field(default=None, description="The specification identifier (BT-24).")
    type_code: str | None = Field(default=None,
                                  description="UNTDID 1001: 380 invoice, 381 credit note, 384 corrective.")
    credit_note: bool = False
    line_total: str | None = None       # BT-106
    allowance_total: str | None = None  # BT-107
    charge_total: str | None = None     # BT-108
    tax_basis_total: str | None = None  # BT-109
    tax_total: str | None = None        # BT-110
    grand_total: str | None = None      # BT-112
    prepaid: str | None = None          # BT-113
    rounding: str | None = None         # BT-114
    amount_due: str | None = None       # BT-115
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[TaxBreakdown] = Field(default_factory=list)


class ExtractedDocument(Contract):
    topic: ClassVar[str] = topics.EXTRACTED
    doc: DocumentRef
    detection: Detection
    page_count: int
    text_layer: Literal["full", "partial", "none"]
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    line_items: list[LineItem] = Field(default_factory=list)
    model_version: str | None = Field(default=None, description="The layout model that read it, if one did.")
    ocr: bool = Field(default=False, description="Some words were read by OCR.")
    einvoice: EInvoice | None = Field(default=None, description="The embedded e-invoice, when the PDF carries one.")


# ---------------------------------------------------------------- validation and terminals
class Issue(BaseModel):
    code: Reason
    message: str
    field: str | None = None


class Validation(BaseModel):
    ok: bool
    issues: list[Issue] = Field(default_factory=list)


class ValidatedDocument(ExtractedDocument):
    validation: Validation


class Review(BaseModel):
    """How a person decided on a document the system was not sure about."""

    decision_id: str
    reviewer: str
    corrected: list[str] = Field(default_factory=list, description="Fields whose value the reviewer changed.")
    comment: str | None = None
    decided_at: datetime


def vendor_of(doc: ExtractedDocument) -> str | None:
    """The vendor as the queue groups documents: the template's id, else the name read."""
    if doc.detection.template_id and doc.detection.status != "unknown":
        return doc.detection.template_id
    name = doc.fields.get("vendor_name")
    return name.value if name is not None else None


class AcceptedDocument(ValidatedDocument):
    """Accepted straight through, or approved by a reviewer (``review`` set; a later review of the
    same document supersedes an earlier message: consumers keep the newest per document_id)."""

    topic: ClassVar[str] = topics.ACCEPTED
    review: Review | None = None


class ExceptionDocument(ValidatedDocument):
    topic: ClassVar[str] = topics.EXCEPTIONS
    reasons: list[Reason]


class DeadLetter(Contract):
    """Unreadable input. The original bytes stay in the blob store under ``original_uri``."""

    topic: ClassVar[str] = topics.DEADLETTER
    document_id: str
    stage: str
    reason: Reason
    message: str
    source_topic: str
    original_uri: str | None = None
    filename: str | None = None
    failed_at: datetime = Field(default_factory=utcnow)


# ---------------------------------------------------------------- feedback and lifecycle
class FieldCorrection(BaseModel):
    """A reviewer's value for one field, with the page words it was read from (if clicked)."""

    value: str | None
    page: int | None = None
    bbox: BBox | None = None


class ReviewDecision(Contract):
    """An operator's decision on an exception; applied once per ``decision_id``."""

    topic: ClassVar[str] = topics.REVIEWED
    decision_id: str
    document_id: str
    decision: Literal["approve", "reject"]
    fields: dict[str, FieldCorrection] = Field(default_factory=dict)
    reviewer: str
    comment: str | None = None
    decided_at: datetime = Field(default_factory=utcnow)


class LabeledWord(BaseModel):
    text: str
    bbox: BBox


class LabeledValue(BaseModel):
    """One labelled value of a document, in the corpus truth form (a truth.json's ``labels``): what
    a labeler, an import or the e-invoice teacher saved. ``field``: a header field or
    ``line_items.<row>.<column>``; ``value`` normalised; ``text`` as printed; the ``words`` with
    their boxes are the token-level training data. A value typed, not picked, has no page."""

    field: str
    value: str | None
    text: str | None = None
    page: int | None = None
    bbox: BBox | None = None
    words: list[LabeledWord] = Field(default_factory=list)


class Label(Contract):
    """A person's statement of one field's true value on a document: training data."""

    topic: ClassVar[str] = topics.LABELS
    label_id: str = Field(description="Stable per decision and field: a re-sent label is the same label.")
    document_id: str
    field: str
    value: str | None
    page: int | None = None
    bbox: BBox | None = None
    origin: Literal["operator", "labeler", "import", "einvoice"]
    author: str
    created_at: datetime = Field(default_factory=utcnow)


class TemplateEvent(Contract):
    topic: ClassVar[str] = topics.TEMPLATES_EVENTS
    template_id: str
    version: int
    action: Literal["published", "retired", "rolled_back"]
    author: str
    at: datetime = Field(default_factory=utcnow)


class ModelEvent(Contract):
    """A step in the model registry: registered (a candidate), rejected (by the evaluation gate),
    shadow, canary, promoted (to production), rolled_back, retired."""

    topic: ClassVar[str] = topics.MODELS_EVENTS
    seq: int | None = Field(default=None, description="The registry's event number: a re-sent event has the same.")
    model_version: str
    action: Literal["registered", "rejected", "shadow", "canary", "promoted", "rolled_back", "retired"]
    actor: str
    details: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=utcnow)


class MonitoringAlert(Contract):
    """A drift (or canary) alert with its evidence: the test, statistic, p-value, windows."""

    topic: ClassVar[str] = topics.MONITORING_ALERTS
    alert_id: str
    kind: str
    severity: Literal["info", "warning", "critical"]
    scope: str = Field(default="all", description="all, or vendor:<key>")
    summary: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    raised_at: datetime = Field(default_factory=utcnow)


# One model per topic: what a producer must send and a consumer may expect.
TOPIC_CONTRACTS: dict[str, type[Contract]] = {
    topics.INCOMING: IncomingDocument,
    topics.PARSED: ParsedDocument,
    topics.CLASSIFIED: ClassifiedDocument,
    topics.EXTRACTED: ExtractedDocument,
    topics.ACCEPTED: AcceptedDocument,
    topics.EXCEPTIONS: ExceptionDocument,
    topics.DEADLETTER: DeadLetter,
    topics.REVIEWED: ReviewDecision,
    topics.LABELS: Label,
    topics.TEMPLATES_EVENTS: TemplateEvent,
    topics.MODELS_EVENTS: ModelEvent,
    topics.MONITORING_ALERTS: MonitoringAlert,
}
