"""documents.extracted -> documents.accepted | documents.exceptions."""

from __future__ import annotations

from sqlmodel import Session

from services import topics
from services.contracts import AcceptedDocument, ExtractedDocument, ValidatedDocument
from services.monitoring import store as monitoring
from services.storage import crud
from services.storage.db import session_scope
from services.transport import Emit, Event, StageAgent
from services.validation.logic import STAGE, duplicate, invoice_key, validate


class ValidateAgent(StageAgent):
    stage = STAGE
    source_topic = topics.EXTRACTED
    done_marker = STAGE

    async def process(self, event: Event) -> Emit | None:
        extracted = self.begin(event, ExtractedDocument)
        if extracted is None:
            return None
        result = validate(extracted, self.rt.ruleset)
        key = invoice_key(extracted)
        if isinstance(result, AcceptedDocument) and key is not None:
            with session_scope(self.engine) as s:
                holder = crud.claim_invoice(s, vendor_key=key[0], invoice_number=key[1],
                                            document_id=event.document_id)
            if holder is not None:
                result = duplicate(result, holder)
        if isinstance(result, AcceptedDocument):
            return Emit(topics.ACCEPTED, result, outcome="accepted")
        return Emit(topics.EXCEPTIONS, result, outcome="exception", reasons=[str(r) for r in result.reasons])

    def finish(self, session: Session, event: Event, emit: Emit) -> None:
        super().finish(session, event, emit)
        if isinstance(emit.message, ValidatedDocument):
            monitoring.outcome(session, document_id=event.document_id, result=emit.message, outcome=emit.outcome,
                               reasons=emit.reasons)
