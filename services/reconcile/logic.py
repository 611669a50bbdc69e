"""What becomes of a document that has not reached a terminal place: pure decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.storage.models import DocumentState

# States the stream leaves a document in between two stages; a sample never enters the stream.
UNFINISHED = (DocumentState.RECEIVED, DocumentState.PARSED, DocumentState.CLASSIFIED, DocumentState.EXTRACTED)


class Verdict(StrEnum):
    REDRIVE = "redrive"  # publish it again from its stored bytes
    POISON = "poison"    # re-driven often enough: dead-letter it, never retry for ever
    LOST = "lost"        # no stored bytes to start again from: dead-letter it


@dataclass(frozen=True)
class Unfinished:
    document_id: str
    state: str
    blob_uri: str | None
    stored: bool  # the blob is in the store
    updated_at: datetime
    redrives: int  # re-drives so far, automatic and by hand


def verdict(doc: Unfinished, *, max_redrives: int) -> Verdict:
    if not doc.blob_uri or not doc.stored:
        return Verdict.LOST
    if doc.redrives >= max_redrives:
        return Verdict.POISON
    return Verdict.REDRIVE


def explain(doc: Unfinished, verdict: Verdict) -> str:
    if verdict is Verdict.POISON:
        return (f"re-driven {doc.redrives} times and still never reached a terminal place "
                f"(it stopped at {doc.state})")
    if verdict is Verdict.LOST:
        return f"stopped at {doc.state} and its bytes are not in the blob store: nothing to re-drive from"
    return f"stopped at {doc.state}; re-driven from its stored bytes"
