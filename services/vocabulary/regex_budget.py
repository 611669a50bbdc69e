"""One document's regex time: set once per document by the extraction (``budget``), asked by
every search of the rules engine and the candidate ranking (``remaining``)."""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

# The regex time one document may spend in all its searches together (set per document by the
# extraction, ``budget``): each search has its own timeout too, but a page of pathological spans
# would otherwise spend that timeout once per span and anchor (a 3 KB PDF had taken 112 s). The
# budget counts the CPU time of the extraction's thread, so a loaded machine does not spend it.
_BUDGET: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar("docflow_regex_budget",
                                                                                     default=None)


@contextlib.contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Every regex search inside shares ``seconds`` of CPU; once spent, the rest find nothing."""
    token = _BUDGET.set((time.thread_time(), seconds))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def remaining(timeout: float) -> float:
    """The time a search may take: its own timeout, or what the document's budget has left (0: none)."""
    found = _BUDGET.get()
    if found is None:
        return timeout
    started, seconds = found
    return max(0.0, min(timeout, seconds - (time.thread_time() - started)))
