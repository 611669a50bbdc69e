"""``docflow reconcile`` (the periodic recovery loop) and ``docflow redrive`` (by hand, audited)."""

from __future__ import annotations

import json

import click

from services.settings import get_settings


@click.command()
@click.option("--once", is_flag=True, help="One look, printed as JSON, then exit.")
def reconcile(once: bool) -> None:
    """Re-drive documents that stopped between two stages (DOCFLOW_REDRIVE_AFTER_S, stream idle)."""
    from services.client import broker_address
    from services.log_setup import configure
    from services.reconcile import service
    from services.storage.blobs import BlobStore
    from services.storage.db import make_engine

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    bootstrap = broker_address(settings)
    if not once:
        service.run(settings, bootstrap)
        return
    report = service.reconcile_once(settings, bootstrap, make_engine(settings.db_url), BlobStore(settings.blob_root))
    click.echo(json.dumps({"redriven": report.redriven, "dead_lettered": report.dead_lettered,
                           "deferred": report.deferred}))


@click.command()
@click.argument("document_ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why, for the audit log.")
@click.option("--dead-letters", is_flag=True, help="Also re-drive dead letters (after a fix, say).")
def redrive(document_ids: tuple[str, ...], reason: str, dead_letters: bool) -> None:
    """Start documents again from their stored bytes (audited, actor ``cli``)."""
    from services.client import broker_address
    from services.reconcile import service
    from services.reconcile.store import RedriveError
    from services.storage.blobs import BlobStore
    from services.storage.db import make_engine

    settings = get_settings()
    try:
        done = service.redrive(make_engine(settings.db_url), broker_address(settings), BlobStore(settings.blob_root),
                               list(document_ids), actor="cli", reason=reason, dead_letters_too=dead_letters)
    except RedriveError as exc:
        raise click.ClickException(str(exc)) from None
    for document_id in done:
        click.echo(f"re-driven {document_id}")
