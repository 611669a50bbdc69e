"""What a stage answers and what the edge knows of the event in hand: the words every stage, the
in-process loop and the agents share (no stage, no transport, no runtime in here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services import topics
from services.contracts import Contract, Reason
from services.errors import UnreadableDocument


@dataclass
class Event:
    """What is known about the document in hand, filled in as its stages learn it."""

    key: bytes | None
    raw: bytes
    document_id: str
    filename: str | None = None
    original_uri: str | None = None
    # CPU and wall seconds spent on it before its walk (its batch's intake, done ahead:
    # services/books.py), counted on its first step.
    ahead_cpu_s: float = 0.0
    ahead_s: float = 0.0


@dataclass
class Emit:
    """A step's result: the messages to send (``also`` first, then ``topic``; a step may have
    nothing to send), and what to write once the broker has them."""

    topic: str | None
    message: Contract | None
    outcome: str = "ok"
    reasons: list[str] = field(default_factory=list)
    # What to write: given the batch's services.storage.writes.Writes, it says what (one transaction).
    persist: Callable[[Any], None] | None = None
    also: list[tuple[str, Contract]] = field(default_factory=list)
    # A message to a terminal topic ends the document: sent only while it has not ended, and its end
    # recorded here. False where ``persist`` moves the document on itself under a gate of its own (a
    # review decision, applied once by its id, takes an exception to accepted).
    ends: bool = True
    # CPU seconds spent outside this thread (the parse sandbox's child), and, where a chain of steps
    # ran in one event, this step's own CPU and wall seconds (else the event's are recorded).
    child_cpu_s: float = 0.0
    cpu_s: float | None = None
    seconds: float | None = None
    # (vendor key, invoice number) of an accepted invoice whose number its batch claims after its
    # walk (services/books.py); None once claimed, or where the step claimed it itself.
    claim: tuple[str, str] | None = None

    @property
    def terminal(self) -> bool:
        return self.topic in topics.TERMINAL or (self.topic is None and self.message is None)


def failure(exc: Exception, stage: str) -> tuple[str, Reason, str]:
    """The stage, reason and message a document's failure is dead-lettered with: an unreadable
    document says why; anything else is a bug, named by its type (never its text, which may quote
    the document)."""
    if isinstance(exc, UnreadableDocument):
        return exc.stage or stage, exc.reason, exc.message
    return stage, Reason.INTERNAL_ERROR, f"{type(exc).__name__} in {stage}"
