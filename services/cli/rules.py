"""Rules as data: vendor ``templates`` (induce, export) and the message ``contracts`` (JSON Schema, AsyncAPI)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from services.settings import get_settings


@click.group()
def templates() -> None:
    """Vendor templates."""


@templates.command("induce")
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--per-vendor", type=click.IntRange(1, 3), default=1, show_default=True,
              help="Labeled documents each template is induced from (taken from the split's train part).")
def templates_induce(corpus: Path, out: Path, per_vendor: int) -> None:
    """Induce a template per training vendor of a labeled corpus, from its first documents."""
    from services.extraction.induction import induce, labeled_from_truth
    from services.vocabulary.templates import to_yaml

    split = json.loads((corpus / "split.json").read_text())
    train = sorted(split["train"])
    out.mkdir(parents=True, exist_ok=True)
    for vendor in split["train_vendors"]:
        ids = [d for d in train if d.startswith(f"{vendor}-")][:per_vendor]
        examples = [labeled_from_truth((corpus / vendor / f"{d}.pdf").read_bytes(),
                                       json.loads((corpus / vendor / f"{d}.json").read_text())) for d in ids]
        if not examples:
            continue
        result = induce(examples, vendor)
        (out / f"{vendor}.yaml").write_text(to_yaml(result.template, f"induced from {', '.join(ids)}"))
        misses = [f for f, ok in result.reproduced.items() if not all(ok)]
        click.echo(f"{vendor}: {len(result.template.fields)} fields"
                   + (f"; not reproduced {misses}" if misses else "")
                   + (f"; dropped {sorted(result.dropped)}" if result.dropped else ""))


@templates.command("export")
@click.argument("template_id")
@click.option("--version", "version", type=int, default=None, help="Default: the active version.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="A rules/templates folder, to keep a version published from the labeling service in git.")
def templates_export(template_id: str, version: int | None, out: Path) -> None:
    """Write a template version (from files or the database) as YAML: OUT/<id>.v<version>.yaml."""
    from services.runtime import Runtime
    from services.vocabulary.templates import to_yaml

    current = Runtime(get_settings()).registry.current
    template = current.every.get((template_id, version)) if version else current.by_id.get(template_id)
    if template is None:
        raise click.ClickException(f"no template {template_id}" + (f"@{version}" if version else ""))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{template.id}.v{template.version}.yaml"
    path.write_text(to_yaml(template, f"{template.ref}, exported from the template registry"), encoding="utf-8")
    click.echo(str(path))


@click.group()
def contracts() -> None:
    """The topic contracts."""


@contracts.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def contracts_export(folder: Path) -> None:
    """Write every topic's JSON Schema and an AsyncAPI document to FOLDER."""
    from services.codec import asyncapi_document, export_schemas

    folder.mkdir(parents=True, exist_ok=True)
    for topic, schema in export_schemas().items():
        (folder / f"{topic}.schema.json").write_text(json.dumps(schema, indent=2) + "\n")
    (folder / "asyncapi.json").write_text(json.dumps(asyncapi_document(), indent=2) + "\n")
    click.echo(f"wrote {len(export_schemas())} schemas and asyncapi.json to {folder}")
