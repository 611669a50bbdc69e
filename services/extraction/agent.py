"""documents.classified -> documents.extracted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services import topics
from services.contracts import ClassifiedDocument, ExtractedDocument
from services.extraction.logic import STAGE, Context, extract
from services.models.rollout import agreement
from services.monitoring import store as monitoring
from services.monitoring.features import observe
from services.storage import crud
from services.storage.models import DocumentState
from services.transport import Emit, Event, StageAgent, in_thread
from services.validation.logic import check
from services.validation.rules import RuleSet


def read_in_shadow(classified: ClassifiedDocument, served: ExtractedDocument, ctx: Context, shadow: Any,
                   ruleset: RuleSet) -> dict:
    """The whole extraction again with the shadow model in place, and what validation would say of
    it: stored beside the served reading, never sent on."""
    found = extract(classified, replace(ctx, model=shadow))
    verdict, served_verdict = check(found, ruleset), check(served, ruleset)

    def fields(doc: ExtractedDocument) -> dict:
        return {name: {"value": fv.value, "confidence": round(fv.confidence, 4)} for name, fv in doc.fields.items()}

    return {"model_version": shadow.version, "served_by": served.model_version,
            "fields": fields(found) | {"_agreement": agreement(served.fields, found.fields)},
            "served": fields(served), "outcome": "accepted" if verdict.ok else "exception",
            "served_outcome": "accepted" if served_verdict.ok else "exception"}


class ExtractAgent(StageAgent):
    stage = STAGE
    source_topic = topics.CLASSIFIED
    done_marker = STAGE

    async def process(self, event: Event) -> Emit | None:
        classified = self.begin(event, ClassifiedDocument)
        if classified is None:
            return None
        self.rt.refresh_templates()
        self.rt.refresh_models()
        choice = self.rt.models.choose(event.document_id)
        ctx = replace(self.rt.extraction, model=choice.model)
        extracted = await in_thread(extract, classified, ctx)
        shadow = (await in_thread(read_in_shadow, classified, extracted, ctx, choice.shadow, self.rt.ruleset)
                  if choice.shadow is not None else None)
        features = observe(classified, extracted)

        def persist(s):  # type: ignore[no-untyped-def]
            crud.save_extractions(s, document_id=event.document_id, fields=extracted.fields)
            crud.advance(s, document_id=event.document_id, state=DocumentState.EXTRACTED)
            monitoring.observe(s, document_id=event.document_id, features=features, role=choice.role)
            if shadow is not None:
                monitoring.shadow_output(s, document_id=event.document_id, row=shadow)

        return Emit(topics.EXTRACTED, extracted, persist=persist)
