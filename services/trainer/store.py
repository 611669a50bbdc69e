"""The trainer's records: signals consumed from topics (once per id), training jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.contracts import Label, MonitoringAlert
from services.storage import audit
from services.storage.lifecycle import Observation, TrainingJob, TriggerSignal
from services.storage.models import Document, ReviewRecord
from services.trainer.triggers import Decision, Signals

ACTIVE = ("queued", "running")

PARENT_ENV = "DOCFLOW_TRAINER_PID"  # the trainer's pid, given to the job it starts (which dies with it)


def _insert(s: Session, row: TriggerSignal) -> bool:
    """Insert once per (kind, id): a redelivered message is not counted twice."""
    try:
        with s.begin_nested():
            s.add(row)
        return True
    except IntegrityError:
        return False


def record_label(s: Session, label: Label) -> bool:
    """Counted per vendor as the monitors group documents (the drift alerts' scopes), else the queue's."""
    seen, doc = s.get(Observation, label.document_id), s.get(Document, label.document_id)
    vendor = seen.vendor if seen is not None and seen.vendor else doc.vendor if doc else None
    return _insert(s, TriggerSignal(kind="label", signal_id=label.label_id, document_id=label.document_id,
                                    vendor=vendor,
                                    detail={"field": label.field, "origin": label.origin}, at=label.created_at))


def record_alert(s: Session, alert: MonitoringAlert) -> bool:
    return _insert(s, TriggerSignal(kind="alert", signal_id=alert.alert_id, vendor=alert.scope.removeprefix("vendor:")
                                    if alert.scope.startswith("vendor:") else None,
                                    detail={"kind": alert.kind, "scope": alert.scope, "summary": alert.summary},
                                    at=alert.raised_at))


# A decision the review stage has not applied within this long is not waited for (a stage down
# must not hold retraining back for ever).
REVIEW_WAIT = timedelta(minutes=5)


def reviews_in_flight(s: Session, now: datetime) -> bool:
    """Operator decisions taken in the console (within REVIEW_WAIT) that the review stage has not
    applied yet: a dataset cut now would miss their corrections, which are labelled with the time
    they were taken but written when applied."""
    return s.exec(select(ReviewRecord.decision_id).where(
        col(ReviewRecord.applied_at).is_(None), ReviewRecord.created_at >= now - REVIEW_WAIT).limit(1)).first() \
        is not None


def pending(s: Session) -> Signals:
    rows = s.exec(select(TriggerSignal).where(col(TriggerSignal.job_id).is_(None))).all()
    labels = [r for r in rows if r.kind == "label"]
    per_vendor: dict[str, int] = {}
    for r in labels:
        if r.vendor:
            per_vendor[r.vendor] = per_vendor.get(r.vendor, 0) + 1
    last = s.exec(select(TrainingJob).order_by(col(TrainingJob.created_at).desc()).limit(1)).first()
    alerts = [{"alert_id": r.signal_id, "scope": r.detail.get("scope", "all"), "kind": r.detail.get("kind")}
              for r in rows if r.kind == "alert" and str(r.detail.get("kind", "")).startswith("drift")]
    return Signals(labels=len(labels), per_vendor=per_vendor, alerts=alerts,
                   last_job_at=last.created_at if last else None)


def create_job(s: Session, *, trigger: str, reason: str, evidence: dict, requested_by: str) -> TrainingJob:
    """A queued job; it takes every signal not yet taken (they are what it trains on)."""
    job = TrainingJob(trigger=trigger, reason=reason, evidence=evidence, requested_by=requested_by)
    s.add(job)
    s.flush()
    for row in s.exec(select(TriggerSignal).where(col(TriggerSignal.job_id).is_(None))).all():
        row.job_id = job.id
        s.add(row)
    audit.record(s, actor=requested_by, action="training.request", object_type="training_job", object_id=str(job.id),
                 after={"trigger": trigger, "evidence": evidence}, reason=reason)
    return job


def from_decision(s: Session, decision: Decision) -> TrainingJob:
    return create_job(s, trigger=decision.trigger, reason=decision.reason, evidence=decision.evidence,
                      requested_by="trainer")


def active(s: Session) -> TrainingJob | None:
    return s.exec(select(TrainingJob).where(col(TrainingJob.state).in_(ACTIVE))
                  .order_by(col(TrainingJob.id)).limit(1)).first()


def finish(s: Session, job_id: int, *, state: str, error: str | None = None, model_version: str | None = None) -> None:
    job = s.get(TrainingJob, job_id)
    if job is None:
        return
    job.state, job.finished_at, job.error = state, datetime.now(UTC), (error or None) and error[-4000:]
    job.model_version = model_version or job.model_version
    s.add(job)
    if state == "failed":  # its signals count again for the next job
        for row in s.exec(select(TriggerSignal).where(TriggerSignal.job_id == job_id)).all():
            row.job_id = None
            s.add(row)
    audit.record(s, actor="trainer", action=f"training.{state}", object_type="training_job", object_id=str(job_id),
                 after={"model_version": job.model_version}, reason=error)


def jobs(s: Session, limit: int = 50) -> list[TrainingJob]:
    return list(s.exec(select(TrainingJob).order_by(col(TrainingJob.id).desc()).limit(limit)).all())
