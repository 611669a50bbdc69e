"""Label sets in the database: save a revision, read the newest, the work list, the outbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from labeling import studio
from labeling.labels import build, messages, stored
from services.contracts import Label, LabeledValue, Page, Reason
from services.storage import audit, crud
from services.storage.models import Document, DocumentState, LabelSet, TemplateVersion

# Documents no template reads come first: labelling one onboards its vendor.
FIRST = {str(Reason.UNKNOWN_TEMPLATE), str(Reason.NEW_LAYOUT_VERSION)}
CANDIDATE_STATES = (DocumentState.EXCEPTION, DocumentState.ACCEPTED, DocumentState.SAMPLE)
WORKLIST_SCAN = 5000  # the newest documents considered for the work list


def latest(s: Session, document_id: str) -> LabelSet | None:
    return s.exec(select(LabelSet).where(LabelSet.document_id == document_id)
                  .order_by(col(LabelSet.revision).desc()).limit(1)).first()


def labeled_ids(s: Session) -> list[str]:
    return list(s.exec(select(LabelSet.document_id).distinct().order_by(col(LabelSet.document_id))).all())


def labeled_alike(s: Session, document_id: str, vendor_name: str | None, limit: int = 20) -> list[str]:
    """Other labeled documents whose labels name the same vendor: what a template can also be
    induced from."""
    if not vendor_name:
        return []
    rows = s.exec(select(LabelSet).where(LabelSet.document_id != document_id)
                  .order_by(col(LabelSet.document_id), col(LabelSet.revision).desc())).all()
    newest: dict[str, LabelSet] = {}
    for row in rows:
        newest.setdefault(row.document_id, row)
    return [d for d, row in newest.items()
            if any(lab.field == "vendor_name" and lab.value == vendor_name for lab in row.values())][:limit]


def history(s: Session, document_id: str) -> list[dict[str, Any]]:
    rows = s.exec(select(LabelSet).where(LabelSet.document_id == document_id)
                  .order_by(col(LabelSet.revision).desc())).all()
    return [{"revision": r.revision, "author": r.author, "origin": r.origin, "labels": len(r.labels),
             "created_at": r.created_at.isoformat()} for r in rows]


def save(s: Session, *, document_id: str, labels: list[LabeledValue], origin: str, author: str,
         base_revision: int | None = None) -> LabelSet:
    """A new revision of the document's labels, its label rows and the audit entry, in the caller's
    transaction. ``base_revision``: the revision the labeler started from; a newer one means
    somebody else saved meanwhile (ValueError, nothing written)."""
    current = latest(s, document_id)
    if base_revision is not None and current is not None and current.revision != base_revision:
        raise ValueError(f"the labels were saved by {current.author} meanwhile (revision {current.revision}); reload")
    row = LabelSet(document_id=document_id, revision=(current.revision if current else 0) + 1,
                   labels=stored(labels), origin=origin, author=author)
    s.add(row)
    s.flush()
    crud.save_labels(s, _messages(row))
    before = {lab.field: lab.value for lab in current.values()} if current else None
    audit.record(s, actor=author, action="labels.save", object_type="document", object_id=document_id,
                 before=before, after={lab.field: lab.value for lab in labels} | {"revision": row.revision})
    return row


def _messages(row: LabelSet) -> list[Label]:
    return messages(row.document_id, row.revision, row.values(), origin=row.origin, author=row.author,
                    at=row.created_at)


def worklist(s: Session, *, limit: int = 100, include_labeled: bool = False) -> list[dict[str, Any]]:
    """Documents to label, most useful first: no template read them (unknown vendor, new layout),
    then the ones the extraction was least sure of (lowest field confidence: active learning)."""
    labeled = dict(s.exec(select(LabelSet.document_id, func.max(LabelSet.revision))
                          .group_by(col(LabelSet.document_id))).all())
    review = to_review(s)
    docs = s.exec(select(Document).where(col(Document.state).in_(CANDIDATE_STATES), col(Document.blob_uri).is_not(None))
                  .order_by(col(Document.updated_at).desc()).limit(WORKLIST_SCAN)).all()
    items: list[dict[str, Any]] = []
    for d in docs:
        if d.document_id in labeled and not include_labeled and d.document_id not in review:
            continue
        read = d.validated()
        confidences = [f.confidence for f in read.fields.values()] if read else []
        least = min(confidences) if confidences else 0.0
        detected = read.detection.status if read else None
        # No template read it: the reason says so when the policy sent it to the queue, the
        # detection when it was accepted (unknown_template: accept) from what the ranking read.
        first = bool(FIRST & set(d.reasons)) or detected in ("unknown", "new_layout") or d.state == DocumentState.SAMPLE
        items.append({"document_id": d.document_id, "state": d.state, "reasons": d.reasons, "vendor": d.vendor,
                      "filename": d.filename, "pages": d.page_count, "least_confidence": round(least, 4),
                      "labeled_revision": labeled.get(d.document_id),
                      "why": "e-invoice labels to review" if d.document_id in review
                      else "no template reads it" if first else f"least confident field {least:.2f}",
                      # Of an unknown vendor's documents, the one showing the most fields first: its
                      # template then knows where its due date and order number stand.
                      "_key": (0, -len(confidences), 0.0, -d.updated_at.timestamp()) if first
                      else (1, 0, least, -d.updated_at.timestamp())})
    items.sort(key=lambda i: i.pop("_key"))
    return items[:limit]


def to_review(s: Session) -> set[str]:
    """Documents the e-invoice teacher labelled (their newest labels are its) that no template was
    published from: with DOCFLOW_EINVOICE_TEACHER=review, or when its template did not check out."""
    newest: dict[str, LabelSet] = {}
    for row in s.exec(select(LabelSet).order_by(col(LabelSet.document_id), col(LabelSet.revision).desc())).all():
        newest.setdefault(row.document_id, row)
    taught = {d for d, row in newest.items() if row.origin == "einvoice"}
    if not taught:
        return set()
    published = {d for docs in s.exec(select(TemplateVersion.documents)).all() for d in docs}
    return taught - published


def import_tasks(s: Session, tasks: list, pages_of: Callable[[Document], list[Page]],
                 author: str) -> tuple[dict[str, int], dict[str, str]]:
    """Label Studio tasks to a new label revision per document they label (origin ``import``).
    Returns the revisions saved and, per document, why it could not be; the caller commits only
    when nothing went wrong."""
    saved, problems = {}, {}
    for document_id, doc_tasks in studio.group_tasks(tasks).items():
        doc = s.get(Document, document_id)
        if doc is None or not doc.blob_uri:
            problems[document_id] = "no such document here (or its bytes were never stored)"
            continue
        try:
            pages = pages_of(doc)
            labels = build(studio.picks_from_tasks(doc_tasks, pages), pages)
            saved[document_id] = save(s, document_id=document_id, labels=labels, origin="import",
                                      author=author).revision
        except ValueError as exc:  # LabelError too
            problems[document_id] = str(exc)
    return saved, problems


def unpublished(s: Session, limit: int = 200) -> list[tuple[int, list[Label]]]:
    rows = s.exec(select(LabelSet).where(col(LabelSet.published_at).is_(None))
                  .order_by(col(LabelSet.id)).limit(limit)).all()
    return [(r.id, _messages(r)) for r in rows]  # type: ignore[misc]


def mark_published(s: Session, ids: list[int]) -> None:
    now = datetime.now(UTC)
    for row in s.exec(select(LabelSet).where(col(LabelSet.id).in_(ids))).all():
        row.published_at = now
        s.add(row)
