"""The exception queue in the database: listing, every operator action with its audit entry,
the decision outbox, and applying a decision once.

Every action is a conditional UPDATE on the item's ``revision``: two people acting on the same
item at once cannot both succeed, and a page opened before someone else's change cannot
overwrite it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from services.access.roles import Permission, permissions
from services.access.users import Principal
from services.contracts import AcceptedDocument, FieldCorrection, Label, Reason, ReviewDecision
from services.review.logic import changes
from services.review.policy import QueuePolicy
from services.review.queue import Item, QueueError, step
from services.storage import audit, crud
from services.storage.models import (
    Document,
    DocumentState,
    ExceptionRecord,
    Extraction,
    QueueStatus,
    ReviewRecord,
    User,
)
from services.validation.logic import invoice_key

AGE_BUCKETS = ((timedelta(hours=1), "<1h"), (timedelta(hours=4), "1-4h"), (timedelta(hours=24), "4-24h"))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def age_bucket(created: datetime, now: datetime) -> str:
    age = now - (_aware(created) or now)
    return next((name for limit, name in AGE_BUCKETS if age < limit), ">24h")


def item_view(item: ExceptionRecord, now: datetime) -> dict[str, Any]:
    due = _aware(item.due_at)
    return {
        "document_id": item.document_id, "status": item.status, "reasons": item.reasons,
        "priority": item.priority, "vendor": item.vendor, "assignee": item.assignee,
        "created_at": item.created_at.isoformat(), "due_at": due.isoformat() if due else None,
        "overdue": bool(due and due < now and item.status in QueueStatus.ACTIVE),
        "age": age_bucket(item.created_at, now), "revision": item.revision,
    }


def listing(
    session: Session, *, status: str | None = "active", reason: str | None = None, vendor: str | None = None,
    assignee: str | None = None, age: str | None = None, overdue: bool = False, limit: int = 100, offset: int = 0,
) -> dict[str, Any]:
    """Queue items (most urgent, then oldest first) and counts by status, reason, vendor and age
    over the items the status filter selects."""
    now = _now()
    query = select(ExceptionRecord)
    if status == "active":
        query = query.where(ExceptionRecord.status.in_(QueueStatus.ACTIVE))  # type: ignore[attr-defined]
    elif status:
        query = query.where(ExceptionRecord.status == status)
    if vendor:
        query = query.where(ExceptionRecord.vendor == vendor)
    if assignee:
        query = query.where(ExceptionRecord.assignee == assignee)
    rows = session.exec(query.order_by(col(ExceptionRecord.priority), col(ExceptionRecord.created_at))).all()
    counts: dict[str, dict[str, int]] = {"reason": {}, "vendor": {}, "age": {}, "status": {}}
    selected, overdue_count = [], 0
    for row in rows:  # reasons are a JSON list: filtered and counted here, not in SQL
        view = item_view(row, now)
        overdue_count += view["overdue"]
        for r in row.reasons:
            counts["reason"][r] = counts["reason"].get(r, 0) + 1
        counts["vendor"][row.vendor or "-"] = counts["vendor"].get(row.vendor or "-", 0) + 1
        counts["age"][view["age"]] = counts["age"].get(view["age"], 0) + 1
        if (reason and reason not in row.reasons) or (age and view["age"] != age) or (overdue and not view["overdue"]):
            continue
        selected.append(view)
    totals = session.exec(select(ExceptionRecord.status, func.count()).group_by(ExceptionRecord.status)).all()
    counts["status"] = {s: n for s, n in totals}
    return {"total": len(selected), "items": selected[offset:offset + limit], "counts": counts,
            "overdue": overdue_count}


def act(
    session: Session, *, document_id: str, action: str, actor: Principal, revision: int | None = None,
    target: str | None = None, corrections: dict[str, FieldCorrection] | None = None, comment: str | None = None,
) -> dict[str, Any]:
    """One operator action on one item; returns the item as it now stands (and the decision id
    of an approve or reject, which the outbox publishes to documents.reviewed)."""
    item = session.get(ExceptionRecord, document_id)
    if item is None:
        raise QueueError(404, "no such queue item")
    if revision is not None and revision != item.revision:
        raise QueueError(409, "the item changed since you opened it; reload")
    if action == "reassign":
        _check_assignee(session, target)
    after = step(Item(item.status, item.assignee), action, actor, target)
    before_state: dict[str, Any] = {"status": item.status, "assignee": item.assignee}
    after_state: dict[str, Any] = {"status": after.status, "assignee": after.assignee}
    decision_id = None
    if action in ("approve", "reject"):
        decision_id, before_fields, after_fields = _decide(session, item, action, actor, corrections or {}, comment)
        before_state["fields"], after_state["fields"] = before_fields, after_fields
    written = session.exec(  # type: ignore[call-overload]
        update(ExceptionRecord)
        .where(col(ExceptionRecord.document_id) == document_id, col(ExceptionRecord.revision) == item.revision)
        .values(status=after.status, assignee=after.assignee, revision=item.revision + 1, updated_at=_now())
    ).rowcount
    if written != 1:
        raise QueueError(409, "someone else acted on the item at the same moment; reload")
    audit.record(session, actor=actor.username, action=f"queue.{action}", object_type="document",
                 object_id=document_id, before=before_state, after=after_state, reason=comment)
    session.flush()
    session.refresh(item)
    return item_view(item, _now()) | {"decision_id": decision_id}


def _check_assignee(session: Session, username: str | None) -> None:
    user = session.exec(select(User).where(User.username == (username or ""))).first()
    if user is None or not user.active or Permission.WORK_QUEUE not in permissions(user.roles):
        raise QueueError(422, f"{username!r} is not a user who works the queue")


def _decide(
    session: Session, item: ExceptionRecord, action: str, actor: Principal,
    corrections: dict[str, FieldCorrection], comment: str | None,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    doc = session.get(Document, item.document_id)
    validated = doc.validated() if doc is not None else None
    if validated is None:
        raise QueueError(409, "the document has no extraction to decide on")
    changed = changes(validated, corrections) if action == "approve" else {}
    decision_id = uuid.uuid4().hex
    session.add(ReviewRecord(
        decision_id=decision_id, document_id=item.document_id, decision=action,
        fields={f: c.model_dump(mode="json") for f, c in changed.items()}, reviewer=actor.username,
        comment=comment))
    before = {f: (validated.fields[f].value if f in validated.fields else None) for f in changed}
    return decision_id, before, {f: c.value for f, c in changed.items()}


def reopen(session: Session, *, document_id: str, actor: Principal, comment: str | None,
           policy: QueuePolicy) -> dict[str, Any]:
    """An accepted document someone found wrong goes back to the queue, at the top."""
    if not actor.can(Permission.WORK_QUEUE):
        raise QueueError(403, "your role cannot reopen documents")
    if not (comment or "").strip():
        raise QueueError(422, "say what was wrong")
    doc = session.get(Document, document_id)
    if doc is None:
        raise QueueError(404, "no such document")
    if doc.state != DocumentState.ACCEPTED or doc.result is None:
        raise QueueError(409, f"only an accepted document can be reopened; this one is {doc.state}")
    written = session.exec(  # type: ignore[call-overload]
        update(Document).where(col(Document.document_id) == document_id, col(Document.state) == DocumentState.ACCEPTED)
        .values(state=DocumentState.EXCEPTION, reasons=[Reason.REOPENED], updated_at=_now())
    ).rowcount
    if written != 1:
        raise QueueError(409, "the document changed at the same moment; reload")
    now = _now()
    priority = policy.priority([Reason.REOPENED])
    item = session.get(ExceptionRecord, document_id)
    if item is None:
        item = ExceptionRecord(document_id=document_id, vendor=doc.vendor)
        session.add(item)
    item.reasons, item.status, item.assignee = [Reason.REOPENED], QueueStatus.OPEN, None
    item.priority, item.due_at, item.created_at, item.updated_at = priority, policy.due(priority, now), now, now
    item.revision += 1
    audit.record(session, actor=actor.username, action="document.reopen", object_type="document",
                 object_id=document_id, before={"state": DocumentState.ACCEPTED},
                 after={"state": DocumentState.EXCEPTION, "queue": QueueStatus.OPEN}, reason=comment)
    session.flush()
    return item_view(item, now)


# ---- the outbox: decisions waiting to be published to documents.reviewed
def unpublished(session: Session, limit: int = 100) -> list[ReviewDecision]:
    rows = session.exec(select(ReviewRecord).where(ReviewRecord.published_at.is_(None))  # type: ignore[union-attr]
                        .order_by(col(ReviewRecord.created_at)).limit(limit)).all()
    return [to_message(r) for r in rows]


def to_message(row: ReviewRecord) -> ReviewDecision:
    return ReviewDecision(
        decision_id=row.decision_id, document_id=row.document_id, decision=row.decision,  # type: ignore[arg-type]
        fields={f: FieldCorrection.model_validate(c) for f, c in row.fields.items()}, reviewer=row.reviewer,
        comment=row.comment, decided_at=_aware(row.created_at) or datetime.now(UTC))


def mark_published(session: Session, decision_ids: list[str]) -> None:
    session.exec(update(ReviewRecord).where(ReviewRecord.decision_id.in_(decision_ids))  # type: ignore[call-overload,attr-defined]
                 .values(published_at=_now()))


# ---- the review stage's side: applied once per decision
def is_applied(session: Session, decision_id: str) -> bool:
    row = session.get(ReviewRecord, decision_id)
    return row is not None and row.applied_at is not None


def apply(session: Session, *, decision: ReviewDecision, accepted: AcceptedDocument | None,
          labels: list[Label]) -> bool:
    """Record a decision's effects once: False when this decision was applied before."""
    crud.insert_ignore(session, ReviewRecord, {  # published straight to the topic by an integrator
        "decision_id": decision.decision_id, "document_id": decision.document_id, "decision": decision.decision,
        "fields": {f: c.model_dump(mode="json") for f, c in decision.fields.items()},
        "reviewer": decision.reviewer[:100], "comment": decision.comment, "created_at": decision.decided_at,
        "published_at": _now()}, ["decision_id"])
    claimed = session.exec(  # type: ignore[call-overload]
        update(ReviewRecord).where(col(ReviewRecord.decision_id) == decision.decision_id,
                                   ReviewRecord.applied_at.is_(None))  # type: ignore[union-attr]
        .values(applied_at=_now())
    ).rowcount
    if claimed != 1:
        return False
    if accepted is None:
        _settle(session, decision, DocumentState.REJECTED, QueueStatus.REJECTED, None)
        return True
    _settle(session, decision, DocumentState.ACCEPTED, QueueStatus.RESOLVED, accepted.model_dump(mode="json"))
    for field in accepted.review.corrected if accepted.review else []:
        _replace_extraction(session, decision.document_id, field, accepted.fields.get(field))
    if labels:
        crud.save_labels(session, labels)
    key = invoice_key(accepted)
    if key is not None:
        crud.claim_invoice(session, vendor_key=key[0], invoice_number=key[1], document_id=decision.document_id)
    return True


def _settle(session: Session, decision: ReviewDecision, state: str, status: str,
            result: dict[str, Any] | None) -> None:
    values: dict[str, Any] = {"state": state, "updated_at": _now()}
    if result is not None:
        values |= {"result": result, "reasons": []}
    session.exec(update(Document).where(col(Document.document_id) == decision.document_id)  # type: ignore[call-overload]
                 .values(**values))
    item = session.get(ExceptionRecord, decision.document_id)
    if item is not None and item.status in QueueStatus.ACTIVE:  # decided outside the console
        item.status, item.assignee, item.revision = status, decision.reviewer[:100], item.revision + 1
        item.updated_at = _now()


def _replace_extraction(session: Session, document_id: str, field: str, value: Any) -> None:
    row = session.exec(select(Extraction).where(Extraction.document_id == document_id,
                                                Extraction.field == field)).first()
    if value is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = Extraction(document_id=document_id, field=field, confidence=1.0, source="")
        session.add(row)
    row.value, row.confidence, row.source, row.page = value.value, value.confidence, value.source, value.page
    row.bbox, row.raw = (list(value.bbox) if value.bbox else None), value.raw
