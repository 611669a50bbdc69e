"""The audit log: who did what, when, to which object, with the values before and after.

Append-only: this module only inserts, and the database refuses UPDATE and DELETE on the table
(triggers in migration 0003).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from services.storage.models import AuditEntry


def record(
    session: Session, *, actor: str, action: str, object_type: str, object_id: str,
    before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, reason: str | None = None,
) -> None:
    session.add(AuditEntry(actor=actor[:100], action=action[:40], object_type=object_type[:40],
                           object_id=object_id[:200], before=before, after=after,
                           reason=(reason or "")[:2000] or None))


def entries(
    session: Session, *, actor: str | None = None, action: str | None = None, object_id: str | None = None,
    since: datetime | None = None, limit: int = 200, before_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first; ``before_id`` pages back through older entries."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)  # type: ignore[union-attr]
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if since:
        query = query.where(AuditEntry.at >= since)
    if before_id:
        query = query.where(col(AuditEntry.id) < before_id)
    return list(session.exec(query).all())


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action,
            "object_type": entry.object_type, "object_id": entry.object_id, "before": entry.before,
            "after": entry.after, "reason": entry.reason}


COLUMNS = ("id", "at", "actor", "action", "object_type", "object_id", "before", "after", "reason")


def export(rows: list[AuditEntry], fmt: str) -> Iterator[str]:
    """CSV (values before/after as JSON text) or JSON Lines."""
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(as_dict(row), ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        d = as_dict(row)
        writer.writerow([json.dumps(d[c], ensure_ascii=False) if c in ("before", "after") and d[c] is not None
                         else d[c] for c in COLUMNS])
    yield buffer.getvalue()
