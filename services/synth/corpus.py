"""``docflow synth``: a labeled corpus of synthetic invoices, and its train/test split.

Layout on disk::

    OUT/<vendor_id>/<vendor_id>-<serial>.pdf    the document
    OUT/<vendor_id>/<vendor_id>-<serial>.json   its truth (fields, line items, labelled boxes)
    OUT/vendors.json                            each vendor's layout summary
    OUT/split.json                              which vendors and documents are for what

The split holds out whole vendors (layouts never seen in training: the "new vendor" figure)
and, of the other vendors, a share of documents (the "known vendor" figure). See
docs/evaluation.md.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

from services.synth.layouts import Layout, vendor_layouts
from services.synth.render import generate
from services.synth.scan import scan


def _one(args: tuple[Layout, int, int, bool, Path]) -> str:
    layout, seed, serial, scanned, folder = args
    pdf, truth = generate(layout, seed, serial)
    doc_id = f"{layout.vendor_id}-{serial:04d}"
    truth = {"document_id": doc_id, "scanned": False} | truth
    if scanned:
        pdf, truth = scan(pdf, truth, random.Random(f"scan:{seed}:{doc_id}"))
    (folder / f"{doc_id}.pdf").write_bytes(pdf)
    (folder / f"{doc_id}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    return doc_id


def make_split(vendors: list[str], docs: dict[str, list[str]], *, holdout_vendors: int, test_fraction: float,
               seed: int) -> dict:
    rng = random.Random(f"split:{seed}")
    held = sorted(rng.sample(vendors, holdout_vendors)) if holdout_vendors else []
    train, test_seen = [], []
    for vendor in vendors:
        if vendor in held:
            continue
        ids = sorted(docs[vendor])
        rng.shuffle(ids)
        cut = max(1, round(len(ids) * test_fraction)) if len(ids) > 1 else 0
        test_seen.extend(sorted(ids[:cut]))
        train.extend(sorted(ids[cut:]))
    return {
        "seed": seed,
        "heldout_vendors": held,
        "train_vendors": [v for v in vendors if v not in held],
        "train": sorted(train),
        "test_seen_vendors": sorted(test_seen),
        "test_new_vendors": sorted(d for v in held for d in docs[v]),
    }


def build(out: Path, *, vendors: int, docs: int, seed: int, scanned: float = 0.0, holdout_vendors: int | None = None,
          test_fraction: float = 0.2, jobs: int = 2) -> dict:
    """Write the corpus; returns a summary with the generation rate."""
    import time

    started = time.perf_counter()
    layouts = vendor_layouts(vendors, seed)
    rng = random.Random(f"scanned:{seed}")
    tasks: list[tuple[Layout, int, int, bool, Path]] = []
    for layout in layouts:
        folder = out / layout.vendor_id
        folder.mkdir(parents=True, exist_ok=True)
        tasks.extend((layout, seed, serial, rng.random() < scanned, folder) for serial in range(docs))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        ids = list(pool.map(_one, tasks, chunksize=8))
    by_vendor: dict[str, list[str]] = {}
    for doc_id in ids:
        by_vendor.setdefault(doc_id.rsplit("-", 1)[0], []).append(doc_id)
    held = holdout_vendors if holdout_vendors is not None else max(1, vendors // 5) if vendors > 1 else 0
    split = make_split([lay.vendor_id for lay in layouts], by_vendor, holdout_vendors=held,
                       test_fraction=test_fraction, seed=seed)
    (out / "split.json").write_text(json.dumps(split, indent=1))
    (out / "vendors.json").write_text(json.dumps(
        {lay.vendor_id: {k: v for k, v in asdict(lay).items() if k not in ("labels", "columns")} | {
            "labels": lay.labels} for lay in layouts}, ensure_ascii=False, indent=1))
    seconds = time.perf_counter() - started
    return {"documents": len(ids), "vendors": vendors, "seconds": round(seconds, 2),
            "docs_per_s": round(len(ids) / seconds, 1), "scanned": sum(t[3] for t in tasks), "out": str(out)}
