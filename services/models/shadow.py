"""A shadow model's reading of a served document: where the rollout lifecycle compares models.

The shadow reads the whole document again in the served model's place; what validation would say
of its reading is stored beside the served one (``monitoring.store.shadow_row``), never sent on.
The models page compares the two on live traffic before a shadow is promoted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.contracts import ClassifiedDocument, ExtractedDocument
from services.extraction.logic import Context, extract
from services.models.rollout import agreement
from services.validation.logic import check
from services.validation.rules import RuleSet


def read_in_shadow(classified: ClassifiedDocument, served: ExtractedDocument, ctx: Context, shadow: Any,
                   ruleset: RuleSet) -> dict:
    """The shadow model's row: its fields, the served ones, their agreement and both verdicts."""
    found = extract(classified, replace(ctx, model=shadow))
    verdict, served_verdict = check(found, ruleset), check(served, ruleset)

    def fields(doc: ExtractedDocument) -> dict:
        return {name: {"value": fv.value, "confidence": round(fv.confidence, 4)} for name, fv in doc.fields.items()}

    return {"model_version": shadow.version, "served_by": served.model_version,
            "fields": fields(found) | {"_agreement": agreement(served.fields, found.fields)},
            "served": fields(served), "outcome": "accepted" if verdict.ok else "exception",
            "served_outcome": "accepted" if served_verdict.ok else "exception"}
