"""documents.classified -> documents.extracted."""

from __future__ import annotations

from services import topics
from services.contracts import ClassifiedDocument
from services.extraction.logic import STAGE, extract
from services.storage import crud
from services.storage.models import DocumentState
from services.transport import Emit, Event, StageAgent, in_thread


class ExtractAgent(StageAgent):
    stage = STAGE
    source_topic = topics.CLASSIFIED
    done_marker = STAGE

    async def process(self, event: Event) -> Emit | None:
        classified = self.begin(event, ClassifiedDocument)
        if classified is None:
            return None
        self.rt.refresh_templates()
        extracted = await in_thread(extract, classified, self.rt.extraction)

        def persist(s):  # type: ignore[no-untyped-def]
            crud.save_extractions(s, document_id=event.document_id, fields=extracted.fields)
            crud.advance(s, document_id=event.document_id, state=DocumentState.EXTRACTED)

        return Emit(topics.EXTRACTED, extracted, persist=persist)
