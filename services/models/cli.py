"""``docflow trainer``, ``docflow monitor``, ``docflow models`` and ``docflow datasets``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from services.settings import get_settings


def _runtime():  # type: ignore[no-untyped-def]
    from services.log_setup import configure
    from services.runtime import Runtime
    from services.storage.db import upgrade

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    upgrade(settings.db_url)
    return Runtime(settings)


@click.command()
def trainer() -> None:
    """The retraining service: consumes labels and monitoring.alerts, runs training jobs."""
    from services.trainer.service import serve

    rt = _runtime()
    if not rt.settings.broker:
        raise click.UsageError("DOCFLOW_BROKER must name the Kafka bootstrap servers")
    serve(rt)


@click.command()
@click.option("--once", is_flag=True, help="One look, printed as JSON, then exit.")
def monitor(once: bool) -> None:
    """The drift and rollout monitor: drift checks, alerts, canary rollback."""
    from services.monitoring.service import Monitor

    watcher = Monitor(_runtime())
    if once:
        click.echo(json.dumps(watcher.tick()))
        return
    watcher.serve()


@click.group()
def models() -> None:
    """The model registry."""


@models.command("list")
def models_list() -> None:
    from sqlmodel import Session

    from services.models import store

    rt = _runtime()
    with Session(rt.engine) as s:
        for row in store.listing(s):
            header = (row.metrics.get("eval") or {}).get("header")
            click.echo(f"{row.version}  {row.status:<11}  share {row.share:.2f}  dataset {row.dataset_version or '-'}  "
                       f"eval header F1 {header if header is not None else '-'}  {row.trigger.get('kind', '')}")


@models.command("show")
@click.argument("version")
def models_show(version: str) -> None:
    """A model's record, its dataset version and ancestors, as JSON."""
    from sqlmodel import Session

    from services.models import store

    with Session(_runtime().engine) as s:
        found = store.lineage(s, version)
        if found is None:
            raise click.ClickException(f"no model {version}")
        found["events"] = [e.model_dump(mode="json") for e in store.events(s, version)]
    click.echo(json.dumps(found, indent=1))


@models.command("pack")
@click.argument("artifact", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write <version>/ into (models/ for the default the product ships).")
def models_pack(artifact: Path, out: Path) -> None:
    """Write a trained artifact compactly (int8 weights, one scale per row), as the shipped default is."""
    from services.extraction.model.network import pack

    meta = pack(artifact, out / artifact.name)
    click.echo(json.dumps({"version": meta["version"], "folder": str(out / artifact.name),
                           "bytes": meta["packed"]["bytes"], "dataset": meta["dataset"].get("sha256")}))


@models.command("promote")
@click.argument("version")
@click.option("--to", "target", type=click.Choice(["shadow", "canary", "production", "retired"]), required=True)
@click.option("--share", type=click.FloatRange(0, 1), default=None, help="Of documents (shadow, canary).")
@click.option("--actor", required=True, help="Who decides (recorded in the audit log).")
@click.option("--reason", default=None)
def models_promote(version: str, target: str, share: float | None, actor: str, reason: str | None) -> None:
    """Move a model (an approver's step past shadow: the CLI runs with the operator's own access)."""
    from services.models import store
    from services.models.registry import TransitionError
    from services.storage.db import session_scope

    rt = _runtime()
    if share is None and target in ("shadow", "canary"):
        share = rt.model_policy.rollout.shadow_share if target == "shadow" else rt.model_policy.rollout.canary_share
    try:
        with session_scope(rt.engine) as s:
            steps = store.move(s, version, target, actor=actor, approver=True, reason=reason, share=share)
    except TransitionError as exc:
        raise click.ClickException(str(exc)) from None
    for step in steps:
        click.echo(f"{step.version}: {step.before} -> {step.after}")


@models.command("rollback")
@click.option("--actor", required=True)
@click.option("--reason", default=None)
def models_rollback(actor: str, reason: str | None) -> None:
    """Production back to the model that held it before."""
    from services.models import store
    from services.models.registry import TransitionError
    from services.storage.db import session_scope

    try:
        with session_scope(_runtime().engine) as s:
            rolled, restored = store.rollback(s, actor=actor, reason=reason)
    except TransitionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"rolled back {rolled}; production is {restored}")


@models.command("retrain")
@click.option("--actor", required=True)
@click.option("--reason", default="manual request")
def models_retrain(actor: str, reason: str) -> None:
    """Ask the trainer for a training job now (it runs when the current one, if any, ends)."""
    from services.storage.db import session_scope
    from services.trainer import store

    with session_scope(_runtime().engine) as s:
        job = store.create_job(s, trigger="manual", reason=reason, evidence={}, requested_by=actor)
        click.echo(f"training job {job.id} queued")


@models.command("jobs")
def models_jobs() -> None:
    from sqlmodel import Session

    from services.trainer import store

    with Session(_runtime().engine) as s:
        for job in store.jobs(s):
            click.echo(f"#{job.id} {job.state:<8} {job.trigger:<13} {job.model_version or '-'}  {job.reason}")


@click.group()
def datasets() -> None:
    """Dataset versions (frozen training sets)."""


@datasets.command("list")
def datasets_list() -> None:
    from sqlmodel import Session, col, select

    from services.storage.lifecycle import DatasetVersion

    with Session(_runtime().engine) as s:
        for row in s.exec(select(DatasetVersion).order_by(col(DatasetVersion.created_at).desc())).all():
            click.echo(f"{row.version}  cutoff {row.cutoff.isoformat()}  base {row.base.get('documents')} documents  "
                       f"human {row.documents} documents / {row.labels} labels  {row.folder}")


@datasets.command("show")
@click.argument("version")
def datasets_show(version: str) -> None:
    from sqlmodel import Session

    from services.storage.lifecycle import DatasetVersion

    with Session(_runtime().engine) as s:
        row = s.get(DatasetVersion, version)
        if row is None:
            raise click.ClickException(f"no dataset {version}")
        json.dump(row.model_dump(mode="json"), sys.stdout, indent=1)
        click.echo()
