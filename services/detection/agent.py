"""documents.parsed -> documents.classified."""

from __future__ import annotations

from services import topics
from services.contracts import ClassifiedDocument, ParsedDocument
from services.detection.logic import STAGE, detect
from services.storage import crud
from services.storage.models import DocumentState
from services.transport import Emit, Event, StageAgent


class DetectAgent(StageAgent):
    stage = STAGE
    source_topic = topics.PARSED
    done_marker = STAGE

    async def process(self, event: Event) -> Emit | None:
        parsed = self.begin(event, ParsedDocument)
        if parsed is None:
            return None
        self.rt.refresh_templates()
        detection = detect(parsed, self.rt.templates)
        classified = ClassifiedDocument(**dict(parsed), detection=detection)

        def persist(s):  # type: ignore[no-untyped-def]
            crud.advance(s, document_id=event.document_id, state=DocumentState.CLASSIFIED,
                         template_id=detection.template_id, template_version=detection.template_version)

        return Emit(topics.CLASSIFIED, classified, outcome=detection.status, persist=persist)
