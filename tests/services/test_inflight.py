"""The in-flight ledger: what a thread holds is on disk while it holds it, and only then."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from services.inflight import Ledger


def test_a_thread_holds_a_document_on_disk_and_lets_it_go(tmp_path):
    ledger = Ledger(tmp_path)
    path = tmp_path / "inflight" / f"{os.getpid()}-{threading.get_ident()}"
    with ledger.holding("doc-1", "parse"):
        assert json.loads(path.read_text())["document_id"] == "doc-1"
    assert path.read_text() == ""
    with ledger.holding("doc-2", "extract"):  # the same file, overwritten: no earlier document left in it
        assert json.loads(path.read_text()) | {"pid": 0} == {
            "pid": 0, "host": ledger.host, "document_id": "doc-2", "stage": "extract"}
    assert ledger.claim_dead() == []  # this process is alive


def test_what_a_dead_process_held_is_claimed_once_and_an_empty_file_is_cleared(tmp_path):
    code = ("import os, sys; from services.inflight import Ledger; l = Ledger(sys.argv[1]); "
            "h = l.holding('doc-held', 'extract'); h.__enter__(); "
            "w = l.holding('doc-done', 'parse'); "
            "import threading; t = threading.Thread(target=lambda: (w.__enter__(), w.__exit__(None, None, None))); "
            "t.start(); t.join(); os._exit(9)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=False)
    files = sorted((tmp_path / "inflight").iterdir())
    assert len(files) == 2  # one thread died holding, one had let go
    crashes = Ledger(tmp_path).claim_dead()
    assert [(c.document_id, c.stage) for c in crashes] == [("doc-held", "extract")]
    assert list((tmp_path / "inflight").iterdir()) == []
    assert Ledger(tmp_path).claim_dead() == []
