"""rules/models.yaml: retraining triggers, the evaluation gate, rollout and drift settings."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Retrain(_Section):
    labels: int = Field(default=200, ge=1)
    per_vendor: int = Field(default=25, ge=1)
    drift_min_labels: int = Field(default=10, ge=1)
    schedule_hours: float = Field(default=168, ge=0)
    epochs: int = Field(default=4, ge=1)
    learning_rate: float = Field(default=3e-4, gt=0)
    human_weight: int = Field(default=3, ge=1)
    recent_share: float = Field(default=0.2, ge=0, lt=1)
    max_human_documents: int = Field(default=5000, ge=1)


class Gate(_Section):
    tolerance: float = Field(default=0.02, ge=0)
    min_f1: float = Field(default=0.0, ge=0, le=1)


class Rollout(_Section):
    shadow_share: float = Field(default=1.0, ge=0, le=1)
    canary_share: float = Field(default=0.2, gt=0, le=1)
    auto_promote: bool = False
    min_documents: int = Field(default=50, ge=1)
    max_correction_increase: float = Field(default=0.05, ge=0)
    alpha: float = Field(default=0.05, gt=0, lt=1)


class Drift(_Section):
    reference: int = Field(default=500, ge=5)
    current: int = Field(default=100, ge=5)
    vendor_reference: int = Field(default=20, ge=3)
    vendor_current: int = Field(default=10, ge=3)
    psi_alert: float = Field(default=0.25, gt=0)
    p_alert: float = Field(default=0.001, gt=0, lt=1)
    every_s: float = Field(default=60, gt=0)
    cooldown_minutes: float = Field(default=60, ge=0)


class ModelPolicy(_Section):
    retrain: Retrain = Field(default_factory=Retrain)
    gate: Gate = Field(default_factory=Gate)
    rollout: Rollout = Field(default_factory=Rollout)
    drift: Drift = Field(default_factory=Drift)

    @classmethod
    def load(cls, path: Path) -> ModelPolicy:
        if not path.exists():
            return cls()
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
