"""The in-process path (`docflow extract`): golden PDF + JSON pairs, and the CLI's output shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli import main
from services.synth.layouts import KESTREL, LAYOUTS
from services.synth.render import generate

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def golden_pdf(vendor: str) -> Path:
    """The committed PDF; regenerated (deterministically) only when it is missing."""
    path = GOLDEN / f"{vendor}.pdf"
    if not path.exists():
        path.write_bytes(generate(LAYOUTS.get(vendor, KESTREL), seed=2026, serial=7, items=4)[0])
    return path


def extract_json(path: Path, env: dict[str, str]) -> dict:
    result = CliRunner().invoke(main, ["extract", str(path), "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("vendor", [*sorted(LAYOUTS), "kestrel"])
def test_golden(vendor: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """`docflow extract --json` on each golden PDF gives exactly its golden JSON."""
    report = extract_json(golden_pdf(vendor), {"DOCFLOW_HOME": str(tmp_path)})
    path = GOLDEN / f"{vendor}.json"
    if request.config.getoption("--regen-golden"):
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    assert path.exists(), "no golden JSON yet: run pytest --regen-golden and review the diff"
    assert report == json.loads(path.read_text())


def test_report_shape(tmp_path: Path) -> None:
    """Every field carries value, confidence, source, page, bbox and raw; validation is reported."""
    report = extract_json(golden_pdf("northwind"), {"DOCFLOW_HOME": str(tmp_path)})
    assert report["state"] == "accepted" and report["template"]["id"] == "northwind"
    assert report["document_id"].startswith("doc-")
    for fv in report["fields"].values():
        assert set(fv) == {"value", "confidence", "source", "page", "bbox", "raw"}
    assert report["validation"] == {"ok": True, "issues": []}


def test_unreadable_file_reports_deadletter(tmp_path: Path) -> None:
    """A file that is not a PDF gives the dead-letter state and reason, not a traceback."""
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    report = extract_json(path, {"DOCFLOW_HOME": str(tmp_path)})
    assert report["state"] == "deadletter" and report["reasons"] == ["UNSUPPORTED_TYPE"]


def test_a_bug_dead_letters_in_process_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the agents, an unexpected error becomes INTERNAL_ERROR with its stage, not a crash."""
    import services.stages as stages

    def broken(*args: object) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr(stages, "detect", broken)
    report = extract_json(golden_pdf("northwind"), {"DOCFLOW_HOME": str(tmp_path)})
    assert report["state"] == "deadletter" and report["reasons"] == ["INTERNAL_ERROR"]
    assert report["validation"]["issues"][0]["message"] == "ZeroDivisionError in detect"


def test_a_database_that_fails_for_a_moment_is_asked_again_in_process(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Two `docflow extract` processes opening a fresh SQLite file at once can find it locked: the
    document is read once the database answers, as a worker would retry; one that stays down
    dead-letters the document with its stage."""
    from sqlalchemy.exc import OperationalError

    from services.runtime import Runtime

    failures = [1]
    refresh = Runtime.refresh_templates

    def locked_once(self: Runtime) -> None:
        if failures:
            failures.pop()
            raise OperationalError("SELECT max(seq)", {}, Exception("database is locked"))
        refresh(self)

    monkeypatch.setattr(Runtime, "refresh_templates", locked_once)
    assert extract_json(golden_pdf("northwind"), {"DOCFLOW_HOME": str(tmp_path)})["state"] == "accepted"

    def locked(self: Runtime) -> None:
        raise OperationalError("SELECT max(seq)", {}, Exception("database is locked"))

    monkeypatch.setattr(Runtime, "refresh_templates", locked)
    report = extract_json(golden_pdf("northwind"), {"DOCFLOW_HOME": str(tmp_path / "down")})
    assert report["state"] == "deadletter" and report["reasons"] == ["INTERNAL_ERROR"]
    assert report["validation"]["issues"][0]["message"] == "OperationalError in detect"
