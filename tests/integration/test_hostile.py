"""Hostile documents through a real broker and a real worker: each of the kinds in
services/synth/hostile.py ends in its terminal place with its reason, within its budget; the
worker is never restarted and stays within its memory budget; good invoices published behind
them all are read.

The budgets are the product's, made small for CI (hostile.TEST_ENV): parsing 8 s and 1 GiB in
the sandbox, messages 1 MiB.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services import topics
from services.cluster import LocalCluster
from services.storage.db import make_engine
from services.storage.models import StageTransition
from services.synth import bad, hostile
from services.synth.layouts import NORTHWIND
from services.synth.render import generate
from tests.integration.review_world import FAST_REBALANCE

pytestmark = pytest.mark.integration
GOOD = 12
WORKER_MEMORY_MB = 2_500  # the worker itself (model loaded): what it may reach on hostile input
PARSE_S = float(hostile.TEST_ENV["DOCFLOW_PARSE_TIMEOUT_S"])
STAGE_S = 20.0  # any stage after parsing, on one hostile document (regex budget, model windows, XML limits),
# with room for a loaded CI machine


def _kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{key} not in /proc/{pid}/status")


def test_hostile_documents_end_in_their_place_within_budget(tmp_path: Path) -> None:
    assert len(hostile.CASES) >= 25 and len({c.name for c in hostile.CASES}) == len(hostile.CASES)
    db_url = f"sqlite:///{tmp_path / 'docflow.db'}"
    cluster = LocalCluster(home=tmp_path / "home", db_url=db_url, partitions=2, env=FAST_REBALANCE | hostile.TEST_ENV)
    cluster.start()
    try:
        messages = [(f"hostile-{c.name}", c.build(f"hostile-{c.name}")) for c in hostile.CASES]
        goods = {f"good-{n}": generate(NORTHWIND, seed=808, serial=n)[0] for n in range(GOOD)}
        messages += [(i, bad.envelope(i, pdf).model_dump_json().encode()) for i, pdf in goods.items()]
        worker = cluster.start_worker("w1")
        published = time.time()
        cluster.publish(messages)
        wanted = {key for key, _ in messages}
        records = cluster.terminal(wanted, timeout=600, settle=3)

        assert worker.poll() is None and cluster.workers["w1"] is worker, "the worker was never restarted"
        worker_peak_mb = _kb(worker.pid, "VmHWM") / 1024
        sandboxes = subprocess.run(["pgrep", "-P", str(worker.pid), "-f", "services.parsing.sandbox"],
                                   capture_output=True, text=True).stdout.split()
        limits = Path(f"/proc/{sandboxes[0]}/limits").read_text() if sandboxes else ""

        wrong = {}
        for case in hostile.CASES:
            key = f"hostile-{case.name}"
            got = records.get(key, [])
            topic = {"accepted": topics.ACCEPTED, "exception": topics.EXCEPTIONS, "deadletter": topics.DEADLETTER}
            if [r.topic for r in got] != [topic[case.state]]:
                wrong[case.name] = [r.topic for r in got]
                continue
            payload = got[0].payload
            reasons = [payload["reason"]] if case.state == "deadletter" else payload.get("reasons", [])
            said = reasons == [case.reason] if case.state == "deadletter" else case.reason in [*reasons, None]
            if not said:
                wrong[case.name] = reasons
        assert not wrong, wrong
        for key in goods:
            assert [r.topic for r in records[key]] == [topics.ACCEPTED], (key, records.get(key))

        with Session(make_engine(db_url)) as s:
            transitions = s.exec(select(StageTransition)
                                 .where(StageTransition.document_id.startswith("hostile-"))).all()
        over = {(t.document_id, t.stage): t.duration_ms for t in transitions
                if (t.duration_ms or 0) / 1000 > (PARSE_S + 2 if t.stage == "intake" else STAGE_S)}
        assert not over, f"stages over their budget (ms): {over}"

        latencies = sorted(r[0].timestamp_ms / 1000 - published for k, r in records.items() if k in goods)
        hostile_work = sum((t.duration_ms or 0) for t in transitions) / 1000
        print(f"\nhostile kinds {len(hostile.CASES)}; their stage time {hostile_work:.1f} s in all; "
              f"good invoices behind them: latency median {statistics.median(latencies):.1f} s, "
              f"max {latencies[-1]:.1f} s; worker peak {worker_peak_mb:.0f} MB")
        # Behind every hostile document, a good one waits at most for the budgets spent ahead of it.
        assert latencies[-1] <= hostile_work + 60, (latencies, hostile_work)
        assert worker_peak_mb < WORKER_MEMORY_MB, worker_peak_mb
        budget = int(hostile.TEST_ENV["DOCFLOW_PARSE_MEMORY_MB"]) * 1024 * 1024
        assert f"Max address space         {budget}" in limits, limits
    finally:
        cluster.stop()
