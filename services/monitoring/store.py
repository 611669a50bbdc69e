"""What the stream records for the monitors: one observation per document (written by extraction,
completed by validation), and a shadow model's reading beside the served one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from services.contracts import ValidatedDocument
from services.storage import crud
from services.storage.lifecycle import ModelOutput, Observation
from services.storage.models import Document, StageTransition


def observe(s: Session, *, document_id: str, features: dict[str, Any], role: str | None) -> None:
    """Insert once (a redelivered extraction finds it there)."""
    crud.insert_ignore(s, Observation, features | {"document_id": document_id, "model_role": role,
                                                   "reasons": [], "at": datetime.now(UTC)}, ["document_id"])


def shadow_output(s: Session, *, document_id: str, row: dict[str, Any]) -> None:
    crud.insert_ignore(s, ModelOutput, row | {"document_id": document_id, "at": datetime.now(UTC)},
                        ["document_id", "model_version"])


def outcome(s: Session, *, document_id: str, result: ValidatedDocument, outcome: str, reasons: list[str]) -> None:
    """Where the document ended, its latency since it was received and the CPU time its stages spent."""
    row = s.get(Observation, document_id)
    if row is None:
        return
    doc = s.get(Document, document_id)
    s.flush()
    cpu = s.exec(select(func.sum(StageTransition.cpu_ms)).where(StageTransition.document_id == document_id)).one()
    row.outcome, row.reasons = outcome, reasons
    row.confidence = {name: round(fv.confidence, 4) for name, fv in result.fields.items()}
    if doc is not None:
        created = doc.created_at if doc.created_at.tzinfo else doc.created_at.replace(tzinfo=UTC)
        row.latency_ms = round((datetime.now(UTC) - created).total_seconds() * 1000, 1)
    row.cpu_ms = round(cpu or 0.0, 2)
    s.add(row)
