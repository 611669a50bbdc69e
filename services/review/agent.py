"""documents.reviewed -> documents.accepted (+ labels), or the rejection recorded.

A decision is applied once per ``decision_id``: the gate is the decision's ``applied_at``,
set in the same transaction as its effects, so a redelivered decision (after a worker crash
or a rebalance) finds it applied and is skipped.
"""

from __future__ import annotations

from sqlmodel import Session

from services import topics
from services.codec import decode
from services.contracts import Reason, ReviewDecision
from services.emit import Emit, Event
from services.monitoring import metrics
from services.review import store
from services.review.logic import STAGE, approve, labels
from services.runtime import Runtime
from services.storage.db import session_scope
from services.storage.models import Document
from services.transport import StageAgent


class ReviewAgent(StageAgent):
    rt: Runtime  # the rule set approvals are validated against
    stage = STAGE
    source_topic = topics.REVIEWED
    done_marker = STAGE

    async def process(self, event: Event) -> Emit | None:
        decision = decode(ReviewDecision, event.raw)
        event.document_id = decision.document_id
        with session_scope(self.engine) as s:
            if store.is_applied(s, decision.decision_id):
                return None
            doc = s.get(Document, decision.document_id)
            document = doc.validated() if doc is not None else None
        if document is None:
            return self.dead_letter(event, Reason.REVIEW_UNKNOWN_DOCUMENT,
                                    "a decision on a document with no extraction on record")

        if decision.decision == "reject":
            return Emit(None, None, outcome="rejected",
                        persist=lambda w: w.after(lambda s: self._apply(s, decision, None, [])))
        accepted = approve(document, decision, self.rt.ruleset)
        corrections = labels(document, decision)
        return Emit(topics.ACCEPTED, accepted, outcome="accepted", also=[(topics.LABELS, x) for x in corrections],
                    persist=lambda w: w.after(lambda s: self._apply(s, decision, accepted, corrections)),
                    ends=False)

    @staticmethod
    def _apply(session: Session, decision: ReviewDecision, accepted, corrections) -> None:  # type: ignore[no-untyped-def]
        if store.apply(session, decision=decision, accepted=accepted, labels=corrections):
            metrics.TERMINAL.labels("accepted" if accepted else "rejected").inc()
