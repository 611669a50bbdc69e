"""The ``docflow`` command, one module per command group: ``system`` runs and provisions it,
``documents`` submits, extracts and evaluates, ``measure`` makes worlds, trains and benchmarks,
``rules`` handles templates and contracts; the stages' own groups (labels, trainer, monitor,
models, datasets, users, reconcile, redrive) live beside their stages and are added here."""

from __future__ import annotations

import os

import click


@click.group()
def main() -> None:
    """docflow: event-driven document extraction."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _commands() -> None:
    from labeling.cli import labels
    from services.access.cli import users
    from services.cli import documents, measure, rules, system
    from services.models.cli import datasets, models, monitor, trainer
    from services.reconcile.cli import reconcile, redrive

    for command in (system.up, system.worker, system.web, system.db, system.topics,
                    documents.submit, documents.extract, documents.evaluate,
                    measure.synth, measure.train, measure.bench, rules.templates, rules.contracts,
                    labels, trainer, monitor, models, datasets, users, reconcile, redrive):
        main.add_command(command)


_commands()
