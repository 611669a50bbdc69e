"""``docflow labels``: onboard vendors through the labeling service, export labels as training data
or for Label Studio, import a Label Studio export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click


@click.group("labels")
def labels() -> None:
    """Labels and vendor onboarding (the labeling service)."""


@labels.command("onboard")
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--url", required=True, help="The labeling service, e.g. http://127.0.0.1:8080.")
@click.option("--token", envvar="DOCFLOW_TOKEN", required=True, help="A labeler's API token (or DOCFLOW_TOKEN).")
@click.option("--per-vendor", type=click.IntRange(1, 3), default=1, show_default=True)
@click.option("--pick", type=click.Choice(["first", "most-complete"]), default="most-complete", show_default=True,
              help="Which of a vendor's documents the labeler labels.")
@click.option("--rest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Copy every document not labeled here (with its truth), per vendor: the evaluation set.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--force", is_flag=True, help="Publish even where the template does not give back every label.")
def onboard(corpus: Path, url: str, token: str, per_vendor: int, pick: str, rest: Path | None, report: Path | None,
            force: bool) -> None:
    """Onboard each vendor folder of a labeled corpus: label documents by word boxes through the HTTP
    API, induce, check and publish its template."""
    from labeling.client import LabelingClient, most_complete, onboard_vendor

    client = LabelingClient(url, token)
    results = []
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
        pdfs = sorted(p for p in folder.glob("*.pdf") if p.with_suffix(".json").exists())
        if not pdfs:
            continue
        chosen = pdfs[:per_vendor] if pick == "first" else most_complete(pdfs, per_vendor)
        result = onboard_vendor(client, folder.name, chosen, force=force)
        results.append(result)
        click.echo(f"{result.vendor}: " + (f"error {result.error}" if result.error else
                   f"v{result.version} " if result.version else "not published ")
                   + ("every label reproduced" if result.reproduced else "")
                   + (f"; not printed on the labeled document {sorted(result.dropped)}" if result.dropped else "")
                   + (f"; typed {result.typed}" if result.typed else ""))
        if rest is not None:
            (rest / folder.name).mkdir(parents=True, exist_ok=True)
            for pdf in pdfs:
                if pdf not in chosen:
                    for path in (pdf, pdf.with_suffix(".json")):
                        shutil.copy(path, rest / folder.name / path.name)
    if report:
        report.write_text(json.dumps([r.__dict__ for r in results], indent=1))
    published = sum(1 for r in results if r.version)
    click.echo(f"{published} of {len(results)} vendors published")
    if published < len(results):
        raise SystemExit(1)


@labels.command("export")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["docflow", "label-studio"]), default="docflow", show_default=True,
              help="docflow: each labeled PDF with its truth JSON (what `docflow train` and `docflow eval` read); "
                   "label-studio: tasks JSON plus the labeling config.")
@click.option("--image-url", default="http://127.0.0.1:8080/api/documents/{document_id}/pages/{page}.png",
              show_default=True, help="label-studio: where Label Studio fetches page images.")
def export(out: Path, fmt: str, image_url: str) -> None:
    """The newest labels of every labeled document."""
    from sqlmodel import Session

    from labeling import store, studio
    from labeling.labels import template_id_for, truth
    from services.parsing.pages import SCALE, PageCache
    from services.runtime import Runtime
    from services.settings import get_settings
    from services.storage.models import Document

    rt = Runtime(get_settings())
    pages = PageCache(rt.blobs, rt.settings.max_pages, size=1)
    out.mkdir(parents=True, exist_ok=True)
    tasks: list[dict] = []
    with Session(rt.engine) as s:
        ids = store.labeled_ids(s)
        for document_id in ids:
            doc, current = s.get(Document, document_id), store.latest(s, document_id)
            if doc is None or current is None or not doc.blob_uri:
                continue
            if fmt == "docflow":
                name = truth(current.values())["fields"].get("vendor_name") or doc.vendor or "unknown"
                folder = out / template_id_for(name)
                folder.mkdir(exist_ok=True)
                (folder / f"{document_id}.pdf").write_bytes(rt.blobs.get(doc.blob_uri))
                (folder / f"{document_id}.json").write_text(json.dumps(
                    {"document_id": document_id, "revision": current.revision, "origin": current.origin}
                    | truth(current.values()), ensure_ascii=False, indent=1))
            else:
                tasks += studio.export_document(
                    document_id, pages.pages(document_id, doc.blob_uri), current.values(),
                    image_url=image_url.replace("{document_id}", document_id), revision=current.revision,
                    author=current.author, scale=SCALE)
    if fmt == "label-studio":
        (out / "tasks.json").write_text(json.dumps(tasks, ensure_ascii=False))
        (out / "config.xml").write_text(studio.config())
    click.echo(f"{len(ids)} labeled documents -> {out}")


@labels.command("import")
@click.argument("tasks", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--author", required=True, help="Recorded as the labels' author.")
def import_(tasks: Path, author: str) -> None:
    """A Label Studio export (JSON tasks naming docflow documents and pages): a new label revision
    per document; nothing is saved if any document fails."""
    from labeling import store
    from services.parsing.pages import PageCache
    from services.runtime import Runtime
    from services.settings import get_settings
    from services.storage.db import session_scope

    rt = Runtime(get_settings())
    pages = PageCache(rt.blobs, rt.settings.max_pages, size=1)
    with session_scope(rt.engine) as s:
        saved, problems = store.import_tasks(s, json.loads(tasks.read_text(encoding="utf-8")),
                                             lambda doc: pages.pages(doc.document_id, doc.blob_uri or ""), author)
        if problems:
            raise click.ClickException("; ".join(f"{d}: {why}" for d, why in problems.items()))
    click.echo(f"imported {len(saved)} documents: " + ", ".join(f"{d} r{r}" for d, r in saved.items()))
