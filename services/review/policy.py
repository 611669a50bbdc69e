"""The queue policy (rules/queue.yaml): a priority per reason and an SLA per priority."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from services.contracts import Reason


class QueuePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_priority: int = Field(default=2, ge=1, le=3)
    priorities: dict[Reason, int] = Field(default_factory=dict)
    sla_hours: dict[int, float] = Field(default_factory=lambda: {1: 4.0, 2: 24.0, 3: 72.0})

    @classmethod
    def load(cls, path: Path) -> QueuePolicy:
        if not path.exists():
            return cls()
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    def priority(self, reasons: list[str]) -> int:
        """The most urgent priority among the reasons (1 is the most urgent)."""
        by_code = {str(reason): level for reason, level in self.priorities.items()}
        known = [by_code[str(r)] for r in reasons if str(r) in by_code]
        return min(known, default=self.default_priority)

    def due(self, priority: int, since: datetime) -> datetime:
        return since + timedelta(hours=self.sla_hours.get(priority, self.sla_hours.get(self.default_priority, 24)))
