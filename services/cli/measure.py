"""Measuring and training: ``synth`` worlds, ``train`` the layout model, ``bench`` its cost."""

from __future__ import annotations

import json
from pathlib import Path

import click

from services.settings import get_settings


@click.command()
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


@click.command()
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--epochs", type=click.IntRange(1), default=6, show_default=True)
@click.option("--lr", type=float, default=1e-4, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True)
@click.option("--layers", type=click.IntRange(1, 6), default=3, show_default=True,
              help="Use MiniLM's first N of its 6 layers: 3 reads new vendors at F1 0.96 (int8) for half the "
                   "parse cost per page; 6 costs about 2.5 times as much.")
@click.option("--max-docs", type=click.IntRange(1), default=None)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--inputs", type=click.Choice(["sub-tokens", "funnel"]), default="sub-tokens", show_default=True,
              help="funnel: only each word's first sub-token from the second layer on, as the shipped model "
                   "(make model: --epochs 10); the model path about a fifth cheaper (docs/extraction.md).")
def train(corpus: Path, epochs: int, lr: float, batch_size: int, layers: int, max_docs: int | None,
          seed: int, inputs: str) -> None:
    """Fine-tune the layout model on a labeled corpus (docflow synth output; its split's train part)."""
    from services.training.layout_model import train as run_train

    settings = get_settings()
    folder = run_train(corpus, settings.model_root, epochs=epochs, lr=lr, batch_size=batch_size, layers=layers,
                       seed=seed, max_docs=max_docs, inputs=inputs, log=lambda m: click.echo(m, err=True))
    click.echo(str(folder))


@click.command()
@click.option("--docs", "count", type=int, default=200, show_default=True, help="Documents to send.")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--partitions", type=int, default=4, show_default=True)
@click.option("--database-url", default=None, help="Default: a SQLite file in a temporary folder.")
@click.option("--broker/--no-broker", default=True, show_default=True, help="Also measure through the broker.")
@click.option("--against", type=click.Choice(["invoice2data"]), default=None,
              help="CPU per document against invoice2data 1.0.1 on the same PDFs (installed once under HOME/anchor).")
@click.option("--rounds", type=int, default=5, show_default=True,
              help="With --against: passes over the PDFs, each side's in turn.")
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
