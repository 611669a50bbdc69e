"""Storage on SQLite and PostgreSQL: migrations, idempotent writes, terminal states set once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, inspect
from sqlmodel import select

from services.contracts import (
    Detection,
    DocumentRef,
    ExceptionDocument,
    FieldValue,
    Issue,
    Reason,
    Validation,
)
from services.storage import crud
from services.storage.db import session_scope, upgrade
from services.storage.models import Document, ExceptionRecord, Extraction, StageTransition


def ref(document_id: str, sha: str = "a" * 64) -> DocumentRef:
    return DocumentRef(document_id=document_id, source="erp", filename="f.pdf", content_type="application/pdf",
                       sha256=sha, size=10, blob_uri=f"blob://sha256/{sha}", submitted_at=datetime.now(UTC))


def count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_migrations_create_schema_and_rerun(engine, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """Alembic builds every table; running the upgrade again changes nothing."""
    upgrade(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"documents", "stage_transitions", "extractions", "exceptions", "alembic_version"} <= tables


def test_redelivery_never_duplicates(engine) -> None:  # type: ignore[no-untyped-def]
    """Registering, transitions and extractions written twice leave one row each."""
    fields = {"total_amount": FieldValue(value="1.00", confidence=0.9, source="t@1", page=1, bbox=(1, 2, 3, 4))}
    for _ in range(2):
        with session_scope(engine) as s:
            assert crud.register_document(s, ref=ref("d1")) is None
            crud.record_transition(s, document_id="d1", stage="intake", outcome="ok")
            crud.save_extractions(s, document_id="d1", fields=fields)
    assert count(engine, Document) == 1
    assert count(engine, StageTransition) == 1
    assert count(engine, Extraction) == 1
    with session_scope(engine) as s:
        assert crud.stage_done(s, document_id="d1", stage="intake")
        assert not crud.stage_done(s, document_id="d1", stage="parse")


def test_the_result_a_review_starts_from_reads_back_as_its_contract(engine) -> None:  # type: ignore[no-untyped-def]
    """finish() stores the terminal document; the row gives it back as the validated document it
    was, with its fields, line items and issues typed, and a row without one gives None."""
    fields = {"total_amount": FieldValue(value="1.00", confidence=0.9, source="t@1", page=1, bbox=(1, 2, 3, 4))}
    issue = Issue(code=Reason.TOTAL_MISMATCH, message="net + tax != total", field="total_amount")
    sent = ExceptionDocument(doc=ref("d1"), detection=Detection(status="unknown"), page_count=1, text_layer="full",
                             fields=fields, validation=Validation(ok=False, issues=[issue]),
                             reasons=[Reason.TOTAL_MISMATCH])
    with session_scope(engine) as s:
        crud.register_document(s, ref=ref("d1"))
        crud.register_document(s, ref=ref("d2", sha="b" * 64))
        assert crud.finish(s, document_id="d1", state="exception", reasons=["TOTAL_MISMATCH"], result=sent)
    with session_scope(engine) as s:
        doc, bare = s.get(Document, "d1"), s.get(Document, "d2")
        assert doc is not None and bare is not None
        read = doc.validated()
        assert bare.validated() is None
    assert read is not None and read.fields == fields and read.validation.issues == [issue]
    assert read.doc == sent.doc and read.detection.status == "unknown"
    assert doc.result is not None and doc.result["reasons"] == ["TOTAL_MISMATCH"]  # the message as it was sent


def test_duplicate_content_names_the_first(engine) -> None:  # type: ignore[no-untyped-def]
    """The same bytes under a new id point back at the document that had them first."""
    with session_scope(engine) as s:
        crud.register_document(s, ref=ref("first"))
    with session_scope(engine) as s:
        assert crud.register_document(s, ref=ref("second")) == "first"
        assert crud.register_document(s, ref=ref("third", sha="b" * 64)) is None


def test_terminal_state_is_set_once(engine) -> None:  # type: ignore[no-untyped-def]
    """finish() moves a document to one terminal state; a second finish is refused."""
    with session_scope(engine) as s:
        crud.register_document(s, ref=ref("d1"))
        assert crud.finish(s, document_id="d1", state="exception", reasons=["UNKNOWN_TEMPLATE"])
    with session_scope(engine) as s:
        assert not crud.finish(s, document_id="d1", state="accepted", reasons=[])
        crud.advance(s, document_id="d1", state="parsed")
    with session_scope(engine) as s:
        doc = s.get(Document, "d1")
        assert doc is not None and doc.state == "exception" and doc.reasons == ["UNKNOWN_TEMPLATE"]
    assert count(engine, ExceptionRecord) == 1


def test_document_view(engine) -> None:  # type: ignore[no-untyped-def]
    """The API view has state, history in order, and fields with provenance."""
    with session_scope(engine) as s:
        crud.register_document(s, ref=ref("d1"))
        crud.record_transition(s, document_id="d1", stage="intake", outcome="ok", duration_ms=3.0)
        crud.record_transition(s, document_id="d1", stage="parse", outcome="ok")
        crud.save_extractions(s, document_id="d1", fields={
            "currency": FieldValue(value="EUR", confidence=0.98, source="t@1", page=1, bbox=(1, 2, 3, 4), raw="EUR")})
        crud.finish(s, document_id="d1", state="accepted", reasons=[])
    with session_scope(engine) as s:
        view = crud.document_view(s, document_id="d1")
        assert crud.document_view(s, document_id="nope") is None
    assert view is not None and view["state"] == "accepted"
    assert [h["stage"] for h in view["history"]] == ["intake", "parse"]
    assert view["fields"]["currency"] == {"value": "EUR", "confidence": 0.98, "source": "t@1", "page": 1,
                                          "bbox": [1, 2, 3, 4], "raw": "EUR"}


def test_invoice_numbers_are_claimed_once(engine) -> None:  # type: ignore[no-untyped-def]
    """The first document to claim a vendor's invoice number keeps it; a second is told who has it."""
    with session_scope(engine) as s:
        assert crud.claim_invoice(s, vendor_key="acme", invoice_number="A1", document_id="d1") is None
    with session_scope(engine) as s:
        assert crud.claim_invoice(s, vendor_key="acme", invoice_number="A1", document_id="d1") is None  # again
        assert crud.claim_invoice(s, vendor_key="acme", invoice_number="A1", document_id="d2") == "d1"
        assert crud.claim_invoice(s, vendor_key="other", invoice_number="A1", document_id="d2") is None


def test_done_or_ended_among_a_batch_of_documents(engine) -> None:  # type: ignore[no-untyped-def]
    """What the agents ask of a batch of events before their work: which documents had their stage
    recorded or ended (skipped), and, before sending a terminal message, which ended already."""
    with session_scope(engine) as s:
        for doc in ("d8", "d9"):
            crud.ensure_document(s, document_id=doc)
        crud.record_transition(s, document_id="d9", stage="parse", outcome="ok")
    with engine.connect() as c:
        assert crud.done_or_ended_among(c, document_ids={"d8", "d9", "nobody"}, stage="parse") == {"d9"}
        assert crud.done_or_ended_among(c, document_ids={"d8", "d9"}, stage="extract") == set()
        assert crud.done_or_ended_among(c, document_ids=set(), stage="parse") == set()
        assert crud.terminal_among(c, document_ids={"d8", "d9"}) == set()
    with session_scope(engine) as s:
        crud.finish(s, document_id="d9", state="deadletter", reasons=["PDF_CORRUPT"])
    with engine.connect() as c:
        assert crud.done_or_ended_among(c, document_ids={"d8", "d9"}, stage="extract") == {"d9"}
        assert crud.terminal_among(c, document_ids={"d8", "d9"}) == {"d9"}


def test_an_event_logs_revision_unmigrated_is_zero_and_asked_again_only_later(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Before every document the workers ask the template and model logs' revision: a database not
    migrated yet answers 0 (the files alone) and is asked again after a second, not per document."""
    from sqlalchemy import event

    from services.storage import db
    from services.storage.models import TemplateEventRecord

    engine = db.make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    asked = []
    event.listen(engine, "before_cursor_execute", lambda *args: asked.append(1))
    assert db.highest(engine, TemplateEventRecord.seq) == 0 and len(asked) == 1
    assert db.highest(engine, TemplateEventRecord.seq) == 0 and len(asked) == 1  # remembered
    monkeypatch.setattr(db.time, "monotonic", lambda: float("inf"))
    upgrade(f"sqlite:///{tmp_path / 'bare.db'}")
    assert db.highest(engine, TemplateEventRecord.seq) == 0 and len(asked) == 2  # asked again, migrated now


@pytest.mark.postgres
def test_an_unmigrated_postgresql_is_zero_and_one_that_is_down_an_error() -> None:
    """PostgreSQL's undefined table is "not migrated" too; a database that fails is an error for the
    caller's retry, never "nothing published". (Marked: it needs the server, which ``-m 'not
    postgres'`` runs without.)"""
    from sqlalchemy.exc import OperationalError

    from services.storage import db
    from services.storage.models import TemplateEventRecord
    from tests.conftest import fresh_postgres_database

    url, drop = fresh_postgres_database()  # PostgreSQL's undefined table is "not migrated" too
    bare = db.make_engine(url)
    try:
        assert db.highest(bare, TemplateEventRecord.seq) == 0
    finally:
        bare.dispose()
        drop()  # type: ignore[operator]
    down = db.make_engine("postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(OperationalError):
        db.highest(down, TemplateEventRecord.seq)
