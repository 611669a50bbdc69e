"""Documents in and results out: ``submit`` to the stream, ``extract`` in-process, ``eval``
against truth."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from services.settings import get_settings


@click.command()
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


@click.command()
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


@click.command("eval")
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
