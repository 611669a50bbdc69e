"""The model registry in the database: register a candidate, move it through shadow and canary to
production, roll back. Each call works inside the caller's transaction and writes, with the
change, its ``model_events`` row (the rollout's revision and the models.events outbox) and its
audit entry, so the three never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, col, select

from services.contracts import ModelEvent
from services.models.registry import Status, Step, TransitionError, may, plan
from services.storage import audit
from services.storage.db import highest
from services.storage.lifecycle import DatasetVersion, ModelEventRecord, ModelRecord


@dataclass(frozen=True)
class Live:
    """What the workers serve, as of ``revision``: the production model, a canary with the share
    of documents it serves, a shadow with the share it reads beside production."""

    revision: int
    production: ModelRecord | None = None
    canary: ModelRecord | None = None
    shadow: ModelRecord | None = None


def latest(engine: Engine) -> int:
    """The registry's revision, read without a session."""
    return highest(engine, ModelEventRecord.seq)


def revision(s: Session) -> int:
    try:
        return int(s.exec(select(func.max(ModelEventRecord.seq))).one() or 0)
    except (OperationalError, ProgrammingError):  # not migrated yet: no registry
        return 0


def live(s: Session) -> Live:
    rows = {r.status: r for r in s.exec(select(ModelRecord).where(col(ModelRecord.status).in_(Status.LIVE))).all()}
    return Live(revision(s), rows.get(Status.PRODUCTION), rows.get(Status.CANARY), rows.get(Status.SHADOW))


def get(s: Session, version: str) -> ModelRecord | None:
    return s.get(ModelRecord, version)


def listing(s: Session) -> list[ModelRecord]:
    return list(s.exec(select(ModelRecord).order_by(col(ModelRecord.created_at).desc())).all())


def events(s: Session, version: str | None = None, limit: int = 200) -> list[ModelEventRecord]:
    query = select(ModelEventRecord).order_by(col(ModelEventRecord.seq).desc()).limit(limit)
    if version:
        query = query.where(ModelEventRecord.model_version == version)
    return list(s.exec(query).all())


def _event(s: Session, version: str, action: str, actor: str, details: dict[str, Any]) -> None:
    s.add(ModelEventRecord(model_version=version, action=action, actor=actor, details=details))


def register(s: Session, *, version: str, artifact: str, actor: str, dataset_version: str | None = None,
             parent: str | None = None, trigger: dict | None = None, job_id: int | None = None,
             metrics: dict | None = None, gate: dict | None = None, shadow_share: float = 1.0) -> ModelRecord:
    """A new candidate; then the gate's verdict moves it to shadow or rejects it (with no gate
    recorded it stays a candidate, for an approver to decide)."""
    if s.get(ModelRecord, version) is not None:
        raise TransitionError(f"{version} is registered already")
    row = ModelRecord(version=version, status=Status.CANDIDATE, artifact=artifact, dataset_version=dataset_version,
                      parent=parent, trigger=trigger or {}, job_id=job_id, metrics=metrics or {}, gate=gate or {})
    s.add(row)
    s.flush()
    details = {"dataset_version": dataset_version, "parent": parent, "trigger": trigger or {}}
    _event(s, version, "registered", actor, details)
    audit.record(s, actor=actor, action="model.register", object_type="model", object_id=version,
                 after={"status": Status.CANDIDATE} | details)
    if gate:
        verdict = {"gate": gate.get("reason"), "regressions": gate.get("regressions", {})}
        if gate.get("passed"):
            move(s, version, Status.SHADOW, actor=actor, approver=False, reason=gate.get("reason"),
                 share=shadow_share, details=verdict)
        else:
            move(s, version, Status.REJECTED, actor=actor, approver=False, reason=gate.get("reason"), details=verdict)
    return row


def adopt(s: Session, *, version: str, artifact: str, actor: str) -> ModelRecord:
    """Record the model the workers already serve (trained by ``docflow train`` before the registry
    knew it) as production: the start of the registry's history."""
    row = ModelRecord(version=version, status=Status.PRODUCTION, artifact=artifact, trigger={"kind": "adopted"})
    s.add(row)
    s.flush()
    for action in ("registered", "promoted"):
        _event(s, version, action, actor, {"adopted": True, "artifact": artifact})
    audit.record(s, actor=actor, action="model.adopt", object_type="model", object_id=version,
                 after={"status": Status.PRODUCTION, "artifact": artifact})
    return row


def move(s: Session, version: str, target: str, *, actor: str, approver: bool, auto_promote: bool = False,
         reason: str | None = None, share: float | None = None, details: dict | None = None,
         expected_revision: int | None = None) -> list[Step]:
    """Put ``version`` in ``target`` (and retire whoever held it). TransitionError when the
    registry refuses: a move it does not allow, an approval missing, a stale page."""
    if not may(target, approver=approver, auto_promote=auto_promote):
        raise TransitionError(f"moving a model to {target} needs the approver role")
    row = s.get(ModelRecord, version)
    if row is None:
        raise TransitionError(f"no model {version}")
    if expected_revision is not None and row.revision != expected_revision:
        raise TransitionError(f"{version} changed meanwhile (revision {row.revision}); reload")
    statuses = dict(s.exec(select(ModelRecord.version, ModelRecord.status)).all())
    steps = plan(statuses, version, target)
    now = datetime.now(UTC)
    for step in steps:
        model = s.get(ModelRecord, step.version)
        assert model is not None
        model.status, model.updated_at, model.revision = step.after, now, model.revision + 1
        if step.version == version and share is not None:
            model.share = share
        s.add(model)
        extra = (details or {}) | ({"share": share} if share is not None and step.version == version else {})
        if step.version != version:
            extra = {"replaced_by": version}
        _event(s, step.version, step.action, actor, {"from": step.before, "to": step.after} | extra)
        audit.record(s, actor=actor, action=f"model.{step.action}", object_type="model", object_id=step.version,
                     before={"status": step.before}, after={"status": step.after} | extra,
                     reason=reason if step.version == version else f"replaced by {version}")
    s.flush()
    return steps


def rollback(s: Session, *, actor: str, reason: str | None = None) -> tuple[str, str]:
    """Production back to the model that held it before: (rolled back, restored)."""
    current = s.exec(select(ModelRecord).where(ModelRecord.status == Status.PRODUCTION)).first()
    if current is None:
        raise TransitionError("no production model to roll back")
    promoted = s.exec(select(ModelEventRecord).where(ModelEventRecord.action == "promoted",
                                                     ModelEventRecord.model_version != current.version)
                      .order_by(col(ModelEventRecord.seq).desc())).all()
    previous = next((e.model_version for e in promoted
                     if (m := s.get(ModelRecord, e.model_version)) is not None and m.status == Status.RETIRED), None)
    if previous is None:
        raise TransitionError(f"{current.version} has no earlier production model to return to")
    move(s, current.version, Status.ROLLED_BACK, actor=actor, approver=True, reason=reason)
    move(s, previous, Status.PRODUCTION, actor=actor, approver=True, reason=reason or f"rollback of {current.version}")
    return current.version, previous


def lineage(s: Session, model_version: str) -> dict[str, Any] | None:
    """A model's record, its dataset version (with the labels in it) and its ancestors."""
    row = s.get(ModelRecord, model_version.removesuffix("+int8"))
    if row is None:
        return None
    dataset = s.get(DatasetVersion, row.dataset_version) if row.dataset_version else None
    chain: list[str] = []
    parent = row.parent
    while parent and len(chain) < 50:
        chain.append(parent)
        above = s.get(ModelRecord, parent)
        parent = above.parent if above else None
    return {"model": describe(row), "ancestors": chain,
            "dataset": None if dataset is None else dataset.model_dump(mode="json")}


def describe(row: ModelRecord) -> dict[str, Any]:
    return row.model_dump(mode="json")


def unpublished_events(s: Session) -> list[ModelEventRecord]:
    return list(s.exec(select(ModelEventRecord).where(col(ModelEventRecord.published_at).is_(None))
                       .order_by(col(ModelEventRecord.seq))).all())


def as_event(row: ModelEventRecord) -> ModelEvent:
    return ModelEvent(seq=row.seq, model_version=row.model_version, action=row.action,  # type: ignore[arg-type]
                      actor=row.actor, details=row.details, at=row.at)


def mark_events_published(s: Session, seqs: list[int]) -> None:
    now = datetime.now(UTC)
    for row in s.exec(select(ModelEventRecord).where(col(ModelEventRecord.seq).in_(seqs))).all():
        row.published_at = now
        s.add(row)
