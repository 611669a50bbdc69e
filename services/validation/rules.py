"""Validation rule sets: rules/validation/<doc_type>.yaml loaded into a typed model."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.contracts import HEADER_FIELDS
from services.errors import TemplateError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arithmetic(_Strict):
    tolerance: Decimal = Decimal("0.01")
    net_plus_tax_is_total: bool = True
    line_items_sum_to_net: bool = True
    quantity_times_price_is_amount: bool = True


class Dates(_Strict):
    max_age_days: int = 1825
    max_future_days: int = 31
    due_not_before_issue: bool = True
    max_payment_days: int = 365


class Identifiers(_Strict):
    iban_checksum: bool = True
    vat_id_check_digits: bool = True


class Confidence(_Strict):
    default: float = Field(default=0.8, ge=0, le=1)
    fields: dict[str, float] = Field(default_factory=dict)
    vendors: dict[str, dict[str, float]] = Field(default_factory=dict)

    def threshold(self, field: str, template_id: str | None) -> float:
        per_vendor = self.vendors.get(template_id or "", {})
        return per_vendor.get(field, self.fields.get(field, self.default))


class RuleSet(_Strict):
    doc_type: str
    required: list[str]
    amount_fields: list[str] = Field(default_factory=list)
    date_fields: list[str] = Field(default_factory=list)
    arithmetic: Arithmetic = Field(default_factory=Arithmetic)
    dates: Dates = Field(default_factory=Dates)
    identifiers: Identifiers = Field(default_factory=Identifiers)
    confidence: Confidence = Field(default_factory=Confidence)
    unknown_template: Literal["exception", "accept"] = "exception"
    new_layout_version: Literal["exception", "accept"] = "exception"

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
        raise TemplateError(str(path), "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                                 for e in exc.errors())) from None
