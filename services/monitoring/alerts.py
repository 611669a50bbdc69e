"""The monitor's alerts: read for the console, and the outbox rows the relay sends to monitoring.alerts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from services.contracts import MonitoringAlert
from services.storage.lifecycle import AlertRecord


def recent(s: Session, limit: int = 50) -> list[AlertRecord]:
    return list(s.exec(select(AlertRecord).order_by(col(AlertRecord.raised_at).desc()).limit(limit)).all())


def unpublished(s: Session) -> list[AlertRecord]:
    return list(s.exec(select(AlertRecord).where(col(AlertRecord.published_at).is_(None))
                       .order_by(col(AlertRecord.raised_at))).all())


def as_alert(row: AlertRecord) -> MonitoringAlert:
    return MonitoringAlert(alert_id=row.alert_id, kind=row.kind, severity=row.severity,  # type: ignore[arg-type]
                           scope=row.scope, summary=row.summary, evidence=row.evidence, raised_at=row.raised_at)


def mark_published(s: Session, ids: list[str]) -> None:
    now = datetime.now(UTC)
    for row in s.exec(select(AlertRecord).where(col(AlertRecord.alert_id).in_(ids))).all():
        row.published_at = now
        s.add(row)
