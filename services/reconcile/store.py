"""The database side of recovery: finding unfinished documents, resetting one for a re-drive,
ending one as a dead letter. Each function runs in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from services import topics
from services.contracts import DeadLetter, IncomingDocument, Reason
from services.reconcile.logic import UNFINISHED, Unfinished
from services.storage import audit, crud
from services.storage.blobs import BlobStore
from services.storage.models import AuditEntry, Document, DocumentState, Extraction, StageTransition, _now

ACTION = "document.redrive"
STAGE = "reconcile"


class RedriveError(Exception):
    """A document that cannot be re-driven: unknown, already ended, or without stored bytes."""


def redrives(session: Session, document_ids: list[str]) -> dict[str, int]:
    if not document_ids:
        return {}
    rows = session.exec(
        select(AuditEntry.object_id, func.count()).where(
            AuditEntry.action == ACTION, AuditEntry.object_id.in_(document_ids))  # type: ignore[attr-defined]
        .group_by(AuditEntry.object_id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def unfinished(session: Session, blobs: BlobStore, *, before: datetime | None, limit: int = 500) -> list[Unfinished]:
    """Documents between two stages that have not moved since ``before`` (any, when None), oldest first."""
    query = select(Document).where(Document.state.in_(UNFINISHED))  # type: ignore[attr-defined]
    if before is not None:
        query = query.where(Document.updated_at < before)
    docs = session.exec(query.order_by(col(Document.updated_at)).limit(limit)).all()
    counts = redrives(session, [d.document_id for d in docs])
    return [Unfinished(document_id=d.document_id, state=d.state, blob_uri=d.blob_uri,
                       stored=bool(d.blob_uri) and blobs.exists(d.blob_uri or ""), updated_at=d.updated_at,
                       redrives=counts.get(d.document_id, 0)) for d in docs]


def reset(session: Session, document_id: str, *, actor: str, reason: str, blobs: BlobStore,
          dead_letters_too: bool = False) -> IncomingDocument:
    """Put a document back to ``received`` and return the envelope that starts it again.

    Its stage transitions and extracted fields go (they are re-made from the same bytes by the
    same pure stages); the audit entry keeps what they were. A dead letter is re-driven only by
    hand (``dead_letters_too``): after a fix, say, for an ``INTERNAL_ERROR``.
    """
    doc = session.get(Document, document_id)
    if doc is None:
        raise RedriveError(f"no document {document_id}")
    allowed = UNFINISHED + ((DocumentState.DEADLETTER,) if dead_letters_too else ())
    if doc.state not in allowed:
        raise RedriveError(f"the document is {doc.state}: only one between stages"
                           + (" or a dead letter" if dead_letters_too else "") + " is re-driven")
    if not doc.blob_uri or not blobs.exists(doc.blob_uri):
        raise RedriveError("its bytes are not in the blob store")
    stages = list(session.exec(select(StageTransition.stage).where(StageTransition.document_id == document_id)
                               .order_by(StageTransition.id)).all())  # type: ignore[arg-type]
    before = {"state": doc.state, "stages": stages, "reasons": doc.reasons}
    session.exec(delete(StageTransition).where(col(StageTransition.document_id) == document_id))  # type: ignore[call-overload]
    session.exec(delete(Extraction).where(col(Extraction.document_id) == document_id))  # type: ignore[call-overload]
    doc.state, doc.reasons, doc.detail, doc.result, doc.updated_at = DocumentState.RECEIVED, [], None, None, _now()
    session.add(doc)
    audit.record(session, actor=actor, action=ACTION, object_type="document", object_id=document_id,
                 before=before, after={"state": DocumentState.RECEIVED}, reason=reason)
    return IncomingDocument(document_id=document_id, source=doc.source or "redrive",
                            filename=doc.filename or "document.pdf", blob_uri=doc.blob_uri, sha256=doc.sha256,
                            metadata={"redriven_by": actor[:100]})


def dead_letter(doc: Unfinished, reason: Reason, message: str, filename: str | None = None) -> DeadLetter:
    return DeadLetter(document_id=doc.document_id, stage=STAGE, reason=reason, message=message,
                      source_topic=topics.INCOMING, original_uri=doc.blob_uri, filename=filename)


def end(session: Session, letter: DeadLetter) -> bool:
    """Record the dead letter the reconciler published: its transition and the terminal state."""
    crud.record_transition(session, document_id=letter.document_id, stage=STAGE, outcome="deadletter",
                           reason=str(letter.reason))
    return crud.finish(session, document_id=letter.document_id, state=DocumentState.DEADLETTER,
                       reasons=[str(letter.reason)], detail=letter.message)
