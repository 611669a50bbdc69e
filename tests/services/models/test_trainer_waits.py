"""Retraining waits for decisions already taken: a correction is labelled with the time it was taken
but written when the review stage applies it, so a dataset cut between the two would miss it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.storage.db import session_scope
from services.storage.models import ReviewRecord
from services.trainer.store import REVIEW_WAIT, reviews_in_flight


def test_decisions_not_yet_applied_hold_the_next_dataset(engine) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        assert not reviews_in_flight(s, now)
        s.add(ReviewRecord(decision_id="d1", document_id="doc-1", decision="approve", reviewer="olga", created_at=now))
        s.add(ReviewRecord(decision_id="d0", document_id="doc-0", decision="approve", reviewer="olga",
                           created_at=now - REVIEW_WAIT - timedelta(minutes=1)))  # a stage long down: not waited for
    with session_scope(engine) as s:
        assert reviews_in_flight(s, now)
        row = s.get(ReviewRecord, "d1")
        row.applied_at = now
        s.add(row)
    with session_scope(engine) as s:
        assert not reviews_in_flight(s, now)
