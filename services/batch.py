"""`docflow extract` over many files: the in-process path, one JSON report per PDF."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from services.contracts import IncomingDocument
from services.ids import content_document_id
from services.pipeline import extract_report, run
from services.runtime import Runtime
from services.settings import Settings

_runtimes: dict[str, Runtime] = {}


def extract_file(path: Path, settings: Settings) -> dict:
    # One runtime (templates, model) per process and configuration: tasks arrive with a fresh
    # copy of the settings each, and loading the model per document would cost more than reading it.
    key = settings.model_dump_json()
    _runtime = _runtimes.get(key)
    if _runtime is None:
        _runtime = _runtimes[key] = Runtime(settings)
    return read_file(path, _runtime)


def read_file(path: Path, rt: Runtime, hook: Any = None) -> dict:
    """One local PDF through the document path: its ``docflow extract --json`` report."""
    data = path.read_bytes()
    envelope = IncomingDocument(
        document_id=content_document_id(data), source="cli", filename=path.name,
        content=base64.b64encode(data).decode(),
    )
    # A local file is not a Kafka message: only the document size limit applies, not the inline one.
    limits = replace(rt.limits, inline_content_limit=max(rt.limits.inline_content_limit, len(data)))
    return extract_report(run(envelope, rt, limits=limits, extracted_hook=hook))


def _task(args: tuple[Path, Path, Settings]) -> str:
    source, target, settings = args
    report = extract_file(source, settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, ensure_ascii=False))
    return report["state"]


def extract_many(paths: tuple[Path, ...], out: Path, settings: Settings, *, jobs: int = 2) -> dict:
    tasks = []
    for root in paths:
        files = sorted(root.rglob("*.pdf")) if root.is_dir() else [root]
        for f in files:
            rel = f.relative_to(root) if root.is_dir() else Path(f.name)
            tasks.append((f, out / rel.with_suffix(".json"), settings))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        states = list(pool.map(_task, tasks, chunksize=4))
    return {"documents": len(states), "out": str(out),
            "states": {s: states.count(s) for s in sorted(set(states))}}
