"""When to retrain, as a pure function of what came in since the last training job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.models.policy import Retrain


@dataclass(frozen=True)
class Signals:
    """Labels and alerts no training job has taken into account yet."""

    labels: int = 0
    per_vendor: dict[str, int] = field(default_factory=dict)
    alerts: list[dict] = field(default_factory=list)  # drift alerts: {alert_id, scope, kind, at}
    last_job_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    trigger: str  # labels | vendor_labels | drift | schedule
    reason: str
    evidence: dict


def decide(signals: Signals, policy: Retrain, now: datetime) -> Decision | None:
    """The first trigger that holds, in order: label count, one vendor's label count, a drift
    alert with enough labels after it, the schedule (only when there is something new)."""
    evidence = {"labels": signals.labels, "per_vendor": dict(signals.per_vendor),
                "alerts": [a.get("alert_id") for a in signals.alerts]}
    if signals.labels >= policy.labels:
        return Decision("labels", f"{signals.labels} new labels since the last training (threshold {policy.labels})",
                        evidence)
    for vendor, count in sorted(signals.per_vendor.items(), key=lambda kv: (-kv[1], kv[0])):
        if count >= policy.per_vendor:
            return Decision("vendor_labels",
                            f"{count} new labels for vendor {vendor} (threshold {policy.per_vendor} per vendor)",
                            evidence | {"vendor": vendor})
    if signals.alerts and signals.labels >= policy.drift_min_labels:
        scopes = sorted({a.get("scope", "all") for a in signals.alerts})
        return Decision("drift", f"drift alert ({', '.join(scopes)}) and {signals.labels} new labels since "
                                 f"(at least {policy.drift_min_labels})", evidence)
    if (policy.schedule_hours and signals.labels and signals.last_job_at is not None
            and now - signals.last_job_at >= timedelta(hours=policy.schedule_hours)):
        return Decision("schedule", f"{policy.schedule_hours:g} h since the last training, {signals.labels} new labels",
                        evidence)
    return None
