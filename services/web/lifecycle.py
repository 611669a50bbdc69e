"""The model lifecycle over HTTP: the registry (list, lineage, promote, roll back, retrain), dataset
versions, a document's lineage, and the monitoring summary (drift table, alerts, time series)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from services.access.roles import Permission
from services.models import store as registry
from services.models.registry import TransitionError
from services.models.rollout import served_names
from services.monitoring import alerts as alerting
from services.monitoring.series import buckets, summarise
from services.monitoring.service import SCAN, corrected_ids
from services.storage.lifecycle import DatasetVersion, DriftCheck, ModelOutput, Observation
from services.storage.models import Extraction
from services.trainer import store as trainer
from services.web.auth import Promote, Read, Train

router = APIRouter(prefix="/api")


def db(request: Request) -> Session:
    return Session(request.app.state.engine, expire_on_commit=False)


class Move(BaseModel):
    to: Literal["shadow", "canary", "production", "retired"]
    share: float | None = Field(default=None, ge=0, le=1)
    reason: str | None = Field(default=None, max_length=2000)
    revision: int | None = None


class Why(BaseModel):
    reason: str = Field(default="manual request", min_length=1, max_length=2000)


def shadow_summary(s: Session, version: str) -> dict[str, Any]:
    """A shadow's (or any compared model's) outputs beside the served ones: per-field agreement and
    how many documents each would have accepted."""
    rows = s.exec(select(ModelOutput).where(col(ModelOutput.model_version).in_(served_names(version)))).all()
    agree: dict[str, list[int]] = {}
    for row in rows:
        for name, same in row.fields.get("_agreement", {}).items():
            agree.setdefault(name, [0, 0])
            agree[name][0] += bool(same)
            agree[name][1] += 1
    return {"documents": len(rows), "would_accept": sum(r.outcome == "accepted" for r in rows),
            "served_accepted": sum(r.served_outcome == "accepted" for r in rows),
            "agreement": {k: round(a / n, 4) for k, (a, n) in sorted(agree.items()) if n}}


def overview(s: Session) -> dict[str, Any]:
    live = registry.live(s)
    models = []
    for row in registry.listing(s):
        entry = registry.describe(row)
        if row.status == "shadow":
            entry["compared"] = shadow_summary(s, row.version)
        models.append(entry)
    return {"revision": live.revision, "production": live.production and live.production.version,
            "canary": live.canary and live.canary.version, "shadow": live.shadow and live.shadow.version,
            "models": models, "jobs": [j.model_dump(mode="json") for j in trainer.jobs(s, 20)]}


def monitoring(s: Session, scope: str | None = None, *, detail: bool = True) -> dict[str, Any]:
    """The newest observations summarised, the latest drift checks; with ``detail`` (the page, the
    API; not a Prometheus scrape) also the time series, the alerts and the vendors."""
    rows = list(reversed(s.exec(select(Observation).where(col(Observation.outcome).is_not(None))
                                .order_by(col(Observation.at).desc()).limit(SCAN)).all()))
    corrected = corrected_ids(s, [r.document_id for r in rows])
    run = s.exec(select(func.max(DriftCheck.run))).one()
    query = select(DriftCheck).where(DriftCheck.run == run)
    if scope:
        query = query.where(DriftCheck.scope == scope)
    order = (col(DriftCheck.drift).desc(), col(DriftCheck.scope), col(DriftCheck.feature))
    checks = s.exec(query.order_by(*order)).all() if run else []
    summary = {"documents": len(rows), "overall": summarise(rows, corrected), "run": run,
               "checks": [c.model_dump(mode="json") for c in checks]}
    if not detail:
        return summary
    vendors: dict[str, list[Observation]] = {}
    for row in rows:
        vendors.setdefault(row.vendor or "unknown", []).append(row)
    return summary | {
        "series": buckets(rows, corrected), "alerts": [a.model_dump(mode="json") for a in alerting.recent(s, 30)],
        "vendors": {v: summarise(r[-200:], corrected)
                    for v, r in sorted(vendors.items(), key=lambda kv: -len(kv[1]))[:20]},
    }


@router.get("/models")
def list_models(request: Request, who: Read) -> dict:
    with db(request) as s:
        return overview(s)


@router.get("/models/{version}")
def show_model(request: Request, version: str, who: Read) -> dict:
    with db(request) as s:
        found = registry.lineage(s, version)
        if found is None:
            raise HTTPException(404, f"no model {version}")
        found["events"] = [e.model_dump(mode="json") for e in registry.events(s, version)]
        found["compared"] = shadow_summary(s, version)
        return found


@router.post("/models/{version}/transition")
def move_model(request: Request, version: str, body: Move, who: Promote) -> dict:
    policy = request.app.state.model_policy.rollout
    share = body.share
    if share is None and body.to in ("shadow", "canary"):
        share = policy.shadow_share if body.to == "shadow" else policy.canary_share
    with db(request) as s:
        try:
            steps = registry.move(s, version, body.to, actor=who.username,
                                  approver=who.can(Permission.PROMOTE_MODELS), reason=body.reason, share=share,
                                  expected_revision=body.revision)
        except TransitionError as exc:
            raise HTTPException(409, str(exc)) from None
        s.commit()
    _wake(request)
    return {"steps": [step.__dict__ for step in steps]}


@router.post("/models/rollback")
def rollback_model(request: Request, body: Why, who: Promote) -> dict:
    with db(request) as s:
        try:
            rolled, restored = registry.rollback(s, actor=who.username, reason=body.reason)
        except TransitionError as exc:
            raise HTTPException(409, str(exc)) from None
        s.commit()
    _wake(request)
    return {"rolled_back": rolled, "production": restored}


@router.post("/models/retrain")
def retrain(request: Request, body: Why, who: Train) -> dict:
    with db(request) as s:
        job = trainer.create_job(s, trigger="manual", reason=body.reason, evidence={}, requested_by=who.username)
        s.commit()
        return {"job": job.model_dump(mode="json")}


@router.get("/datasets")
def list_datasets(request: Request, who: Read) -> list[dict]:
    with db(request) as s:
        rows = s.exec(select(DatasetVersion).order_by(col(DatasetVersion.created_at).desc()).limit(100)).all()
        return [r.model_dump(mode="json", exclude={"manifest"}) for r in rows]


@router.get("/datasets/{version}")
def show_dataset(request: Request, version: str, who: Read) -> dict:
    with db(request) as s:
        row = s.get(DatasetVersion, version)
        if row is None:
            raise HTTPException(404, f"no dataset {version}")
        return row.model_dump(mode="json")


@router.get("/documents/{document_id}/lineage")
def document_lineage(request: Request, document_id: str, who: Read) -> dict:
    """Each extracted value's source; for a model's, the model's record, its dataset version and
    the labels in it."""
    with db(request) as s:
        rows = s.exec(select(Extraction).where(Extraction.document_id == document_id)).all()
        if not rows:
            raise HTTPException(404, f"no extraction of {document_id}")
        observation = s.get(Observation, document_id)
        models: dict[str, Any] = {}
        fields = {}
        for row in rows:
            versions = [part.removeprefix("model:") for part in row.source.split("+") if part.startswith("model:")]
            for version in versions:
                if version not in models:
                    models[version] = registry.lineage(s, version)
            fields[row.field] = {"value": row.value, "confidence": row.confidence, "source": row.source,
                                 "models": [v.removesuffix("+int8") for v in versions]}
        return {"document_id": document_id, "fields": fields, "models": models,
                "served_as": observation.model_role if observation else None}


@router.get("/monitoring")
def monitoring_summary(request: Request, who: Read, scope: str | None = None) -> dict:
    with db(request) as s:
        return monitoring(s, scope)


def _wake(request: Request) -> None:
    if request.app.state.outbox is not None:
        request.app.state.outbox.wake.set()
