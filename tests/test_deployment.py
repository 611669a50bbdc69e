"""The compose file mirrors the embedded set-up: same settings, real commands, a complete graph."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.cli import main
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def docflow_services() -> dict[str, dict]:
    return {name: svc for name, svc in COMPOSE["services"].items() if svc.get("image") == "docflow:latest"}


def test_every_docflow_variable_is_a_setting() -> None:
    """Each DOCFLOW_* variable in the compose file names a field of the one settings class."""
    fields = {f"DOCFLOW_{name.upper()}" for name in Settings.model_fields}
    for name, svc in docflow_services().items():
        used = {k for k in svc["environment"] if k.startswith("DOCFLOW_")}
        assert used <= fields, (name, used - fields)
        assert {"DOCFLOW_BROKER", "DOCFLOW_DATABASE_URL", "DOCFLOW_HOME"} <= used


def test_commands_exist() -> None:
    """Each docflow container runs a real `docflow` sub-command."""
    for name, svc in docflow_services().items():
        ctx = main.make_context("docflow", list(svc["command"]), resilient_parsing=True)
        command = main
        for word in svc["command"]:
            if word.startswith("-"):
                break
            command = command.get_command(ctx, word)  # type: ignore[union-attr]
            assert command is not None, (name, word)


def test_dependency_graph_is_closed() -> None:
    """Every depends_on target exists; workers wait for migrations and topics."""
    services = COMPOSE["services"]
    for svc in services.values():
        assert set(svc.get("depends_on", {})) <= set(services)
    assert {"migrate", "topics"} <= set(services["worker"]["depends_on"])
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_dockerfile_copies_what_exists() -> None:
    """The image build copies files and folders that are in the repository."""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
