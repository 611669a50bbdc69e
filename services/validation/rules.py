"""Validation rule sets: rules/validation/<doc_type>.yaml loaded into a typed model."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.contracts import HEADER_FIELDS
from services.errors import TemplateError


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_type: str
    required: list[str]
    amount_fields: list[str] = Field(default_factory=list)
    date_fields: list[str] = Field(default_factory=list)

    @field_validator("required", "amount_fields", "date_fields")
    @classmethod
    def _schema_fields(cls, names: list[str]) -> list[str]:
        unknown = set(names) - set(HEADER_FIELDS)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        return names


def load_ruleset(rules_dir: Path, doc_type: str = "invoice") -> RuleSet:
    path = Path(rules_dir) / "validation" / f"{doc_type}.yaml"
    try:
        return RuleSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(str(path), str(exc)) from None
    except ValidationError as exc:
        raise TemplateError(str(path), "; ".join(e["msg"] for e in exc.errors())) from None
