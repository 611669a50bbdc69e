"""Vendor templates: rules/templates/*.yaml loaded into typed, validated models.

A template is data, never code: YAML is read with ``safe_load``, every key is checked,
and every pattern is compiled once at load time (the ``regex`` engine, which supports a
time limit per match, so a pathological pattern cannot hang a worker).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.contracts import HEADER_FIELDS, LINE_ITEM_FIELDS
from services.errors import TemplateError

FieldType = Literal["text", "date", "amount", "currency", "iban", "vat_id"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRule(_Strict):
    """Where a field's value stands: right of or below one of its anchors, matching ``pattern``."""

    anchors: list[str] = Field(default_factory=list)
    direction: Literal["right", "below", "right_or_below"] = "right_or_below"
    pattern: str | None = None
    type: FieldType = "text"
    value: str | None = Field(default=None, description="A constant, e.g. the vendor's own name.")
    max_distance: float = Field(default=300.0, gt=0, description="Points from the anchor.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                regex.compile(pattern)
            except regex.error as exc:
                raise ValueError(f"pattern does not compile: {exc}") from None
        return pattern


class LineItemRule(_Strict):
    """Column headers (with synonyms) per line-item field, and the words that end the table."""

    columns: dict[str, list[str]]
    stop: list[str] = Field(default_factory=list)

    @field_validator("columns")
    @classmethod
    def _known(cls, columns: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(columns) - set(LINE_ITEM_FIELDS)
        if unknown:
            raise ValueError(f"unknown line-item fields {sorted(unknown)}")
        return columns


class MatchRule(_Strict):
    keywords: list[str] = Field(default_factory=list, description="All must appear.")
    exclude_keywords: list[str] = Field(default_factory=list, description="None may appear.")
    identifiers: dict[str, str] = Field(
        default_factory=dict, description="Strong ids (vendor_vat_id, vendor_iban): any one identifies."
    )


class Options(_Strict):
    date_formats: list[str] = Field(default_factory=list)
    decimal_separator: Literal[".", ","] | None = None
    currency: str | None = None
    language: str = "en"


class Template(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: int = Field(ge=1)
    issuer: str
    doc_type: Literal["invoice"] = "invoice"
    priority: int = 0
    match: MatchRule
    options: Options = Field(default_factory=Options)
    fields: dict[str, FieldRule]
    line_items: LineItemRule | None = None
    layout: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="Where each anchor stood on the labeled documents (x0, top as page fractions): the "
                    "layout fingerprint that tells a new layout version from the known one.",
    )

    @field_validator("fields")
    @classmethod
    def _schema_fields(cls, fields: dict[str, FieldRule]) -> dict[str, FieldRule]:
        unknown = set(fields) - set(HEADER_FIELDS)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; the schema has {list(HEADER_FIELDS)}")
        return fields

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


def parse_template(text: str, origin: str) -> Template:
    """A template from its YAML text; TemplateError names ``origin`` and every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateError(origin, f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TemplateError(origin, "a template is a mapping")
    try:
        return Template.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise TemplateError(origin, problems) from None


def load_template(path: Path) -> Template:
    return parse_template(path.read_text(encoding="utf-8"), str(path))


def load_all(folder: Path) -> list[Template]:
    """Every template version under ``folder``; two files defining one id@version are an error."""
    seen: dict[tuple[str, int], Path] = {}
    found = []
    for path in sorted(Path(folder).glob("*.yaml")):
        template = load_template(path)
        key = (template.id, template.version)
        if key in seen:
            raise TemplateError(str(path), f"{template.ref} is also defined in {seen[key]}")
        seen[key] = path
        found.append(template)
    return found


def newest(templates: list[Template]) -> list[Template]:
    """The highest version of each id, in matching order (priority, then id)."""
    latest: dict[str, Template] = {}
    for template in templates:
        if template.id not in latest or latest[template.id].version < template.version:
            latest[template.id] = template
    return sorted(latest.values(), key=lambda t: (-t.priority, t.id))


def load_templates(folder: Path) -> list[Template]:
    """Every template under ``folder``, the highest version of each id."""
    return newest(load_all(folder))


def to_yaml(template: Template, note: str = "") -> str:
    """The template as YAML (defaults left out), ``note`` as a comment on top."""
    data = template.model_dump(mode="json", exclude_defaults=True)
    header = "".join(f"# {line}\n" for line in note.splitlines()) if note else ""
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
