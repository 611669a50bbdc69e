"""What a worker has in hand, on disk, so that the worker after it knows what the last one died of.

Around the CPU-bound work of a stage (parsing, extraction, validation: where a native library or
the memory can take the process down) the worker writes the document's id to
``HOME/inflight/<pid>-<thread>`` and empties the file after: two writes to a file the thread keeps
open, no database, per document and stage (opening, writing and removing a file each time was 6 %
of a known-vendor worker's time). A worker starting up claims the files of processes that are gone (on this host): each
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
        self._files = threading.local()

    def _fd(self) -> int:
        """This thread's file, opened once (a forked child opens its own: the name has its pid)."""
        pid = os.getpid()
        opened = getattr(self._files, "opened", None)
        if opened is None or opened[0] != pid:
            path = self.folder / f"{pid}-{threading.get_ident()}"
            opened = (pid, os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
            self._files.opened = opened
        return opened[1]

    @contextlib.contextmanager
    def holding(self, document_id: str, stage: str):  # type: ignore[no-untyped-def]
        """The document is held in this context; it yields a function that names the stage now at
        work (the record is overwritten in place: never empty while the document is in hand)."""
        fd = self._fd()
        head = json.dumps({"pid": os.getpid(), "host": self.host, "document_id": document_id})[:-1].encode()
        size = 0  # of the file: what this holding wrote, its longest record

        def at(now: str) -> None:
            nonlocal size
            held = b'%s, "stage": %s}' % (head, json.dumps(now).encode())
            os.pwrite(fd, held.ljust(size), 0)  # padded: a shorter record leaves no tail
            size = max(size, len(held))

        os.ftruncate(fd, 0)
        at(stage)
        try:
            yield at
        finally:
            os.ftruncate(fd, 0)  # empty: nothing in hand

    def claim_dead(self) -> list[Crash]:
        """The documents held by processes of this host that are gone; each file is claimed once."""
        crashes = []
        for path in sorted(self.folder.glob("[0-9]*-[0-9]*")):
            try:
                text = path.read_text()
                held: dict = json.loads(text) if text else {"pid": int(path.name.split("-")[0]), "host": self.host}
            except (OSError, ValueError):
                continue
            if held.get("host") != self.host or _alive(int(held.get("pid", 0))):
                continue
            if "document_id" not in held:  # a gone process's empty file: it held nothing
                path.unlink(missing_ok=True)
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
