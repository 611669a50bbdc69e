"""A document that kills every worker that reads it is dead-lettered as POISON after
DOCFLOW_MAX_CRASHES deaths, instead of being redelivered for ever while the documents behind it
wait; those documents are then read.

What kills the worker here is this test: it watches the worker's in-flight ledger and sends
SIGKILL whenever the worker holds the poison document, as a native crash or the kernel's OOM
killer would. Everything else is the real worker, broker and database.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services import topics
from services.cluster import LocalCluster
from services.storage.db import make_engine
from services.storage.models import AuditEntry, Document
from services.synth import bad
from services.synth.layouts import NORTHWIND
from services.synth.render import generate
from tests.integration.review_world import FAST_REBALANCE

pytestmark = pytest.mark.integration
POISON = "poison-1"


def test_a_document_that_kills_its_workers_is_dead_lettered_as_poison(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'docflow.db'}"
    cluster = LocalCluster(home=tmp_path / "home", db_url=db_url, partitions=1,
                           env=FAST_REBALANCE | {"DOCFLOW_MAX_CRASHES": "3"})
    cluster.start()
    kills: list[float] = []
    stop = threading.Event()

    def killer() -> None:
        ledger = cluster.home / "inflight"
        while not stop.is_set():
            for path in ledger.glob("[0-9]*-[0-9]*") if ledger.exists() else []:
                try:
                    held = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                worker = cluster.workers.get("w")
                if held.get("document_id") == POISON and worker is not None and worker.pid == held["pid"]:
                    cluster.kill_worker("w", signal.SIGKILL)
                    kills.append(time.monotonic())
                    if len(kills) <= 3:
                        cluster.start_worker("w")
            time.sleep(0.005)

    try:
        big, _ = generate(NORTHWIND, seed=5, serial=1, items=80)  # three pages: long enough in hand to be seen
        messages = [(POISON, bad.envelope(POISON, big).model_dump_json().encode())]
        after = {f"after-{n}": generate(NORTHWIND, seed=5, serial=10 + n)[0] for n in range(4)}
        messages += [(i, bad.envelope(i, pdf).model_dump_json().encode()) for i, pdf in after.items()]
        cluster.start_worker("w")
        watcher = threading.Thread(target=killer, daemon=True)
        watcher.start()
        cluster.publish(messages)
        records = cluster.terminal({POISON, *after}, timeout=300, settle=3)
    finally:
        stop.set()
        cluster.stop()

    assert len(kills) == 3, f"the worker died {len(kills)} times holding the poison document"
    assert [r.topic for r in records[POISON]] == [topics.DEADLETTER]
    letter = records[POISON][0].payload
    assert letter["reason"] == "POISON" and "3 workers died" in letter["message"], letter
    for key in after:
        assert [r.topic for r in records[key]] == [topics.ACCEPTED], (key, records.get(key))
    with Session(make_engine(db_url)) as s:
        assert s.get(Document, POISON).state == "deadletter"
        crashes = s.exec(select(AuditEntry).where(AuditEntry.action == "document.crash")).all()
    assert [c.object_id for c in crashes] == [POISON] * 3
