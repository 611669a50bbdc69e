"""`docflow monitor`: every few seconds, the drift checks over the newest observations, alerts for
what drifted (monitoring.alerts, through the outbox), and the rollout's health: a canary corrected
more often than production rolls back by itself; with auto-promote, a good shadow becomes the
canary and a good canary production."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from services.log_setup import get_logger
from services.models import store as registry
from services.models.registry import Status
from services.models.rollout import served_names
from services.monitoring.monitor import Arm, alerts, judge_canary, judge_shadow, run_checks
from services.monitoring.privacy import public_scope
from services.runtime import Runtime
from services.storage.db import session_scope
from services.storage.lifecycle import AlertRecord, DriftCheck, ModelOutput, ModelRecord, Observation
from services.storage.models import Document, LabelRecord

SCAN = 5000  # the newest observations a check looks at
KEEP_RUNS = 1440  # drift checks kept (a day at one look a minute); alerts are kept for good


def corrected_ids(s: Session, document_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(document_ids), 500):
        chunk = document_ids[start:start + 500]
        found |= set(s.exec(select(LabelRecord.document_id).where(
            LabelRecord.origin == "operator", col(LabelRecord.document_id).in_(chunk))).all())
    return found


def arm(s: Session, model: ModelRecord, since: datetime, role: str) -> Arm:
    """The documents ``model`` served in ``role`` since ``since``, once settled."""
    rows = s.exec(select(Observation, col(Document.state))
                  .join(Document, col(Document.document_id) == col(Observation.document_id))
                  .where(col(Observation.model_version).in_(served_names(model.version)),
                         Observation.model_role == role, Observation.at >= since,
                         col(Observation.outcome).is_not(None))).all()
    settled = [o for o, state in rows if o.outcome == "accepted" or state in ("accepted", "rejected")]
    fixed = corrected_ids(s, [o.document_id for o in settled])
    return Arm(len(settled), len(fixed), sum(o.outcome == "exception" for o in settled))


class Monitor:
    def __init__(self, rt: Runtime):
        self.rt, self.log = rt, get_logger(stage="monitor")
        self.seen: datetime | None = None  # the newest observation the last look saw

    def tick(self) -> dict:
        """One look: drift checks stored, alerts raised, the rollout judged. Returns what it did."""
        policy = self.rt.model_policy
        with session_scope(self.rt.engine) as s:
            rows = list(reversed(s.exec(select(Observation).where(col(Observation.outcome).is_not(None))
                                        .order_by(col(Observation.at).desc()).limit(SCAN)).all()))
            checks = run_checks(rows, corrected_ids(s, [r.document_id for r in rows]), policy.drift, self.seen)
            self.seen = rows[-1].at if rows else self.seen
            run = int(s.exec(select(func.max(DriftCheck.run))).one() or 0) + 1
            s.exec(delete(DriftCheck).where(col(DriftCheck.run) <= run - KEEP_RUNS))  # type: ignore[call-overload]
            now = datetime.now(UTC)
            for c in checks:
                s.add(DriftCheck(run=run, at=now, scope=c.scope, feature=c.feature, test=c.test, statistic=c.statistic,
                                 p_value=c.p_value, reference_n=c.reference_n, current_n=c.current_n, drift=c.drift,
                                 evidence=c.evidence))
            raised = [a for a in alerts(checks) if self._raise(s, a, run, now, policy.drift.cooldown_minutes)]
            actions = self._rollout(s, now)
        for alert in raised:  # no vendor's name in a log: its scope by pseudonym, the summary behind login
            self.log.warning("drift alert", scope=public_scope(alert["scope"]), kind=alert["kind"],
                             severity=alert["severity"])
        return {"run": run, "checks": len(checks), "drifted": sum(c.drift for c in checks),
                "alerts": [public_scope(a["scope"]) for a in raised], "rollout": actions}

    def _raise(self, s: Session, alert: dict, run: int, now: datetime, cooldown_minutes: float) -> bool:
        recent = s.exec(select(AlertRecord).where(
            AlertRecord.scope == alert["scope"], AlertRecord.kind == alert["kind"],
            AlertRecord.raised_at >= now - timedelta(minutes=cooldown_minutes))).first()
        if recent is not None:
            return False
        s.add(AlertRecord(alert_id=f"{alert['kind']}:{alert['scope']}:{run}"[:100], kind=alert["kind"],
                          severity=alert["severity"], scope=alert["scope"], summary=alert["summary"][:1000],
                          evidence=alert["evidence"] | {"run": run}, raised_at=now))
        return True

    def _rollout(self, s: Session, now: datetime) -> list[str]:
        policy = self.rt.model_policy.rollout
        live = registry.live(s)
        actions = []
        if live.canary is not None and live.production is not None:
            since = live.canary.updated_at
            verdict, evidence = judge_canary(arm(s, live.canary, since, "canary"),
                                             arm(s, live.production, since, "production"), policy)
            if verdict == "rollback":
                reason = (f"canary corrected {evidence['canary']['correction_rate']:.0%} of its documents against "
                          f"production's {evidence['production']['correction_rate']:.0%} (p={evidence['p_value']:.1e})")
                registry.move(s, live.canary.version, Status.ROLLED_BACK, actor="monitor", approver=False,
                              reason=reason, details={"evidence": evidence})
                s.add(AlertRecord(alert_id=f"canary_rollback:{live.canary.version}"[:100], kind="canary_rollback",
                                  severity="critical", scope=f"model:{live.canary.version}", summary=reason,
                                  evidence=evidence, raised_at=now))
                actions.append(f"rolled back {live.canary.version}")
                self.log.warning("canary rolled back", version=live.canary.version, reason=reason)
            elif verdict == "promote":
                registry.move(s, live.canary.version, Status.PRODUCTION, actor="monitor", approver=False,
                              auto_promote=True, reason="auto-promote: canary no worse than production",
                              details={"evidence": evidence})
                actions.append(f"promoted {live.canary.version}")
        if live.shadow is not None and live.canary is None:
            outputs = s.exec(select(ModelOutput).where(
                col(ModelOutput.model_version).in_(served_names(live.shadow.version)))).all()
            verdict, evidence = judge_shadow(len(outputs), sum(o.outcome == "accepted" for o in outputs),
                                             sum(o.served_outcome == "accepted" for o in outputs), policy)
            if verdict == "canary":
                registry.move(s, live.shadow.version, Status.CANARY, actor="monitor", approver=False, auto_promote=True,
                              share=policy.canary_share, reason="auto-promote: shadow would accept as many documents",
                              details={"evidence": evidence})
                actions.append(f"canary {live.shadow.version}")
        return actions

    def serve(self) -> None:
        every = self.rt.model_policy.drift.every_s
        self.log.info("monitor running", every_s=every)
        while True:
            started = time.monotonic()
            try:
                done = self.tick()
                if done["alerts"] or done["rollout"]:
                    self.log.info("monitor tick", **done)
            except Exception:  # a database hiccup: log it, look again next time
                self.log.exception("monitor tick failed")
            time.sleep(max(0.5, every - (time.monotonic() - started)))
