"""Tables of the model lifecycle: dataset versions, the model registry and its event log, training
jobs and the signals that trigger them, what each document looked like and which model read it
(observations, shadow outputs), drift checks and the alerts they raised."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.storage.models import _now


class DatasetVersion(SQLModel, table=True):
    """A frozen training set: the synthetic base (a folder, by content hash) plus every human label
    up to ``cutoff``. ``version`` is derived from ``sha256``, the hash of everything in it, so the
    same labels always give the same version. ``manifest``: one entry per human document (its
    label source, the label revision or decisions, the PDF's hash); ``recent``: the newest
    corrected documents, kept out of training to score candidates on."""

    __tablename__ = "datasets"

    version: str = Field(primary_key=True, max_length=40)
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=_now)
    cutoff: datetime
    base: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    documents: int = 0
    labels: int = 0
    manifest: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recent: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    folder: str = Field(max_length=500)


class ModelRecord(SQLModel, table=True):
    """A model version in the registry. ``status``: candidate, rejected (by the gate), shadow,
    canary, production, retired, rolled_back. ``share``: of documents a shadow reads or a canary
    serves. ``metrics``: per header field on the frozen evaluation set and on recent corrections,
    for this model and the production model it was compared with; ``gate``: the verdict."""

    __tablename__ = "models"

    version: str = Field(primary_key=True, max_length=100)
    status: str = Field(index=True, max_length=20)
    artifact: str = Field(max_length=500)
    dataset_version: str | None = Field(default=None, max_length=40)
    parent: str | None = Field(default=None, max_length=100)
    trigger: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    job_id: int | None = None
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    gate: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    share: float = 0.0
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)
    revision: int = 1


class ModelEventRecord(SQLModel, table=True):
    """Every registry step in order. ``seq`` is the rollout's revision (a worker reloads when it
    grows); ``published_at`` is the outbox mark for models.events."""

    __tablename__ = "model_events"

    seq: int | None = Field(default=None, primary_key=True)
    model_version: str = Field(index=True, max_length=100)
    action: str = Field(max_length=20)
    actor: str = Field(max_length=100)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=_now)
    published_at: datetime | None = Field(default=None, index=True)


class TrainingJob(SQLModel, table=True):
    """One retraining: why (trigger and evidence), its state (queued, running, done, failed) and
    what it made."""

    __tablename__ = "training_jobs"

    id: int | None = Field(default=None, primary_key=True)
    trigger: str = Field(max_length=20)  # labels | vendor_labels | drift | schedule | manual
    reason: str = Field(max_length=1000)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="queued", index=True, max_length=20)
    requested_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    dataset_version: str | None = Field(default=None, max_length=40)
    model_version: str | None = Field(default=None, max_length=100)
    error: str | None = Field(default=None, max_length=4000)


class TriggerSignal(SQLModel, table=True):
    """A label or an alert as the trainer consumed it from its topic (once per id): what the
    retraining triggers count. ``job_id`` is set when a training job took it into account."""

    __tablename__ = "trigger_signals"
    __table_args__ = (UniqueConstraint("kind", "signal_id", name="uq_trigger_signals_kind_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # label | alert
    signal_id: str = Field(max_length=200)
    document_id: str | None = Field(default=None, max_length=128)
    vendor: str | None = Field(default=None, max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=_now, index=True)
    job_id: int | None = Field(default=None, index=True)


class Observation(SQLModel, table=True):
    """One document as the monitors see it: input features (vendor, template, pages, words per
    page, text layer, OCR, language), which model read it and in which role, each field's
    confidence, where it ended, its latency and the CPU time the worker spent on it (its stages' and
    its share of the edge's)."""

    __tablename__ = "observations"

    document_id: str = Field(primary_key=True, max_length=128)
    at: datetime = Field(default_factory=_now, index=True)
    vendor: str | None = Field(default=None, index=True, max_length=200)
    template_id: str | None = Field(default=None, max_length=100)
    detection: str = Field(default="unknown", max_length=20)
    pages: int = 0
    words_per_page: float = 0.0
    text_layer: str = Field(default="none", max_length=10)
    ocr: bool = False
    language: str = Field(default="und", max_length=5)
    model_version: str | None = Field(default=None, index=True, max_length=100)
    model_role: str | None = Field(default=None, max_length=20)  # production | canary
    confidence: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: str | None = Field(default=None, max_length=20)  # accepted | exception | deadletter
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    latency_ms: float | None = None
    cpu_ms: float | None = None


class ModelOutput(SQLModel, table=True):
    """What a shadow model read on a live document, beside what the serving model read: per
    field value and confidence, and whether validation would have accepted it. Never used."""

    __tablename__ = "model_outputs"
    __table_args__ = (UniqueConstraint("document_id", "model_version", name="uq_model_outputs_doc_model"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(index=True, max_length=128)
    model_version: str = Field(index=True, max_length=100)
    served_by: str | None = Field(default=None, max_length=100)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    served: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: str = Field(max_length=20)  # accepted | exception: what validation says of the shadow's reading
    served_outcome: str = Field(max_length=20)
    at: datetime = Field(default_factory=_now, index=True)


class DriftCheck(SQLModel, table=True):
    """One test of one feature in one scope (all documents, or one vendor): current window against
    the reference window, the statistic, its p-value where the test has one, and the verdict."""

    __tablename__ = "drift_checks"

    id: int | None = Field(default=None, primary_key=True)
    run: int = Field(index=True)
    at: datetime = Field(default_factory=_now, index=True)
    scope: str = Field(max_length=200)
    feature: str = Field(max_length=60)
    test: str = Field(max_length=10)  # psi | chi2 | ks
    statistic: float
    p_value: float | None = None
    reference_n: int
    current_n: int
    drift: bool
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AlertRecord(SQLModel, table=True):
    """An alert raised by the monitor; ``published_at`` is the outbox mark for monitoring.alerts."""

    __tablename__ = "alerts"

    alert_id: str = Field(primary_key=True, max_length=100)
    kind: str = Field(index=True, max_length=40)
    severity: str = Field(max_length=10)
    scope: str = Field(max_length=200)
    summary: str = Field(max_length=1000)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    raised_at: datetime = Field(default_factory=_now, index=True)
    published_at: datetime | None = Field(default=None, index=True)
