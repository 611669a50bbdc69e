"""Conservation through a real broker and real worker processes: every document that enters
ends in exactly one terminal place, none lost, in the topics and in the database, even when a
worker is killed with SIGKILL mid-stream; none duplicated but the one message a killed worker
may have sent for a document in its hands and not yet recorded (at-least-once, and only there)."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from services import topics
from services.cluster import LocalCluster
from services.contracts import IncomingDocument
from services.pipeline import extract_report, run
from services.runtime import Runtime
from services.settings import Settings
from services.stages import PATH
from services.storage.db import make_engine, session_scope
from services.storage.models import Document, StageTransition
from services.synth import bad
from services.synth.layouts import LAYOUTS
from services.synth.render import generate
from tests.conftest import fresh_postgres_database

pytestmark = pytest.mark.integration

GOOD_PER_VENDOR = 60
WORKER_ENV = {
    # A killed worker's partitions move to the new one after this many seconds.
    "DOCFLOW_SESSION_TIMEOUT_S": "10", "DOCFLOW_HEARTBEAT_S": "1", "DOCFLOW_REBALANCE_TIMEOUT_S": "10",
    # Below the inline limit, so that the "too_large" case is refused by size.
    "DOCFLOW_MAX_DOCUMENT_BYTES": "400000",
}


def corpus() -> tuple[list[tuple[str, bytes]], dict[str, tuple[str, str | None]], dict[str, bytes]]:
    """Messages to publish, the expected (state, reason) per id, and the good PDFs by id."""
    messages, expected, pdfs = [], {}, {}
    for vendor, layout in sorted(LAYOUTS.items()):
        for serial in range(GOOD_PER_VENDOR):
            doc_id = f"good-{vendor}-{serial:03d}"
            pdf, _ = generate(layout, seed=99, serial=serial, items=1 + serial % 8)
            messages.append((doc_id, bad.envelope(doc_id, pdf).model_dump_json().encode()))
            expected[doc_id], pdfs[doc_id] = ("accepted", None), pdf
    sample = next(iter(pdfs.values()))
    for case in bad.CASES:
        if case.name == "duplicate_content":
            continue  # published once its original is terminal (see the test)
        doc_id = f"bad-{case.name}"
        messages.append((doc_id, case.build(doc_id, sample)))
        expected[doc_id] = (case.state, case.reason)
    random.Random(7).shuffle(messages)
    return messages, expected, pdfs


# The database, and how the workers walk the path: the whole path per event (the default), or an
# agent per stage, each hop through the broker.
@pytest.fixture(params=["sqlite-chain", "sqlite-stages", pytest.param("postgres-chain", marks=pytest.mark.postgres)])
def cluster(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    drop = None
    database, topology = request.param.split("-")
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'docflow.db'}"
    else:
        url, drop = fresh_postgres_database()
    c = LocalCluster(tmp_path / "home", url, partitions=4, env=WORKER_ENV | {"DOCFLOW_TOPOLOGY": topology}).start()
    try:
        yield c
    finally:
        c.stop()
        if drop:
            make_engine(url).dispose()
            drop()  # type: ignore[operator]


def test_conservation_with_sigkill(cluster: LocalCluster) -> None:
    """200+ documents (20+ broken in distinct ways), a worker SIGKILLed mid-stream and replaced,
    redeliveries and a duplicate submission: each id ends in exactly one terminal place."""
    messages, expected, pdfs = corpus()
    assert len(messages) >= 200 and sum(1 for i in expected if i.startswith("bad-")) >= 20
    half = len(messages) // 2

    cluster.start_worker("first")
    cluster.publish(messages[:half])
    early = cluster.terminal({k for k, _ in messages[:half]}, timeout=180)
    assert len(early) >= 20, "the first worker made no progress"
    # Re-publish documents already done and some in flight, then kill mid-stream.
    cluster.publish(messages[:10])
    cluster.publish(messages[half:half + 60])
    cluster.kill_worker("first")
    in_hands = {k for k, _ in messages[:half + 60]} - set(early)  # what the first worker may have held

    cluster.start_worker("second")
    cluster.publish(messages[half:])
    results = cluster.terminal(set(expected), timeout=300)

    # The same bytes as an accepted document, under a new id: an exception, not a second booking.
    original = next(i for i in sorted(pdfs) if results.get(i) and results[i][0].topic == topics.ACCEPTED)
    dup_id = "bad-duplicate_content"
    cluster.publish([(dup_id, bad.envelope(dup_id, pdfs[original]).model_dump_json().encode())])
    expected[dup_id] = ("exception", "DUPLICATE_CONTENT")
    # Other bytes, but the same vendor's invoice number as an accepted document: not booked twice.
    vendor, serial = original.split("-")[1], int(original.split("-")[2])
    rebilled, _ = generate(LAYOUTS[vendor], seed=99, serial=serial, items=9)
    rebill_id = "bad-duplicate_invoice"
    cluster.publish([(rebill_id, bad.envelope(rebill_id, rebilled).model_dump_json().encode())])
    expected[rebill_id] = ("exception", "DUPLICATE_INVOICE")
    results = cluster.terminal(set(expected), timeout=120, settle=5)

    # Topics: one terminal record per id, nothing for ids nobody sent. A worker SIGKILLed between
    # sending a batch's terminal messages and recording them sends them again when the events come
    # back (the window StageAgent._deliver names): only for documents in its hands at the kill (one
    # batch an agent: the chain's DOCFLOW_BATCH_SIZE, one for a stage's agent), each in the one
    # place it ended; one that had ended before the kill never repeats (its redelivery, published
    # above, is skipped).
    state_of = {topics.ACCEPTED: "accepted", topics.EXCEPTIONS: "exception", topics.DEADLETTER: "deadletter"}
    missing = sorted(set(expected) - set(results))
    duplicated = {i: [r.topic for r in recs] for i, recs in results.items() if len(recs) != 1}
    assert not missing, f"lost: {missing}"
    repeated = {i: places for i, places in duplicated.items() if len(places) == 2 and len(set(places)) == 1
                and i not in early and i in in_hands}
    in_a_kill = Settings().batch_size if cluster.env["DOCFLOW_TOPOLOGY"] == "chain" else len(PATH)
    assert duplicated == repeated and len(repeated) <= in_a_kill, f"duplicated: {duplicated}"
    assert set(results) == set(expected)
    for doc_id, (state, reason) in expected.items():
        record = results[doc_id][0]
        assert state_of[record.topic] == state, (doc_id, record.payload)
        if reason is not None:
            reasons = [record.payload["reason"]] if state == "deadletter" else record.payload["reasons"]
            assert reason in reasons, (doc_id, reasons)
        if state == "deadletter":
            assert record.payload["original_uri"], doc_id  # the original is kept

    # Database: one row per id, in the same terminal state as its topic; one transition per stage.
    engine = make_engine(cluster.db_url)
    with session_scope(engine) as s:
        rows = {d.document_id: d for d in s.exec(select(Document)).all()}
        per_stage = s.exec(
            select(StageTransition.document_id, StageTransition.stage, func.count())
            .group_by(StageTransition.document_id, StageTransition.stage)
            .having(func.count() > 1)
        ).all()
    engine.dispose()
    assert set(rows) == set(expected)
    for doc_id, (state, _) in expected.items():
        assert rows[doc_id].state == state, (doc_id, rows[doc_id].state, rows[doc_id].reasons)
    assert per_stage == []

    # The streamed path and `docflow extract` give identical fields for the same PDF.
    rt = Runtime(Settings(home=cluster.home))
    for doc_id in sorted(pdfs)[::20]:
        streamed = results[doc_id][0].payload
        content = base64.b64encode(pdfs[doc_id]).decode()
        local = extract_report(run(IncomingDocument(document_id=doc_id, source="t", content=content), rt))
        assert json.loads(json.dumps(streamed["fields"])) == local["fields"], doc_id
        assert streamed["line_items"] == local["line_items"], doc_id
