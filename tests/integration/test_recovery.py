"""The embedded broker killed mid-stream, and `docflow up` killed as a whole mid-stream: every
document that reached the database ends terminal.

Both run the real `docflow up` (its own process group, the memory-only Tansu broker, a worker,
the web server, trainer, monitor and reconciler) on a SQLite home, and submit with the real
`docflow submit`, which stores every document (blob and row) before publishing it.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.storage.db import make_engine
from services.storage.models import AuditEntry, Document, DocumentState
from services.synth.layouts import LAYOUTS
from services.synth.render import generate
from tests.integration.up_world import Up

pytestmark = pytest.mark.integration
PER_VENDOR = 40  # 120 invoices: enough that a kill at the third result finds most unfinished


def invoices(folder: Path, seed: int) -> int:
    folder.mkdir(parents=True)
    count = 0
    for vendor, layout in sorted(LAYOUTS.items()):
        for serial in range(PER_VENDOR):
            pdf, _ = generate(layout, seed=seed, serial=serial, items=1 + serial % 6)
            (folder / f"{vendor}-{serial:02d}.pdf").write_bytes(pdf)
            count += 1
    return count


def states(home: Path) -> dict[str, str]:
    return {d: state for d, (state, _) in outcomes(home).items()}


def outcomes(home: Path) -> dict[str, tuple[str, list[str]]]:
    engine = make_engine(f"sqlite:///{home / 'docflow.db'}")
    try:
        with Session(engine) as s:
            rows = s.exec(select(Document.document_id, Document.state, Document.reasons)).all()
            return {d: (state, list(reasons)) for d, state, reasons in rows}
    finally:
        engine.dispose()


def assert_read_once(home: Path, total: int) -> None:
    """Every document ended as an invoice read (accepted, or an exception for what it says), none
    as a second copy of itself or a failure of the system."""
    ended = outcomes(home)
    assert len(ended) == total
    assert {state for state, _ in ended.values()} <= {"accepted", "exception"}, Counter(s for s, _ in ended.values())
    reasons = Counter(r for _, rs in ended.values() for r in rs)
    assert not {"DUPLICATE_CONTENT", "DUPLICATE_INVOICE", "INTERNAL_ERROR", "POISON"} & set(reasons), reasons
    assert sum(state == "accepted" for state, _ in ended.values()) >= total * 0.9, reasons


def wait_states(home: Path, done: callable, timeout: float, every: float = 0.3) -> dict[str, str]:  # type: ignore[valid-type]
    deadline = time.monotonic() + timeout
    while True:
        now = states(home)
        if done(now) or time.monotonic() > deadline:
            return now
        time.sleep(every)


def redrives(home: Path) -> list[AuditEntry]:
    engine = make_engine(f"sqlite:///{home / 'docflow.db'}")
    with Session(engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == "document.redrive")).all())


def mid_stream(home: Path, total: int) -> dict[str, str]:
    """Wait until some documents ended and many have not."""
    now = wait_states(home, lambda st: sum(v in DocumentState.TERMINAL for v in st.values()) >= 3, 120, every=0.05)
    unfinished = sum(v not in DocumentState.TERMINAL for v in now.values())
    assert len(now) == total and unfinished >= total // 3, Counter(now.values())
    return now


def test_the_embedded_broker_killed_mid_stream(tmp_path: Path) -> None:
    total = invoices(tmp_path / "pdfs", seed=31)
    up = Up(tmp_path / "home").start()
    try:
        broker_pid = up.wait_health(200, 10)["parts"]["broker"]["pid"]
        up.submit(tmp_path / "pdfs")
        before = mid_stream(up.home, total)
        os.kill(broker_pid, signal.SIGKILL)
        down = up.wait_health(503, timeout=10)
        assert "broker" in down["down"] and down["parts"]["broker"]["up"] is False, down
        back = up.wait_health(200, timeout=120)
        assert back["parts"]["broker"]["restarts"] == 1 and back["parts"]["broker"]["pid"] != broker_pid
        assert back["parts"]["worker-0"]["up"] and back["parts"]["worker-0"]["restarts"] == 1

        wait_states(up.home, lambda st: all(v in DocumentState.TERMINAL for v in st.values()), 240)
        assert_read_once(up.home, total)
        redriven = {e.object_id for e in redrives(up.home)}
        assert redriven and redriven <= {d for d, v in before.items() if v not in DocumentState.TERMINAL}
        assert all(e.actor == "supervisor" for e in redrives(up.home))
    finally:
        up.stop()


def test_docflow_up_killed_whole_mid_stream_and_started_again(tmp_path: Path) -> None:
    total = invoices(tmp_path / "pdfs", seed=37)
    home = tmp_path / "home"
    first = Up(home).start()
    try:
        first.submit(tmp_path / "pdfs")
        before = mid_stream(home, total)
        first.kill_all()
    finally:
        first.stop()
    unfinished = {d for d, v in states(home).items() if v not in DocumentState.TERMINAL}
    assert unfinished, "the kill came mid-stream"

    second = Up(home).start()
    try:
        wait_states(home, lambda st: all(v in DocumentState.TERMINAL for v in st.values()), 240)
        assert len(before) == total
        assert_read_once(home, total)
        assert {e.object_id for e in redrives(home)} == unfinished  # exactly the ones the kill left
    finally:
        second.stop()
