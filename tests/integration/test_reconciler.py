"""The periodic reconciler against a real broker, worker and database: a document that stopped
between two stages is re-driven only while the stream is idle, and ends read; one re-driven too
often ends as POISON, one whose bytes are gone as BLOB_NOT_FOUND, each with its dead letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services import topics
from services.cluster import LocalCluster
from services.reconcile import service
from services.reconcile.store import ACTION
from services.settings import Settings
from services.storage import audit, crud
from services.storage.blobs import BlobStore, sha256_hex
from services.storage.db import make_engine, session_scope
from services.storage.models import AuditEntry, Document, StageTransition
from services.synth import bad
from services.synth.layouts import NORTHWIND
from services.synth.render import generate
from tests.integration.review_world import FAST_REBALANCE

pytestmark = pytest.mark.integration


def stuck(engine, blobs: BlobStore, document_id: str, pdf: bytes | None, *, redrives: int = 0) -> None:  # type: ignore[no-untyped-def]
    """A document the stream left at ``parsed`` an hour ago (its message lost with a broker)."""
    from services.contracts import IncomingDocument

    uri = blobs.put(pdf) if pdf is not None else "blob://sha256/" + "0" * 64
    envelope = IncomingDocument(document_id=document_id, source="tests", filename=f"{document_id}.pdf",
                                blob_uri=uri, sha256=sha256_hex(pdf or b"gone"))
    with session_scope(engine) as s:
        crud.store_submitted(s, envelope, size=len(pdf or b""))
        for stage in ("intake", "parse"):
            crud.record_transition(s, document_id=document_id, stage=stage, outcome="ok")
        crud.advance(s, document_id=document_id, state="parsed")
        doc = s.get(Document, document_id)
        doc.updated_at = datetime.now(UTC) - timedelta(hours=1)
        s.add(doc)
        for _ in range(redrives):
            audit.record(s, actor="earlier", action=ACTION, object_type="document", object_id=document_id)


def test_stuck_documents_are_redriven_when_the_stream_is_idle(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'docflow.db'}"
    cluster = LocalCluster(home=tmp_path / "home", db_url=db_url, partitions=2, env=FAST_REBALANCE)
    cluster.start()
    engine = make_engine(db_url)
    blobs = BlobStore(cluster.home / "blobs")
    settings = Settings(home=cluster.home, database_url=db_url, redrive_after_s=60, max_redrives=3)
    try:
        stuck(engine, blobs, "lost-1", generate(NORTHWIND, seed=21, serial=1)[0])
        stuck(engine, blobs, "often", generate(NORTHWIND, seed=21, serial=2)[0], redrives=3)
        stuck(engine, blobs, "no-bytes", None)
        # Work queued and not yet taken (no worker runs): the stream is busy, nothing is re-driven.
        cluster.publish([("queued", bad.envelope("queued", generate(NORTHWIND, seed=21, serial=3)[0])
                          .model_dump_json().encode())])
        busy = service.reconcile_once(settings, cluster.bootstrap, engine, blobs)
        assert busy.deferred == 3 and not busy.redriven and not busy.dead_lettered

        cluster.start_worker("w1")
        cluster.terminal({"queued"}, timeout=120)
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        report = service.Report(deferred=1)
        while report.deferred and datetime.now(UTC) < deadline:  # until the worker has committed
            report = service.reconcile_once(settings, cluster.bootstrap, engine, blobs)
        assert report.redriven == ["lost-1"], report
        assert report.dead_lettered == {"often": "POISON", "no-bytes": "BLOB_NOT_FOUND"}

        records = cluster.terminal({"queued", "lost-1", "often", "no-bytes"}, timeout=120, settle=3)
        assert [r.topic for r in records["lost-1"]] == [topics.ACCEPTED]
        assert [r.payload["reason"] for r in records["often"]] == ["POISON"]
        assert [r.payload["reason"] for r in records["no-bytes"]] == ["BLOB_NOT_FOUND"]
        with Session(engine) as s:
            states = {d.document_id: d.state for d in s.exec(select(Document)).all()}
            entries = s.exec(select(AuditEntry).where(AuditEntry.action == ACTION,
                                                      AuditEntry.object_id == "lost-1")).all()
            stages = [t.stage for t in s.exec(select(StageTransition).where(StageTransition.document_id == "lost-1"))]
        assert states == {"queued": "accepted", "lost-1": "accepted", "often": "deadletter", "no-bytes": "deadletter"}
        assert len(entries) == 1 and entries[0].actor == "reconciler" and entries[0].before["stages"] == [
            "intake", "parse"]
        assert stages.count("parse") == 1 and "validate" in stages  # read again from the start, once
        # Nothing is left for a second look.
        assert service.reconcile_once(settings, cluster.bootstrap, engine, blobs) == service.Report()
    finally:
        cluster.stop()
