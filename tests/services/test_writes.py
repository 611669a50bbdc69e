"""A batch's records written a statement per kind (services/storage/writes.py), on SQLite and
PostgreSQL: the rows are the rows single statements wrote, in an order that keeps each document's
last state, and terminal states are still set once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event
from sqlmodel import select

from services.contracts import (
    AcceptedDocument,
    Detection,
    DocumentRef,
    ExceptionDocument,
    FieldValue,
    Issue,
    Reason,
    Validation,
)
from services.monitoring.store import Ended, observation_row, outcomes
from services.storage import crud
from services.storage.db import session_scope
from services.storage.lifecycle import Observation
from services.storage.models import Document, DocumentState, ExceptionRecord, Extraction, StageTransition
from services.storage.writes import Writes


def field(value: str, confidence: float = 0.9) -> FieldValue:
    return FieldValue(value=value, confidence=confidence, source="t@1", page=1, bbox=(1, 2, 3, 4))


def ref(document_id: str) -> DocumentRef:
    return DocumentRef(document_id=document_id, source="erp", filename="f.pdf", content_type="application/pdf",
                       sha256="a" * 64, size=10, blob_uri="blob://sha256/" + "a" * 64, submitted_at=datetime.now(UTC))


def statements(engine) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: seen.append(sql.split()[0]))
    return seen


def test_a_batch_is_a_statement_per_kind_and_each_document_ends_in_its_last_state(engine) -> None:  # type: ignore[no-untyped-def]
    """Three documents, each moved three times and given transitions and fields: one insert per
    table, one update for every move, and each row as the single statements left it."""
    ids = ["w1", "w2", "w3"]
    seen = statements(engine)
    with session_scope(engine) as s:
        w = Writes(s)
        for doc in ids:  # asked for in the order a document's steps ask: the document row first, or not
            w.insert(StageTransition, crud.transition_row(document_id=doc, stage="parse", outcome="ok"),
                     crud.TRANSITION_KEY)
            w.insert(Document, crud.document_row(document_id=doc, filename=f"{doc}.pdf"), ["document_id"])
            w.advance(doc, DocumentState.PARSED, page_count=2)
            w.advance(doc, DocumentState.CLASSIFIED, template_id="acme", template_version=3)
            w.insert(Extraction, crud.extraction_rows(document_id=doc, fields={"total": field("9.99")}),
                     crud.EXTRACTION_KEY)
            w.advance(doc, DocumentState.EXTRACTED)
        seen.clear()
        w.flush()
    assert sorted(seen) == ["INSERT", "INSERT", "INSERT", "UPDATE"]
    assert seen[0] == "INSERT"
    with session_scope(engine) as s:
        docs = {d.document_id: d for d in s.exec(select(Document)).all()}
        assert {d: (x.state, x.page_count, x.template_id, x.template_version) for d, x in docs.items()} == {
            doc: (DocumentState.EXTRACTED, 2, "acme", 3) for doc in ids}
        assert len(s.exec(select(StageTransition)).all()) == 3
        assert len(s.exec(select(Extraction)).all()) == 3


def test_a_move_never_takes_a_document_out_of_its_terminal_state(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        crud.ensure_document(s, document_id="t1")
        crud.finish(s, document_id="t1", state=DocumentState.ACCEPTED, reasons=[])
    with session_scope(engine) as s:
        w = Writes(s)
        w.advance("t1", DocumentState.EXTRACTED, page_count=4)
        w.flush()
    with session_scope(engine) as s:
        doc = s.get(Document, "t1")
        assert doc is not None and (doc.state, doc.page_count) == (DocumentState.ACCEPTED, None)


def test_gathered_work_runs_once_with_every_item_after_the_rows_it_reads(engine) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[str, object]] = []

    def first(s, items):  # type: ignore[no-untyped-def]
        calls.append(("first", list(items)))

    def second(s, items):  # type: ignore[no-untyped-def]
        calls.append(("second", list(items)))

    with session_scope(engine) as s:
        w = Writes(s)
        w.after(lambda s: calls.append(("after", s.get(Document, "g1") is not None)))
        w.gather(first, 1)
        w.gather(second, "a")
        w.insert(Document, crud.document_row(document_id="g1"), ["document_id"])
        w.gather(first, 2)
        w.flush()
        w.flush()  # nothing is written or run twice
    assert calls == [("after", True), ("first", [1, 2]), ("second", ["a"])]


def test_finish_many_ends_each_open_document_once_and_queues_its_exceptions(engine) -> None:  # type: ignore[no-untyped-def]
    """The documents that ended in this call are answered; an exception enters the queue once, a
    document that had already ended keeps its state and gets no queue row."""
    exception = ExceptionDocument(
        doc=ref("f2"), detection=Detection(status="unknown"), page_count=1, text_layer="full",
        validation=Validation(ok=False, issues=[Issue(code=Reason.UNKNOWN_TEMPLATE, message="m")]),
        reasons=[Reason.UNKNOWN_TEMPLATE])
    with session_scope(engine) as s:
        for doc in ("f1", "f2", "f3"):
            crud.ensure_document(s, document_id=doc)
        crud.finish(s, document_id="f3", state=DocumentState.DEADLETTER, reasons=["PDF_CORRUPT"])
    endings = [crud.Ending("f1", DocumentState.ACCEPTED, []),
               crud.Ending("f2", DocumentState.EXCEPTION, ["UNKNOWN_TEMPLATE"], result=exception, priority=1),
               crud.Ending("f3", DocumentState.EXCEPTION, ["TOTAL_MISMATCH"])]
    with session_scope(engine) as s:
        assert crud.finish_many(s, endings) == {"f1", "f2"}
    with session_scope(engine) as s:
        assert crud.finish_many(s, endings) == set()
    with session_scope(engine) as s:
        states = {d.document_id: (d.state, d.reasons) for d in s.exec(select(Document)).all()}
        assert states == {"f1": (DocumentState.ACCEPTED, []), "f2": (DocumentState.EXCEPTION, ["UNKNOWN_TEMPLATE"]),
                          "f3": (DocumentState.DEADLETTER, ["PDF_CORRUPT"])}
        queued = s.exec(select(ExceptionRecord)).all()
        assert [(q.document_id, q.priority) for q in queued] == [("f2", 1)]
        doc = s.get(Document, "f2")
        assert doc is not None and doc.result == exception.model_dump(mode="json")


# What services.monitoring.features.observe gives for a document.
FEATURES = {"vendor": "v", "template_id": None, "detection": "unknown", "pages": 1, "words_per_page": 80.0,
            "text_layer": "full", "ocr": False, "language": "en", "model_version": None, "confidence": {}}


def test_outcomes_give_each_document_its_own_latency_and_cpu(engine) -> None:  # type: ignore[no-untyped-def]
    accepted = AcceptedDocument(
        doc=ref("o1"), detection=Detection(status="unknown"), page_count=1, text_layer="full",
        fields={"total": field("1.00", 0.91234)}, validation=Validation(ok=True))
    with session_scope(engine) as s:
        w = Writes(s)
        for doc, cpu in (("o1", [1.5, 2.0]), ("o2", [4.0])):
            w.insert(Document, crud.document_row(document_id=doc), ["document_id"])
            w.insert(Observation, observation_row(document_id=doc, features=FEATURES, role="production"),
                     ["document_id"])
            for n, ms in enumerate(cpu):
                w.insert(StageTransition, crud.transition_row(document_id=doc, stage=f"s{n}", outcome="ok", cpu_ms=ms),
                         crud.TRANSITION_KEY)
            w.gather(outcomes, Ended(doc, accepted, "accepted" if doc == "o1" else "exception",
                                     [] if doc == "o1" else ["TOTAL_MISMATCH"]))
        w.flush()
    with session_scope(engine) as s:
        rows = {o.document_id: o for o in s.exec(select(Observation)).all()}
    assert (rows["o1"].outcome, rows["o1"].cpu_ms, rows["o1"].confidence) == ("accepted", 3.5, {"total": 0.9123})
    assert (rows["o2"].outcome, rows["o2"].cpu_ms, rows["o2"].reasons) == ("exception", 4.0, ["TOTAL_MISMATCH"])
    assert all(r.latency_ms is not None and 0 <= r.latency_ms < 60_000 for r in rows.values())
