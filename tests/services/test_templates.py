"""Templates are data: every file in rules/ loads, and malformed ones are refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.errors import TemplateError
from services.validation.rules import load_ruleset
from services.vocabulary.templates import load_template, load_templates

RULES = Path(__file__).resolve().parents[2] / "rules"


def test_every_template_in_rules_loads() -> None:
    """Each rules/templates/*.yaml is a valid template, ids unique."""
    files = sorted((RULES / "templates").glob("*.yaml"))
    assert len(files) >= 3
    templates = load_templates(RULES / "templates")
    assert len({t.id for t in templates}) == len(files)


def test_validation_rules_load() -> None:
    """rules/validation/invoice.yaml loads and names schema fields only."""
    assert "total_amount" in load_ruleset(RULES).required


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("id: x\nversion: 1\nissuer: X\nmatch: {}\nfields: {colour: {anchors: [a]}}\n", "unknown fields"),
        ("id: x\nversion: 1\nissuer: X\nmatch: {}\nfields: {invoice_number: {pattern: '(['}}\n", "does not compile"),
        ("id: x\nversion: 1\nissuer: X\nmatch: {}\nfields: {}\nexec: rm -rf /\n", "Extra inputs"),
        ("id: x\nversion: 0\nissuer: X\nmatch: {}\nfields: {}\n", "greater than or equal to 1"),
        ("!!python/object/apply:os.system ['echo pwned']\n", "not valid YAML"),
        ("- just\n- a list\n", "a template is a mapping"),
    ],
    ids=["unknown-field", "bad-regex", "unknown-key", "bad-version", "python-tag", "not-mapping"],
)
def test_malformed_template_refused(tmp_path: Path, body: str, problem: str) -> None:
    """A malformed template fails at load time, naming the file and the problem; nothing executes."""
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(TemplateError) as info:
        load_template(path)
    assert problem in str(info.value) and "bad.yaml" in str(info.value)


def test_duplicate_version_refused(tmp_path: Path) -> None:
    """Two files defining the same template id and version are an error, not a silent pick."""
    body = "id: x\nversion: 1\nissuer: X\nmatch: {keywords: [x]}\nfields: {}\n"
    (tmp_path / "a.yaml").write_text(body)
    (tmp_path / "b.yaml").write_text(body)
    with pytest.raises(TemplateError, match="also defined"):
        load_templates(tmp_path)


def test_highest_version_wins(tmp_path: Path) -> None:
    """Older versions stay on disk; the newest is the one used."""
    for v in (1, 2):
        (tmp_path / f"x-v{v}.yaml").write_text(f"id: x\nversion: {v}\nissuer: X\nmatch: {{}}\nfields: {{}}\n")
    assert [t.ref for t in load_templates(tmp_path)] == ["x@2"]
