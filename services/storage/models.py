"""Tables: documents, their stage transitions, extracted values, the exception queue and its
reviews, labels, users and their sessions, and the append-only audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.contracts import LabeledValue, ValidatedDocument


def _now() -> datetime:
    return datetime.now(UTC)


class DocumentState:
    RECEIVED = "received"
    PARSED = "parsed"
    CLASSIFIED = "classified"
    EXTRACTED = "extracted"
    ACCEPTED = "accepted"
    EXCEPTION = "exception"
    DEADLETTER = "deadletter"
    REJECTED = "rejected"  # by a reviewer, from exception
    SAMPLE = "sample"  # uploaded to the labeling service to onboard a vendor; never enters the stream
    # Where the stream leaves a document; only a review moves it on (exception -> accepted/rejected,
    # accepted -> exception when reopened).
    TERMINAL = frozenset({ACCEPTED, EXCEPTION, DEADLETTER, REJECTED})


class Document(SQLModel, table=True):
    __tablename__ = "documents"

    document_id: str = Field(primary_key=True, max_length=128)
    source: str = Field(default="", max_length=200)
    filename: str = Field(default="", max_length=500)
    sha256: str | None = Field(default=None, index=True, max_length=64)
    size: int | None = None
    blob_uri: str | None = Field(default=None, max_length=200)
    page_count: int | None = None
    state: str = Field(default=DocumentState.RECEIVED, index=True, max_length=20)
    template_id: str | None = Field(default=None, max_length=100)
    template_version: int | None = None
    vendor: str | None = Field(default=None, index=True, max_length=200)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    detail: str | None = Field(default=None, max_length=1000)
    # The last validated document (fields, line items, validation; never words or content): what a
    # review starts from.
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)

    def validated(self) -> ValidatedDocument | None:
        """The stored result as the contract it was written from. What the terminal message said
        besides (an exception's reasons, an approval's review) is this row's own columns."""
        return ValidatedDocument.model_validate(self.result) if self.result is not None else None


class StageTransition(SQLModel, table=True):
    """One row per document and stage: the marker that makes every stage idempotent."""

    __tablename__ = "stage_transitions"
    __table_args__ = (UniqueConstraint("document_id", "stage", name="uq_transition_document_stage"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(index=True, max_length=128)
    stage: str = Field(max_length=20)
    outcome: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=60)
    duration_ms: float | None = None
    # CPU time of the stage's own work (its thread, its parse sandbox), for the cost per document; a
    # worker's last step of a delivery also carries the document's share of the edge's (transport.EdgeCost)
    cpu_ms: float | None = None
    at: datetime = Field(default_factory=_now)


class Extraction(SQLModel, table=True):
    __tablename__ = "extractions"
    __table_args__ = (UniqueConstraint("document_id", "field", name="uq_extraction_document_field"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(index=True, max_length=128)
    field: str = Field(max_length=40)
    value: str | None = Field(default=None, max_length=1000)
    confidence: float
    source: str = Field(max_length=200)
    page: int | None = None
    bbox: list[float] | None = Field(default=None, sa_column=Column(JSON))
    raw: str | None = Field(default=None, max_length=1000)


class QueueStatus:
    OPEN = "open"
    IN_REVIEW = "in_review"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    ESCALATED = "escalated"
    ACTIVE = frozenset({OPEN, IN_REVIEW, ESCALATED})
    ALL = (OPEN, IN_REVIEW, ESCALATED, RESOLVED, REJECTED)


class ExceptionRecord(SQLModel, table=True):
    """One queue item per document; reopened in place when an accepted document is reopened."""

    __tablename__ = "exceptions"

    document_id: str = Field(primary_key=True, max_length=128)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=QueueStatus.OPEN, index=True, max_length=20)
    priority: int = Field(default=2, index=True)  # 1 urgent .. 3 low
    vendor: str | None = Field(default=None, index=True, max_length=200)
    assignee: str | None = Field(default=None, index=True, max_length=100)
    due_at: datetime | None = None
    revision: int = 0  # bumped by every action: a stale form cannot overwrite a newer decision
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class ReviewRecord(SQLModel, table=True):
    """A decision as taken in the console: the outbox row that is published to documents.reviewed,
    then marked applied by the review stage (exactly once per decision_id)."""

    __tablename__ = "review_decisions"

    decision_id: str = Field(primary_key=True, max_length=64)
    document_id: str = Field(index=True, max_length=128)
    decision: str = Field(max_length=20)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reviewer: str = Field(max_length=100)
    comment: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=_now)
    published_at: datetime | None = Field(default=None, index=True)
    applied_at: datetime | None = None


class LabelRecord(SQLModel, table=True):
    """A field's true value as a person stated it; one version per (document, field) and source."""

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("label_id", name="uq_labels_label_id"),)

    id: int | None = Field(default=None, primary_key=True)
    label_id: str = Field(max_length=200)
    document_id: str = Field(index=True, max_length=128)
    field: str = Field(max_length=40)
    value: str | None = Field(default=None, max_length=1000)
    page: int | None = None
    bbox: list[float] | None = Field(default=None, sa_column=Column(JSON))
    origin: str = Field(max_length=20)
    author: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_now)


class InvoiceKey(SQLModel, table=True):
    """One accepted invoice per vendor and number: the duplicate-invoice check."""

    __tablename__ = "invoice_keys"

    vendor_key: str = Field(primary_key=True, max_length=200)
    invoice_number: str = Field(primary_key=True, max_length=200)
    document_id: str = Field(index=True, max_length=128)
    at: datetime = Field(default_factory=_now)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=100)
    password_hash: str = Field(max_length=300)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime = Field(default_factory=_now)


class Credential(SQLModel, table=True):
    """A login session (cookie) or an API token; only the token's SHA-256 is stored."""

    __tablename__ = "credentials"

    token_hash: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=10)  # session | token
    user_id: int = Field(index=True, foreign_key="users.id")
    name: str | None = Field(default=None, max_length=100)
    csrf: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_now)
    expires_at: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """Append-only (the migration adds triggers that refuse UPDATE and DELETE)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, index=True)
    actor: str = Field(index=True, max_length=100)
    action: str = Field(index=True, max_length=40)
    object_type: str = Field(max_length=40)
    object_id: str = Field(index=True, max_length=200)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str | None = Field(default=None, max_length=2000)


class LabelSet(SQLModel, table=True):
    """One saved revision of a document's labels, as a labeler made it (or an import brought it).

    ``labels``: one entry per labelled value, in the synthetic corpus's truth form: ``field``
    (``invoice_number``, ``line_items.2.amount``), normalised ``value``, printed ``text``, ``page``,
    ``bbox`` and the ``words`` with their boxes (token-level training data). Every save is a new
    revision; the newest is the document's labels. ``published_at`` is the outbox mark: the relay
    sends each label to the ``labels`` topic, then sets it.
    """

    __tablename__ = "label_sets"
    __table_args__ = (UniqueConstraint("document_id", "revision", name="uq_label_sets_document_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(index=True, max_length=128)
    revision: int = Field(ge=1)
    labels: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    origin: str = Field(max_length=20)  # labeler | import
    author: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_now)
    published_at: datetime | None = Field(default=None, index=True)

    def values(self) -> list[LabeledValue]:
        """The labels as their contract."""
        return [LabeledValue.model_validate(label) for label in self.labels]


class TemplateVersion(SQLModel, table=True):
    """A vendor template as published from the labeling service: its YAML, who published it, the
    labeled documents it was checked on and what that check gave. ``status``: published or retired
    (a rollback retires the versions above the one rolled back to)."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version", name="uq_template_versions_id_version"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: str = Field(index=True, max_length=100)
    version: int = Field(ge=1)
    body: str = Field(max_length=100_000)
    status: str = Field(default="published", max_length=20)
    author: str = Field(max_length=100)
    note: str | None = Field(default=None, max_length=2000)
    documents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    checks: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=_now)


class TemplateEventRecord(SQLModel, table=True):
    """Every publish, retirement and rollback in order. ``seq`` is the template set's revision (a
    worker reloads when it grows); ``published_at`` is the outbox mark for templates.events."""

    __tablename__ = "template_events"

    seq: int | None = Field(default=None, primary_key=True)
    template_id: str = Field(index=True, max_length=100)
    version: int
    action: str = Field(max_length=20)  # published | retired | rolled_back
    author: str = Field(max_length=100)
    at: datetime = Field(default_factory=_now)
    published_at: datetime | None = Field(default=None, index=True)
