"""Tables: documents, their stage transitions, extracted values and exceptions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


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
    TERMINAL = frozenset({ACCEPTED, EXCEPTION, DEADLETTER})


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
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    detail: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


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


class ExceptionRecord(SQLModel, table=True):
    __tablename__ = "exceptions"

    document_id: str = Field(primary_key=True, max_length=128)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", index=True, max_length=20)
    created_at: datetime = Field(default_factory=_now)


class InvoiceKey(SQLModel, table=True):
    """One accepted invoice per vendor and number: the duplicate-invoice check."""

    __tablename__ = "invoice_keys"

    vendor_key: str = Field(primary_key=True, max_length=200)
    invoice_number: str = Field(primary_key=True, max_length=200)
    document_id: str = Field(index=True, max_length=128)
    at: datetime = Field(default_factory=_now)
