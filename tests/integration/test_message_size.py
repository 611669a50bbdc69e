"""A stage result too large for the broker ends its document in the dead-letter topic with a
reason, instead of escaping the agent (Faust would ack the event and the document be lost); the
documents behind it go on, and the worker is never restarted. The words of a document never make
a message too large: they ride in the blob store (claim check)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from services import topics
from services.cluster import LocalCluster
from services.contracts import IncomingDocument
from services.storage.blobs import BlobStore, sha256_hex
from services.storage.db import make_engine
from services.storage.models import Document
from services.synth import bad
from services.synth.layouts import NORTHWIND
from services.synth.render import generate
from tests.integration.review_world import FAST_REBALANCE

pytestmark = pytest.mark.integration
LIMIT = 12_000  # bytes: a three-page invoice's 80 line items (about 22 KB extracted) do not fit; its words
# with their boxes (about 57 KB) would not either, but they are in the blob store


def test_a_result_over_the_message_limit_is_dead_lettered(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'docflow.db'}"
    cluster = LocalCluster(home=tmp_path / "home", db_url=db_url, partitions=1,
                           env=FAST_REBALANCE | {"DOCFLOW_MAX_MESSAGE_BYTES": str(LIMIT)})
    cluster.start()
    try:
        large, _ = generate(NORTHWIND, seed=1, serial=1, items=80)
        small, _ = generate(NORTHWIND, seed=1, serial=2, items=2)
        uri = BlobStore(cluster.home / "blobs").put(large)  # by reference: the envelope itself is small
        messages = [("large", IncomingDocument(document_id="large", source="tests", filename="large.pdf",
                                               blob_uri=uri, sha256=sha256_hex(large))),
                    ("small", bad.envelope("small", small))]
        cluster.publish([(key, env.model_dump_json().encode()) for key, env in messages])
        worker = cluster.start_worker("w1")
        records = cluster.terminal({"large", "small"}, timeout=120, settle=3)
        assert [r.topic for r in records["large"]] == [topics.DEADLETTER], records["large"]
        letter = records["large"][0].payload
        assert (letter["reason"], letter["stage"]) == ("MESSAGE_TOO_LARGE", "extract")
        assert f"over the broker's limit of {LIMIT}" in letter["message"] and letter["original_uri"]
        assert [r.topic for r in records["small"]] in ([topics.ACCEPTED], [topics.EXCEPTIONS])
        with Session(make_engine(db_url)) as s:
            states = {d.document_id: d.state for d in s.exec(select(Document)).all()}
        assert states["large"] == "deadletter" and states["small"] in ("accepted", "exception")
        assert worker.poll() is None and cluster.workers["w1"] is worker
    finally:
        cluster.stop()
