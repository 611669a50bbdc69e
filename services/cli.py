"""The ``docflow`` command: run the system, submit documents, extract in-process, export contracts."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from services.settings import get_settings


@click.group()
def main() -> None:
    """docflow: event-driven document extraction."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@main.command()
@click.option("--port", type=int, default=None, help="HTTP port (default 8080).")
@click.option("--host", default=None, help="HTTP host (default 127.0.0.1).")
@click.option("--workers", type=int, default=None, help="Worker processes (default 1).")
def up(port: int | None, host: str | None, workers: int | None) -> None:
    """Start everything: embedded broker (unless DOCFLOW_BROKER), workers, HTTP server."""
    from services.supervisor import run_up

    settings = get_settings()
    sys.exit(run_up(settings, port=port or settings.http_port, host=host or settings.http_host,
                    workers=workers or settings.workers))


@main.command()
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


@main.command()
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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--wait", is_flag=True, help="Print one JSON line per document once it is terminal.")
@click.option("--timeout", type=float, default=300.0, show_default=True, help="Seconds to wait.")
@click.option("--source", default="cli", show_default=True, help="The envelope's source.")
def submit(paths: tuple[Path, ...], wait: bool, timeout: float, source: str) -> None:
    """Publish files (or every file under folders) to documents.incoming."""
    from services import client
    from services.codec import encode

    settings = get_settings()
    bootstrap = client.broker_address(settings)
    envelopes = client.store_first(client.expand(paths), settings, source)
    by_id = {env.document_id or "": f for env, f in envelopes}
    messages = [(env.document_id or "", encode(env)) for env, _ in envelopes]
    with click.progressbar(length=len(messages), label="submitting", file=sys.stderr) as bar:
        client.run(client.publish(bootstrap, messages, lambda: bar.update(1)))
    if not wait:
        click.echo(f"submitted {len(messages)} documents", err=True)
        return

    def show(result: client.Result) -> None:
        click.echo(json.dumps({"document_id": result.document_id, "file": str(by_id[result.document_id]),
                               "state": result.state, "reasons": result.reasons}))

    missing = client.wait_stored(settings, set(by_id), timeout, show)
    for doc_id in sorted(missing):
        click.echo(json.dumps({"document_id": doc_id, "file": str(by_id[doc_id]), "state": "pending",
                               "reasons": ["TIMEOUT"]}))
    sys.exit(1 if missing else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full JSON report (one file).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write one JSON report per PDF here, mirroring the folders given.")
@click.option("--jobs", type=click.IntRange(1), default=2, show_default=True, help="Processes, with --out.")
def extract(paths: tuple[Path, ...], as_json: bool, out: Path | None, jobs: int) -> None:
    """Run the document path in-process, without any broker, on one file or (with --out) many."""
    from services.batch import extract_file, extract_many

    settings = get_settings()
    if out is not None:
        summary = extract_many(paths, out, settings, jobs=jobs)
        click.echo(json.dumps(summary))
        return
    if len(paths) != 1 or paths[0].is_dir():
        raise click.UsageError("one file, or --out DIR for several")
    report = extract_file(paths[0], settings)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    template = report["template"]["id"] if report["template"] else "unknown"
    click.echo(f"{paths[0].name}: {report['state']} (template {template})"
               + (f" reasons: {', '.join(report['reasons'])}" if report["reasons"] else ""))
    for name, fv in report["fields"].items():
        click.echo(f"  {name:16} {fv['value']!s:40} {fv['confidence']:.2f}  {fv['source']}")


@main.command("eval")
@click.argument("pred", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("truth", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--split", "split_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="split.json of a synthetic corpus: report known and new vendors apart (default: TRUTH/split.json).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--title", default="docflow evaluation", show_default=True)
def evaluate(pred: Path, truth: Path, split_path: Path | None, json_out: Path | None, html_out: Path | None,
             title: str) -> None:
    """Score predictions (docflow extract --out) against truth: P/R/F1/exact per field and vendor."""
    from services.evaluation import report as render
    from services.evaluation.documents import read_predictions, read_truths
    from services.evaluation.score import evaluate as score

    split_path = split_path or (truth / "split.json" if (truth / "split.json").exists() else None)
    split = json.loads(split_path.read_text()) if split_path else None
    result = score(read_truths(truth), read_predictions(pred), split)
    click.echo(render.terminal(result))
    if json_out:
        json_out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    if html_out:
        html_out.write_text(render.html(result, title))


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--vendors", type=click.IntRange(1, 999), default=40, show_default=True)
@click.option("--docs", type=click.IntRange(1), default=25, show_default=True, help="Documents per vendor.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--scanned", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of documents turned into image-only scans.")
@click.option("--holdout-vendors", type=int, default=None, help="Vendors kept out of training (default: a fifth).")
@click.option("--test-fraction", type=click.FloatRange(0, 1), default=0.2, show_default=True)
def synth(out: Path, vendors: int, docs: int, seed: int, scanned: float, holdout_vendors: int | None,
          test_fraction: float) -> None:
    """Generate labeled synthetic invoices: N vendor layouts x M documents, with a split."""
    from services.synth.corpus import build

    summary = build(out, vendors=vendors, docs=docs, seed=seed, scanned=scanned,
                    holdout_vendors=holdout_vendors, test_fraction=test_fraction)
    click.echo(json.dumps(summary))


@main.command()
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--epochs", type=click.IntRange(1), default=6, show_default=True)
@click.option("--lr", type=float, default=1e-4, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True)
@click.option("--layers", type=click.IntRange(1, 6), default=3, show_default=True,
              help="Use MiniLM's first N of its 6 layers: 3 reads new vendors at F1 0.96 (int8) for half the "
                   "parse cost per page; 6 costs about 2.5 times as much.")
@click.option("--max-docs", type=click.IntRange(1), default=None)
@click.option("--seed", type=int, default=0, show_default=True)
def train(corpus: Path, epochs: int, lr: float, batch_size: int, layers: int, max_docs: int | None,
          seed: int) -> None:
    """Fine-tune the layout model on a labeled corpus (docflow synth output; its split's train part)."""
    from services.training.layout_model import train as run_train

    settings = get_settings()
    folder = run_train(corpus, settings.model_root, epochs=epochs, lr=lr, batch_size=batch_size, layers=layers,
                       seed=seed, max_docs=max_docs, log=lambda m: click.echo(m, err=True))
    click.echo(str(folder))


@main.command()
@click.option("--docs", "count", type=int, default=200, show_default=True, help="Documents to send.")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--partitions", type=int, default=4, show_default=True)
@click.option("--database-url", default=None, help="Default: a SQLite file in a temporary folder.")
@click.option("--broker/--no-broker", default=True, show_default=True, help="Also measure through the broker.")
@click.option("--against", type=click.Choice(["invoice2data"]), default=None,
              help="CPU per document against invoice2data 1.0.1 on the same PDFs (installed once under HOME/anchor).")
@click.option("--rounds", type=int, default=3, show_default=True, help="With --against: passes over the PDFs.")
def bench(count: int, workers: int, partitions: int, database_url: str | None, broker: bool, against: str | None,
          rounds: int) -> None:
    """Benchmark: docs/s and p50/p99 latency through the broker beside the in-process rate,
    and the layout model's cost per page (fp32, int8) beside the parse cost; with ``--against
    invoice2data``, CPU per document beside invoice2data's."""
    settings = get_settings()
    if against:
        from services.bench.anchor import AnchorUnavailable, print_against
        from services.bench.anchor import against as run_against

        try:
            print_against(run_against(count, rounds, settings.home, broker=broker, model_root=settings.model_root))
        except AnchorUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        return
    from services.bench import bench as run_bench
    from services.bench import print_report

    print_report(run_bench(count, workers, partitions, database_url, broker=broker, model_root=settings.model_root))


@main.group()
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


@main.group()
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


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations (Alembic) up to the newest."""
    from services.storage.db import upgrade

    settings = get_settings()
    upgrade(settings.db_url)
    click.echo("database at head")


@main.group()
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


def _more_commands() -> None:
    from labeling.cli import labels
    from services.access.cli import users
    from services.models.cli import datasets, models, monitor, trainer
    from services.reconcile.cli import reconcile, redrive

    for command in (labels, trainer, monitor, models, datasets, users, reconcile, redrive):
        main.add_command(command)


_more_commands()

if __name__ == "__main__":
    main()
