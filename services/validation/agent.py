"""documents.extracted -> documents.accepted | documents.exceptions."""

from __future__ import annotations

from services import topics
from services.codec import decode
from services.contracts import AcceptedDocument, ExtractedDocument
from services.transport import Emit, Event, StageAgent
from services.validation.logic import STAGE, validate


class ValidateAgent(StageAgent):
    stage = STAGE
    source_topic = topics.EXTRACTED
    done_marker = STAGE

    async def process(self, event: Event) -> Emit | None:
        extracted = decode(ExtractedDocument, event.raw)
        event.document_id, event.original_uri = extracted.doc.document_id, extracted.doc.blob_uri
        if self.already_done(event.document_id):
            return None
        result = validate(extracted, self.rt.ruleset)
        if isinstance(result, AcceptedDocument):
            return Emit(topics.ACCEPTED, result, outcome="accepted")
        return Emit(topics.EXCEPTIONS, result, outcome="exception", reasons=[str(r) for r in result.reasons])
