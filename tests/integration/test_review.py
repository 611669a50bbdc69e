"""Operator decisions through the real system: web server -> outbox -> documents.reviewed ->
review stage -> documents.accepted + labels, with the worker killed and replaced in between.

Nothing approved is lost (decisions taken while no worker runs are applied when one returns)
and nothing is applied twice (redeliveries after a SIGKILL and a re-published decision are
skipped): one accepted message per approved document, one label per corrected field.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from services import topics
from services.codec import encode
from services.review.store import to_message
from services.storage.db import make_engine
from services.storage.models import AuditEntry, LabelRecord, ReviewRecord
from tests.integration.review_world import PASSWORD, northwind, publish, start, wait_states

pytestmark = pytest.mark.integration


def login(base: str, username: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=30)
    client.get("/login")
    client.post("/login", data={"username": username, "password": PASSWORD,
                                "csrf": client.cookies["docflow_login"]})
    csrf = client.get("/console/documents").text.split('<meta name="csrf" content="')[1].split('"')[0]
    client.headers["X-CSRF-Token"] = csrf
    return client, csrf


def test_decisions_survive_a_worker_restart_and_apply_once(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'docflow.db'}"
    cluster, port = start(tmp_path, db_url)
    docs = northwind(6)
    ids = sorted(docs)
    try:
        cluster.start_worker("w1")
        publish(cluster, docs)
        assert wait_states(db_url, dict.fromkeys(ids, "exception"), 180) == dict.fromkeys(ids, "exception")
        olga, _ = login(f"http://127.0.0.1:{port}", "olga")
        queue = olga.get("/api/queue").json()
        assert sorted(i["document_id"] for i in queue["items"]) == ids
        assert queue["counts"]["reason"] == {"REQUIRED_FIELD_MISSING": 6}

        def approve(doc_id: str) -> None:
            truth = next(x for x in docs[doc_id][1]["labels"] if x["field"] == "invoice_number")
            answer = olga.post(f"/api/queue/{doc_id}/approve", json={"fields": {"invoice_number": {
                "value": truth["text"], "page": truth["page"], "bbox": truth["bbox"]}}})
            assert answer.status_code == 200, answer.text

        # Two decisions while the worker runs; it is killed as soon as they are applied.
        approve(ids[0])
        assert olga.post(f"/api/queue/{ids[1]}/reject", json={"comment": "not ours"}).status_code == 200
        assert wait_states(db_url, {ids[0]: "accepted", ids[1]: "rejected"}, 120) == {
            ids[0]: "accepted", ids[1]: "rejected"}
        cluster.kill_worker("w1")

        # Three more with no worker at all: they wait in the topic.
        for doc_id in ids[2:5]:
            approve(doc_id)
        time.sleep(3)
        assert wait_states(db_url, dict.fromkeys(ids[2:5], "exception"), 1) == dict.fromkeys(ids[2:5], "exception")
        engine = make_engine(db_url)
        with Session(engine) as s:
            decisions = s.exec(select(ReviewRecord)).all()
            assert len(decisions) == 5 and all(d.published_at for d in decisions)
            replay = next(d for d in decisions if d.document_id == ids[0])
        # ... and one decision published a second time, as a flaky producer would.
        cluster.publish([(ids[0], encode(to_message(replay)))], topic=topics.REVIEWED)
        # ... and a decision about a document nobody knows: a dead letter of its own, once.
        stranger = to_message(replay).model_copy(update={"decision_id": str(uuid.uuid4()), "document_id": "nobody-1"})
        cluster.publish([("nobody-1", encode(stranger))], topic=topics.REVIEWED)

        cluster.start_worker("w2")
        expected = {ids[0]: "accepted", ids[1]: "rejected"} | dict.fromkeys(ids[2:5], "accepted") | {
            ids[5]: "exception"}
        assert wait_states(db_url, expected, 180) == expected

        approved = {ids[0], *ids[2:5]}
        accepted = cluster.terminal(approved, timeout=60, settle=5, names=(topics.ACCEPTED,))
        assert set(accepted) == approved
        for doc_id in approved:
            [record] = accepted[doc_id]  # once, though redelivered and re-published
            payload = record.payload
            truth = docs[doc_id][1]["fields"]
            assert payload["review"]["reviewer"] == "olga" and payload["review"]["corrected"] == ["invoice_number"]
            assert payload["fields"]["invoice_number"]["value"] == truth["invoice_number"]
            assert payload["fields"]["invoice_number"]["source"] == "review:olga"
            assert payload["fields"]["total_amount"]["value"] == truth["total_amount"]
        [letter] = cluster.terminal({"nobody-1"}, timeout=60, settle=2, names=(topics.DEADLETTER,))["nobody-1"]
        assert letter.payload["reason"] == "REVIEW_UNKNOWN_DOCUMENT" and letter.payload["stage"] == "review"
        labels = cluster.terminal(approved, timeout=30, settle=2, names=(topics.LABELS,))
        assert {k: len(v) for k, v in labels.items()} == dict.fromkeys(approved, 1)
        with Session(engine) as s:
            rows = s.exec(select(LabelRecord)).all()
            assert sorted(r.document_id for r in rows) == sorted(approved)
            assert all(r.field == "invoice_number" and r.origin == "operator" and r.author == "olga" for r in rows)
            assert all(d.applied_at for d in s.exec(select(ReviewRecord)).all())
            actions = [e.action for e in s.exec(select(AuditEntry).where(AuditEntry.actor == "olga")).all()]
            assert actions.count("queue.approve") == 4 and actions.count("queue.reject") == 1
        view = olga.get(f"/api/documents/{ids[0]}").json()
        assert view["fields"]["invoice_number"]["value"] == docs[ids[0]][1]["fields"]["invoice_number"]
        assert json.dumps(view["result"]["review"]["decision_id"]) == json.dumps(replay.decision_id)
    finally:
        cluster.stop()
