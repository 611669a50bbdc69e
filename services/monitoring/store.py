"""What the stream records for the monitors: one observation per document (written by extraction,
completed by validation), and a shadow model's reading beside the served one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Float, bindparam, func, update
from sqlmodel import Session, col, select

from services.contracts import ValidatedDocument
from services.storage.lifecycle import Observation
from services.storage.models import Document, StageTransition


def observation_row(*, document_id: str, features: dict[str, Any], role: str | None) -> dict[str, Any]:
    """A document's observation, written once (a redelivered extraction finds it there: ``OBSERVATION_KEY``)."""
    return features | {"document_id": document_id, "model_role": role, "reasons": [], "at": datetime.now(UTC)}


OBSERVATION_KEY = ["document_id"]


def shadow_row(*, document_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """A shadow model's reading of a document, once per model version (``SHADOW_KEY``)."""
    return row | {"document_id": document_id, "at": datetime.now(UTC)}


SHADOW_KEY = ["document_id", "model_version"]


@dataclass(frozen=True)
class Ended:
    """Where one document ended, for its observation (``outcomes``)."""

    document_id: str
    result: ValidatedDocument
    outcome: str
    reasons: list[str]


def outcomes(s: Session, ended: list[Ended]) -> None:
    """Where each document ended, its latency since it was received and the CPU time its stages
    spent, on its observation: three statements for them all (every document ends here)."""
    if not ended:
        return
    s.flush()
    connection = s.connection()
    ids = sorted({e.document_id for e in ended})
    created = dict(connection.execute(_CREATED, {"ids": ids}).all())
    cpu = dict(connection.execute(_CPU, {"ids": ids}).all())
    now = datetime.now(UTC)
    rows = []
    for e in ended:
        at = created.get(e.document_id)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        rows.append({
            "doc_id": e.document_id, "v_outcome": e.outcome, "v_reasons": e.reasons,
            "v_confidence": {name: round(fv.confidence, 4) for name, fv in e.result.fields.items()},
            "v_latency_ms": round((now - at).total_seconds() * 1000, 1) if at else None,
            "v_cpu_ms": round(cpu.get(e.document_id) or 0.0, 2)})
    connection.execute(_OUTCOME, rows)


_CREATED = select(Document.document_id, Document.created_at).where(
    col(Document.document_id).in_(bindparam("ids", expanding=True)))
_CPU = select(StageTransition.document_id, func.sum(StageTransition.cpu_ms)).where(
    col(StageTransition.document_id).in_(bindparam("ids", expanding=True))).group_by(col(StageTransition.document_id))
_OUTCOME = update(Observation).where(col(Observation.document_id) == bindparam("doc_id")).values(
    outcome=bindparam("v_outcome"), reasons=bindparam("v_reasons"), confidence=bindparam("v_confidence"),
    # no received time (a document row written without one): the latency stays as it was
    latency_ms=func.coalesce(bindparam("v_latency_ms", type_=Float), Observation.latency_ms),
    cpu_ms=bindparam("v_cpu_ms"))
