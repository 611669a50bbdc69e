"""The chain agent's batches (services/transport.py, services/agents.py) on a real database and the
real document path. The broker is the one part played here: a producer that keeps what it is sent
and, where a test says so, refuses a message for its size as a broker with a lower limit than ours
would (the embedded broker cannot be made to; tests/integration covers the rest through it)."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import MessageSizeTooLargeError
from sqlalchemy import event
from sqlmodel import select

from services import topics
from services.agents import ChainAgent
from services.emit import Event
from services.runtime import Runtime
from services.settings import Settings
from services.storage.db import make_engine, session_scope, upgrade
from services.storage.lifecycle import Observation
from services.storage.models import Document, StageTransition
from services.synth import bad
from services.synth.layouts import NORTHWIND
from services.synth.render import generate
from services.transport import EdgeCost


class Producer:
    """Faust's producer as the agents use it: ``send`` answers a future of the broker's ack."""

    def __init__(self) -> None:
        self.refuse: set[tuple[str, str]] = set()  # (topic, key) the broker refuses for its size
        self.sent: list[tuple[str, str, dict]] = []

    async def send(self, topic: str, key: bytes, value: bytes, *_: Any) -> asyncio.Future:
        ack = asyncio.get_running_loop().create_future()
        if (topic, key.decode()) in self.refuse:
            ack.set_exception(MessageSizeTooLargeError())
        else:
            self.sent.append((topic, key.decode(), json.loads(value)))
            ack.set_result(None)
        return ack

    async def send_and_wait(self, *args: Any) -> None:
        await (await self.send(*args))

    def to(self, topic: str) -> list[str]:
        return sorted(key for t, key, _ in self.sent if t == topic)


@pytest.fixture
def chain(tmp_path) -> tuple[ChainAgent, Producer]:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'docflow.db'}",
                        parse_timeout_s=0, parse_memory_mb=0)
    settings.home.mkdir(parents=True)
    upgrade(settings.db_url)
    rt = Runtime(settings)
    producer = Producer()
    return ChainAgent(SimpleNamespace(producer=producer), rt, make_engine(settings.db_url)), producer  # type: ignore[arg-type]


def _invoice(doc_id: str, serial: int, items: int = 2) -> tuple[bytes, bytes]:
    pdf, _ = generate(NORTHWIND, seed=5, serial=serial, items=items)
    return doc_id.encode(), bad.envelope(doc_id, pdf).model_dump_json().encode()


def _states(agent: ChainAgent) -> dict[str, str]:
    with session_scope(agent.engine) as s:
        return {d.document_id: d.state for d in s.exec(select(Document)).all()}


def test_a_batch_ends_each_document_once_repeats_and_broken_envelopes_included(chain) -> None:  # type: ignore[no-untyped-def]
    agent, producer = chain
    first, second = _invoice("inv-1", 1), _invoice("inv-2", 2)
    broken = (b"broken", b'{"document_id": "broken", "content": 42}')
    asyncio.run(agent.handle_many([first, second, first, broken, broken]))

    assert producer.to(topics.ACCEPTED) == ["inv-1", "inv-2"]  # the repeat in the batch walked once
    assert producer.to(topics.DEADLETTER) == ["broken"]
    for topic in (topics.PARSED, topics.CLASSIFIED, topics.EXTRACTED):  # every stage's message, once
        assert producer.to(topic) == ["inv-1", "inv-2"], topic
    assert _states(agent) == {"inv-1": "accepted", "inv-2": "accepted", "broken": "deadletter"}
    with session_scope(agent.engine) as s:
        stages = sorted((t.document_id, t.stage) for t in s.exec(select(StageTransition)).all())
    assert stages == sorted([("broken", "path")] + [(d, stage) for d in ("inv-1", "inv-2")
                                                    for stage in ("intake", "parse", "detect", "extract", "validate")])

    # The batch again, as a worker after a crash gets it: nothing is sent twice.
    sent = len(producer.sent)
    asyncio.run(agent.handle_many([second, first, broken]))
    assert len(producer.sent) == sent


def test_a_message_the_broker_refuses_for_its_size_dead_letters_its_document_alone(chain) -> None:  # type: ignore[no-untyped-def]
    agent, producer = chain
    producer.refuse = {(topics.ACCEPTED, "big")}
    asyncio.run(agent.handle_many([_invoice("big", 3, items=12), _invoice("small", 4)]))

    assert producer.to(topics.ACCEPTED) == ["small"]
    [(_, _, letter)] = [m for m in producer.sent if m[0] == topics.DEADLETTER]
    assert (letter["document_id"], letter["reason"], letter["stage"]) == ("big", "MESSAGE_TOO_LARGE", "validate")
    assert letter["original_uri"]
    assert _states(agent) == {"big": "deadletter", "small": "accepted"}


def test_a_batch_looks_up_templates_and_models_once(chain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    agent, producer = chain
    looks: list[str] = []
    registry, rollout = agent.rt.registry, agent.rt.models
    revision, refresh = registry._revision, rollout.refresh
    monkeypatch.setattr(registry, "_revision", lambda: looks.append("templates") or revision())
    monkeypatch.setattr(rollout, "refresh", lambda: looks.append("models") or refresh())
    asyncio.run(agent.handle_many([_invoice(f"inv-{n}", n) for n in range(1, 5)]))

    assert producer.to(topics.ACCEPTED) == ["inv-1", "inv-2", "inv-3", "inv-4"]
    assert looks == ["templates", "models"]  # where each document's stages looked three times
    asyncio.run(agent.handle_many([_invoice("inv-5", 5)]))
    assert looks == ["templates", "models"] * 2  # the next batch looks again


def test_templates_that_will_not_load_dead_letter_the_batchs_documents_not_lose_them(chain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    agent, producer = chain

    def broken() -> bool:
        raise ValueError("a template version whose rules do not parse")

    monkeypatch.setattr(agent.rt.registry, "refresh", broken)
    asyncio.run(agent.handle_many([_invoice("inv-1", 1), _invoice("inv-2", 2)]))

    assert producer.to(topics.DEADLETTER) == ["inv-1", "inv-2"]
    assert {m[2]["stage"] for m in producer.sent if m[0] == topics.DEADLETTER} == {"detect"}
    assert _states(agent) == {"inv-1": "deadletter", "inv-2": "deadletter"}


def test_a_fetch_waits_by_the_topology_unless_set(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The chain's one hop comes from the submitter, whose message answers a waiting fetch at once:
    500 ms; the stages topology's hops come from the worker itself, and each would wait it out: 50."""
    assert Settings(home=tmp_path).fetch_wait == 500
    assert Settings(home=tmp_path, topology="stages").fetch_wait == 50
    assert Settings(home=tmp_path, topology="stages", fetch_wait_ms=200).fetch_wait == 200


def test_what_the_edge_spends_is_counted_on_each_documents_last_step(chain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The monitors' CPU a document is what the worker spent on it: its steps' and its share of the
    edge's (here every message the broker is sent costs the process 50 ms, as a clock would show)."""
    agent, producer = chain
    spent, process_time, send = [0.0], time.process_time, producer.send

    async def costly(*args: Any) -> asyncio.Future:
        spent[0] += 0.05
        return await send(*args)

    monkeypatch.setattr(time, "process_time", lambda: process_time() + spent[0])
    monkeypatch.setattr(producer, "send", costly)
    asyncio.run(agent.handle_many([_invoice("inv-1", 1), _invoice("inv-2", 2)]))

    with session_scope(agent.engine) as s:
        cpu = {(t.document_id, t.stage): t.cpu_ms for t in s.exec(select(StageTransition)).all()}
        seen = {o.document_id: o.cpu_ms for o in s.exec(select(Observation)).all()}
    for doc in ("inv-1", "inv-2"):
        steps = [cpu[(doc, stage)] or 0.0 for stage in ("intake", "parse", "detect", "extract", "validate")]
        assert 200 <= cpu[(doc, "validate")] < 400  # four messages a document, 50 ms each: its last step has them
        assert all(ms < 200 for ms in steps[:-1])
        assert seen[doc] == pytest.approx(sum(steps), abs=0.05)


def test_the_edges_cpu_is_shared_once_over_a_stream(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What is not shared at once (a batch's last record, a batch without documents) waits for the
    next share; idle time between batches is no one's; of two agents' overlapping batches, what one
    counted of the other's steps is taken back from the other's share."""
    now = [0.0]
    monkeypatch.setattr(time, "process_time", lambda: now[0])

    def at(t: float) -> None:
        now[0] = t

    edge = EdgeCost()
    at(10.0)
    edge.begin()
    at(10.5)
    assert edge.share(0.2, 3) == pytest.approx(0.1)  # 0.5 s, 0.2 of it the steps', over three documents
    at(10.56)
    edge.end()  # its last record: 0.06 s, waits
    at(20.0)
    edge.begin()  # idle since: no one's
    at(20.3)
    assert edge.share(0.1, 2) == pytest.approx((0.06 + 0.3 - 0.1) / 2)
    at(20.31)
    edge.end()
    at(30.0)
    edge.begin()
    at(30.1)
    assert edge.share(0.0, 0) == 0.0  # nothing delivered (redeliveries of ended documents): it waits
    at(30.2)
    edge.end()
    at(40.0)
    edge.begin()
    at(40.4)
    assert edge.share(0.0, 1) == pytest.approx(0.01 + 0.2 + 0.4)

    overlapping = EdgeCost()  # two agents: A from 0 to 2.1, B from 1 to 3.1 (its steps 1.0 s of it)
    at(0.0)
    overlapping.begin()
    at(1.0)
    overlapping.begin()
    at(2.0)
    a = overlapping.share(0.5, 1)  # A's interval holds B's steps so far
    at(2.1)
    overlapping.end()
    at(3.0)
    b = overlapping.share(1.0, 1)
    at(3.1)
    overlapping.end()
    assert (a, b) == (pytest.approx(1.5), 0.0)
    assert a + b + overlapping.pending == pytest.approx(3.1 - 0.5 - 1.0)  # all of it, once


def test_a_batch_registers_and_claims_together_and_the_later_of_two_is_the_duplicate(chain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A batch asks the database twice for all its documents (services/books.py), and each document
    gets the answer it would have had one after the other."""
    agent, _ = chain
    commits: list[str] = []
    event.listen(agent.engine, "commit", lambda connection: commits.append("commit"))
    same_bytes = bad.envelope("copy", generate(NORTHWIND, seed=5, serial=1, items=2)[0]).model_dump_json().encode()
    unreadable = bad.envelope("garbage", b"%PDF-1.4 not a pdf at all").model_dump_json().encode()
    walked = asyncio.run(agent.steps_many([
        Event(key=key, raw=raw, document_id=key.decode()) for key, raw in
        [_invoice("inv-1", 1), (b"copy", same_bytes), _invoice("inv-1b", 1, items=3), (b"garbage", unreadable),
         _invoice("inv-2", 2)]]))

    assert len(commits) == 2  # one registration, one claim, for the five
    ends = {steps[0][1].message.doc.document_id if steps[0][1].topic == topics.PARSED else steps[-1][1].topic:
            (steps[-1][1].topic, steps[-1][1].reasons) for steps in walked if steps}
    assert ends["inv-1"] == (topics.ACCEPTED, [])
    assert ends["inv-2"] == (topics.ACCEPTED, [])
    assert ends["inv-1b"] == (topics.EXCEPTIONS, ["DUPLICATE_INVOICE"])  # inv-1's number, later in the batch
    [copy] = [steps for steps in walked if steps and steps[0][1].topic == topics.EXCEPTIONS]
    assert [(stage, emit.reasons) for stage, emit in copy] == [("intake", ["DUPLICATE_CONTENT"])]
    [garbage] = [steps for steps in walked if steps and steps[-1][1].topic == topics.DEADLETTER]
    assert garbage[-1][1].message.document_id == "garbage"
    with session_scope(agent.engine) as s:  # registered before its parse, its bytes kept
        row = s.get(Document, "garbage")
        assert row is not None and row.blob_uri and agent.rt.blobs.exists(row.blob_uri)
    cpu = {steps[0][1].message.doc.document_id: steps[0][1].cpu_s for steps in walked  # type: ignore[union-attr]
           if steps and steps[0][1].topic == topics.PARSED}
    assert set(cpu) == {"inv-1", "inv-1b", "inv-2"} and all(cpu.values())


def test_a_stage_whose_pages_a_power_cut_took_parses_them_again(chain) -> None:  # type: ignore[no-untyped-def]
    """The stages topology's detect agent reads documents.parsed; the pages' claim check is stored
    unsynced, and where it is gone the agent makes the pages again from the document's bytes."""
    from services.agents import PathAgent
    from services.stages import PATH
    from services.storage import claims

    agent, producer = chain
    asyncio.run(agent.handle_many([_invoice("inv-1", 1)]))
    [(_, _, parsed)] = [m for m in producer.sent if m[0] == topics.PARSED]
    for path in (agent.rt.settings.home / "blobs" / "sha256").rglob("*"):
        if path.is_file() and path.read_bytes().startswith(b"["):  # the pages' JSON, not the PDF
            path.unlink()
    claims._recent.clear()  # a worker after a restart keeps nothing in hand
    detect = PathAgent(agent.app, agent.rt, agent.engine, PATH[1])
    with session_scope(agent.engine) as s:  # as if this document had not been detected yet
        for t in s.exec(select(StageTransition).where(StageTransition.document_id == "inv-1")).all():
            s.delete(t)
        row = s.get(Document, "inv-1")
        assert row is not None
        row.state = "parsed"
    producer.sent.clear()
    asyncio.run(detect.handle(b"inv-1", json.dumps(parsed).encode()))
    assert producer.to(topics.CLASSIFIED) == ["inv-1"] and producer.to(topics.DEADLETTER) == []
