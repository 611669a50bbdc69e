"""At a worker's start: the crashes its predecessors left in the in-flight ledger
(services/inflight.py) recorded in the audit log, and a document that crashed ``max_crashes``
workers dead-lettered as POISON."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from services.codec import encode
from services.contracts import Reason
from services.inflight import ACTION, Ledger
from services.log_setup import get_logger
from services.reconcile import store
from services.reconcile.logic import Unfinished
from services.reconcile.service import send
from services.settings import Settings
from services.storage import audit, crud
from services.storage.db import make_engine, session_scope
from services.storage.models import AuditEntry, Document, DocumentState


def settle_crashes(settings: Settings, bootstrap: str) -> dict[str, str]:
    """At a worker's start: record the crashes its predecessors left, dead-letter the documents
    that crashed ``max_crashes`` workers as POISON. Returns {document id: what became of it}."""
    crashes = Ledger(settings.home).claim_dead()
    if not crashes:
        return {}
    log = get_logger(stage="worker")
    engine = make_engine(settings.db_url)
    outcome = {}
    try:
        for crash in crashes:
            with session_scope(engine) as s:
                audit.record(s, actor=f"worker:{crash.pid}", action=ACTION, object_type="document",
                             object_id=crash.document_id, after={"stage": crash.stage})
            with Session(engine) as s:
                count = s.exec(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action == ACTION, AuditEntry.object_id == crash.document_id)).one()
                doc = s.get(Document, crash.document_id)
            log.warning("a worker died holding a document", document_id=crash.document_id, stage=crash.stage,
                        crashes=count)
            if count < settings.max_crashes or (doc is not None and doc.state in DocumentState.TERMINAL):
                outcome[crash.document_id] = f"crash {count}"
                continue
            # No row yet: the worker died before intake had registered it (its envelope, say); the
            # event is still in the topic, and the row written here stops the next worker at it.
            unfinished = (Unfinished(doc.document_id, doc.state, doc.blob_uri, True, doc.updated_at, 0) if doc
                          else Unfinished(crash.document_id, DocumentState.RECEIVED, None, False, datetime.now(UTC), 0))
            letter = store.dead_letter(
                unfinished, Reason.POISON,
                f"{count} workers died while it was in hand (last in {crash.stage}): it is not given to another",
                doc.filename if doc else None)
            letter.stage = crash.stage or letter.stage
            send(bootstrap, [(letter.topic, letter.document_id, encode(letter))])
            with session_scope(engine) as s:
                crud.ensure_document(s, document_id=crash.document_id)
                store.end(s, letter)
            outcome[crash.document_id] = "poison"
    finally:
        engine.dispose()
    return outcome
