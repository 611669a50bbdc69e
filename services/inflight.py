"""What a worker has in hand, on disk, so that the worker after it knows what the last one died of.

Around the CPU-bound work of a stage (parsing, extraction, validation: where a native library or
the memory can take the process down) the worker writes the document's id to
``HOME/inflight/<pid>-<thread>`` and removes it after: a file write, no database, per document
and stage. A worker starting up claims the files of processes that are gone (on this host): each
names a document in hand when its worker died. That is a crash, recorded in the audit log
(``document.crash``); a document with ``DOCFLOW_MAX_CRASHES`` of them is dead-lettered as
``POISON`` at once, and the events the broker redelivers for it are skipped (it is terminal):
one document can no longer stop a partition by killing every worker that reads it.

The ledger is here; what a starting worker makes of it is services/reconcile/crashes.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

ACTION = "document.crash"


@dataclass(frozen=True)
class Crash:
    document_id: str
    stage: str
    pid: int


class Ledger:
    def __init__(self, home: Path):
        self.folder = Path(home) / "inflight"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.host = socket.gethostname()

    def _path(self) -> Path:
        return self.folder / f"{os.getpid()}-{threading.get_ident()}"

    @contextlib.contextmanager
    def holding(self, document_id: str, stage: str):  # type: ignore[no-untyped-def]
        path = self._path()
        path.write_text(json.dumps({"pid": os.getpid(), "host": self.host, "document_id": document_id,
                                    "stage": stage}))
        try:
            yield
        finally:
            path.unlink(missing_ok=True)

    def claim_dead(self) -> list[Crash]:
        """The documents held by processes of this host that are gone; each file is claimed once."""
        crashes = []
        for path in sorted(self.folder.glob("[0-9]*-[0-9]*")):
            try:
                held = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if held.get("host") != self.host or _alive(int(held.get("pid", 0))):
                continue
            claimed = path.with_name(f".claimed-{os.getpid()}-{path.name}")
            try:
                os.rename(path, claimed)  # atomic: of two workers starting together, one counts it
            except OSError:
                continue
            claimed.unlink(missing_ok=True)
            crashes.append(Crash(str(held["document_id"]), str(held.get("stage", "")), int(held["pid"])))
        return crashes


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
