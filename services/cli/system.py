"""Running the system: ``up`` (everything, supervised), one ``worker``, the ``web`` server; and
provisioning it (``db``, ``topics``)."""

from __future__ import annotations

import sys

import click

from services.settings import get_settings


@click.command()
@click.option("--port", type=int, default=None, help="HTTP port (default 8080).")
@click.option("--host", default=None, help="HTTP host (default 127.0.0.1).")
@click.option("--workers", type=int, default=None, help="Worker processes (default 1).")
def up(port: int | None, host: str | None, workers: int | None) -> None:
    """Start everything: embedded broker (unless DOCFLOW_BROKER), workers, HTTP server."""
    from services.supervisor import run_up

    settings = get_settings()
    sys.exit(run_up(settings, port=port or settings.http_port, host=host or settings.http_host,
                    workers=workers or settings.workers))


@click.command()
def worker() -> None:
    """One stream worker process (all stage agents); scale with partitions."""
    from faust.worker import Worker

    from services.app import create_app
    from services.log_setup import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    if not settings.broker:
        raise click.UsageError("DOCFLOW_BROKER must name the Kafka bootstrap servers")
    from services.reconcile.crashes import settle_crashes

    settle_crashes(settings, settings.broker)  # what the workers before this one died of
    app = create_app(settings)
    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port)
    Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


@click.command()
@click.option("--port", type=int, default=None)
@click.option("--host", default=None)
def web(port: int | None, host: str | None) -> None:
    """The HTTP server alone: /health, /metrics, the API and the operator console."""
    import uvicorn

    from services.log_setup import configure
    from services.web.app import create_app

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    uvicorn.run(create_app(settings), host=host or settings.http_host, port=port or settings.http_port,
                log_level="warning")



@click.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations (Alembic) up to the newest."""
    from services.storage.db import upgrade

    settings = get_settings()
    upgrade(settings.db_url)
    click.echo("database at head")


@click.group()
def topics() -> None:
    """Kafka topics."""


@topics.command("create")
def topics_create() -> None:
    """Create every docflow topic that is missing, with DOCFLOW_PARTITIONS partitions."""
    from services.broker import create_topics
    from services.client import broker_address

    settings = get_settings()
    created = create_topics(broker_address(settings), settings.partitions)
    click.echo(f"created {len(created)} topics")
