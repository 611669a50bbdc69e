"""A document that stops its worker every time (killed out of memory, a crash in a library) is
counted per delivery before the work starts, and after ``max_deliveries`` it is dead-lettered as
POISON instead of delivered for ever; a stop for the infrastructure is not held against it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.contracts import ClassifiedDocument, Detection, DocumentRef, Reason
from services.extraction.agent import ExtractAgent
from services.runtime import Runtime
from services.storage import crud
from services.storage.db import session_scope, upgrade
from services.transport import Event


def classified(document_id: str, blob_uri: str) -> bytes:
    ref = DocumentRef(document_id=document_id, source="t", filename="f.pdf", content_type="application/pdf",
                      sha256="0" * 64, size=1, blob_uri=blob_uri, submitted_at=datetime.now(UTC))
    doc = ClassifiedDocument(doc=ref, parser="t", pages=[], text_layer="none", detection=Detection(status="unknown"))
    return doc.model_dump_json().encode()


def test_the_fourth_delivery_of_an_unfinished_document_is_poison(rt: Runtime) -> None:
    upgrade(rt.settings.db_url)
    agent = ExtractAgent(None, rt, rt.engine)  # type: ignore[arg-type]
    raw = classified("p1", rt.blobs.put(b"%PDF-1.4 an empty page"))

    def deliver() -> object:
        return asyncio.run(agent._process_or_dead_letter(Event(key=b"p1", raw=raw, document_id="p1")))

    # Each delivery runs the stage and never reaches the broker (as if the worker died right after).
    for _ in range(rt.settings.max_deliveries):
        emit = deliver()
        assert emit is not None and emit.topic == "documents.extracted"  # type: ignore[attr-defined]
    poison = deliver()
    assert poison.topic == "documents.deadletter" and poison.message.reason == Reason.POISON  # type: ignore[attr-defined]
    assert "3 times" in poison.message.message  # type: ignore[attr-defined]


def test_an_infrastructure_stop_is_forgiven(rt: Runtime) -> None:
    upgrade(rt.settings.db_url)
    with session_scope(rt.engine) as s:
        assert [crud.count_attempt(s, document_id="d", stage="extract") for _ in range(3)] == [1, 2, 3]
        crud.forgive_attempt(s, document_id="d", stage="extract")
        assert crud.count_attempt(s, document_id="d", stage="extract") == 3
        assert crud.count_attempt(s, document_id="d", stage="validate") == 1
