"""Parsing in a child process with a wall-time and a memory budget per document.

A hostile PDF (a content-stream bomb, a page tree built to make the parser loop, a 40,000-row
page) costs what the budget allows and no more: the child runs under ``RLIMIT_AS`` (its
OCR engine inherits it), answers within ``timeout_s`` or is killed and replaced, and the
worker that asked goes on with the documents behind. Over budget is a reasoned dead letter
(``PARSE_TIMEOUT``, ``PARSE_MEMORY_EXCEEDED``), never a worker that dies or hangs.

One long-lived child per worker process (starting it costs ~0.5 s, once); requests are
length-prefixed pickles over its stdin, answers length-prefixed JSON over its stdout, validated
against the contract: the child reads hostile bytes, so what it says is data, never a pickle the
worker would run (and JSON is half a pickle's cost here: 0.22 ms a parsed document against 0.45).
A parse's pages come in a frame of their own after its answer: the worker validates them, and the
very bytes become their claim check in the blob store (``Parsed.pages_json``), not written again.
Run as ``python -m services.parsing.sandbox MEMORY_MB``.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any, Literal

from pydantic import BaseModel

from services.contracts import PAGES, DocumentRef, ParsedDocument, Reason
from services.errors import UnreadableDocument
from services.parsing.logic import MAX_WORDS_PER_PAGE

_HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class Parsed:
    document: ParsedDocument
    cpu_s: float  # the child's CPU time for this document, its OCR engine's included
    peak_mb: float  # the child's peak resident memory so far
    pages_json: bytes | None = None  # the document's pages as JSON, as validated into ``document``


class Answer(BaseModel):
    """The child's word on one document (an "ok" one's pages follow in a frame of their own)."""

    kind: Literal["ok", "memory", "error"]
    parsed: ParsedDocument | None = None
    cpu_s: float = 0.0
    peak_mb: float = 0.0
    reason: str = ""
    message: str = ""
    page: int | None = None


class ParseSandbox:
    def __init__(self, *, timeout_s: float, memory_mb: int):
        self.timeout_s, self.memory_mb = timeout_s, memory_mb
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.restarts = 0

    def parse(self, data: bytes, doc: DocumentRef, *, max_pages: int, max_words: int = MAX_WORDS_PER_PAGE) -> Parsed:
        """``parse`` in the child; raises ``UnreadableDocument`` as it would, or for a budget spent."""
        with self._lock:
            proc = self._child()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                _write(proc.stdin, (data, doc.model_dump(mode="json"), max_pages, max_words))
                deadline = time.monotonic() + self.timeout_s
                answer = Answer.model_validate_json(_read_frame(proc.stdout, deadline))
                pages_json = _read_frame(proc.stdout, deadline) if answer.kind == "ok" else None
            except TimeoutError:
                self._kill()
                raise UnreadableDocument(
                    Reason.PARSE_TIMEOUT, f"parsing took over {self.timeout_s:g} s of wall time") from None
            except (EOFError, BrokenPipeError, OSError):
                code = self._kill()
                if code in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGSEGV):  # an allocation refused in C
                    raise UnreadableDocument(Reason.PARSE_MEMORY_EXCEEDED, (
                        f"the parser died (signal {-code}) within its memory budget of {self.memory_mb} MB")) from None
                raise UnreadableDocument(Reason.PDF_CORRUPT, f"the parser died on it (exit {code})") from None
        if answer.kind == "ok" and answer.parsed is not None and pages_json is not None:
            answer.parsed.pages = PAGES.validate_json(pages_json)
            return Parsed(answer.parsed, cpu_s=answer.cpu_s, peak_mb=answer.peak_mb, pages_json=pages_json)
        if answer.kind == "memory":
            self._kill()  # a MemoryError can leave the heap fragmented: start clean
            raise UnreadableDocument(Reason.PARSE_MEMORY_EXCEEDED,
                                     f"parsing needed over {self.memory_mb} MB of memory")
        raise UnreadableDocument(Reason(answer.reason), answer.message, page=answer.page)

    def close(self) -> None:
        with self._lock:
            self._kill()

    def _child(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                self.restarts += 1
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "services.parsing.sandbox", str(self.memory_mb)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
                env=os.environ | {"OMP_NUM_THREADS": "1"},
            )
        return self._proc

    def _kill(self) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()
        return code


def _write(stream: IO[bytes], value: Any) -> None:
    _write_frame(stream, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _read(stream: IO[bytes], deadline: float | None = None) -> Any:
    return pickle.loads(_read_frame(stream, deadline))


def _read_frame(stream: IO[bytes], deadline: float | None = None) -> bytes:
    header = _read_exact(stream, _HEADER.size, deadline)
    return _read_exact(stream, _HEADER.unpack(header)[0], deadline)


def _write_frame(stream: IO[bytes], *bodies: bytes) -> None:
    """Each body length-prefixed, all in one write."""
    stream.write(b"".join(part for body in bodies for part in (_HEADER.pack(len(body)), body)))
    stream.flush()


def _read_exact(stream: IO[bytes], size: int, deadline: float | None) -> bytes:
    fd, chunks, left = stream.fileno(), [], size
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def serve(memory_mb: int) -> None:
    """The child's loop: one document in, its parse (or the reason it has none) out, until EOF."""
    from services.parsing.logic import parse

    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing the parsers print may reach the answer stream
    while True:
        try:
            data, ref, max_pages, max_words = _read(requests)
        except EOFError:
            return
        started, pages = _cpu_s(), b""
        try:
            parsed = parse(data, DocumentRef.model_validate(ref), max_pages=max_pages, max_words=max_words)
            pages = PAGES.dump_json(parsed.pages)  # as the worker will store them: its claim check
            answer = Answer(kind="ok", parsed=parsed.model_copy(update={"pages": []}), cpu_s=_cpu_s() - started,
                            peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        except MemoryError:
            answer = Answer(kind="memory")
        except UnreadableDocument as exc:
            answer = Answer(kind="error", reason=str(exc.reason), message=exc.message, page=exc.page)
        except RecursionError:
            answer = Answer(kind="error", reason=str(Reason.PDF_CORRUPT), message="the PDF nests too deep to read")
        except Exception as exc:  # a parser bug: the document is dead-lettered with its type, the child lives
            answer = Answer(kind="error", reason=str(Reason.INTERNAL_ERROR), message=f"{type(exc).__name__} in parse")
        del data
        try:
            frames = [answer.model_dump_json().encode(), *([pages] if answer.kind == "ok" else [])]
        except MemoryError:
            frames = [Answer(kind="memory").model_dump_json().encode()]
        _write_frame(answers, *frames)


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
