"""What the stream records for the monitors: one observation per document (written by extraction,
completed by validation), and a shadow model's reading beside the served one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Float, bindparam, func, update
from sqlmodel import Session, col, select

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
    """Where the document ended, its latency since it was received and the CPU time its stages spent
    (three statements built once: every document ends here)."""
    s.flush()
    connection = s.connection()
    created = connection.execute(_CREATED, {"document_id": document_id}).scalar()
    cpu = connection.execute(_CPU, {"document_id": document_id}).scalar()
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    connection.execute(_OUTCOME, {
        "doc_id": document_id, "v_outcome": outcome, "v_reasons": reasons,
        "v_confidence": {name: round(fv.confidence, 4) for name, fv in result.fields.items()},
        "v_latency_ms": round((datetime.now(UTC) - created).total_seconds() * 1000, 1) if created else None,
        "v_cpu_ms": round(cpu or 0.0, 2)})


_CREATED = select(Document.created_at).where(col(Document.document_id) == bindparam("document_id"))
_CPU = select(func.sum(StageTransition.cpu_ms)).where(col(StageTransition.document_id) == bindparam("document_id"))
_OUTCOME = update(Observation).where(col(Observation.document_id) == bindparam("doc_id")).values(
    outcome=bindparam("v_outcome"), reasons=bindparam("v_reasons"), confidence=bindparam("v_confidence"),
    # no received time (a document row written without one): the latency stays as it was
    latency_ms=func.coalesce(bindparam("v_latency_ms", type_=Float), Observation.latency_ms),
    cpu_ms=bindparam("v_cpu_ms"))
