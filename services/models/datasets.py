"""Dataset versions: a frozen, content-hashed snapshot of what a training run reads.

A snapshot is the synthetic base corpus (a folder, recorded by its hash, not copied) plus every
human-labelled document up to a cutoff, written out as PDF + truth JSON:

- a labeler's label set (its newest revision before the cutoff), word boxes and all;
- a document an operator corrected: its fields as the review left them (corrected values where
  the operator pointed at the words, extracted ones where the operator approved them), turned
  into word labels by the words inside each value's box.

The newest ``recent_share`` of corrected documents are written apart (``recent/``) and kept out
of training: candidates are scored on them. The version is the hash of everything in it, so the
same labels always give the same version, and a model's record names the exact data it saw.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from labeling.labels import suggest, template_id_for, truth
from services.contracts import Page
from services.models.policy import Retrain
from services.storage.lifecycle import DatasetVersion
from services.storage.models import Document as DocumentRow
from services.storage.models import LabelRecord, LabelSet
from services.training.layout_model import Document, corpus_documents, dataset_hash

PagesOf = Callable[[DocumentRow], list[Page]]


def _labeler_sets(s: Session, cutoff: datetime) -> dict[str, LabelSet]:
    newest: dict[str, LabelSet] = {}
    for row in s.exec(select(LabelSet).where(LabelSet.created_at <= cutoff)
                      .order_by(col(LabelSet.document_id), col(LabelSet.revision).desc())).all():
        newest.setdefault(row.document_id, row)
    return newest


def _corrections(s: Session, cutoff: datetime) -> dict[str, list[LabelRecord]]:
    by_doc: dict[str, list[LabelRecord]] = {}
    for row in s.exec(select(LabelRecord).where(LabelRecord.origin == "operator", LabelRecord.created_at <= cutoff)
                      .order_by(col(LabelRecord.created_at))).all():
        by_doc.setdefault(row.document_id, []).append(row)
    return by_doc


def human_documents(s: Session, cutoff: datetime, pages_of: PagesOf, limit: int) -> list[dict[str, Any]]:
    """Every human-labelled document up to ``cutoff``, newest last: its truth (with word labels)
    and where the labels came from."""
    out: list[dict[str, Any]] = []
    for document_id, row in _labeler_sets(s, cutoff).items():
        doc = s.get(DocumentRow, document_id)
        if doc is not None and doc.blob_uri:
            out.append({"row": doc, "labels": row.values(), "origin": row.origin, "at": row.created_at,
                        "source": {"revision": row.revision, "author": row.author}})
    labeled = {d["row"].document_id for d in out}
    for document_id, rows in _corrections(s, cutoff).items():
        doc = s.get(DocumentRow, document_id)
        read = doc.validated() if doc is not None else None
        if document_id in labeled or doc is None or not doc.blob_uri or read is None or doc.state != "accepted":
            continue
        labels = suggest(read.fields, pages_of(doc))
        if labels:
            out.append({"row": doc, "labels": labels, "origin": "operator", "at": rows[-1].created_at,
                        "source": {"label_ids": [r.label_id for r in rows]}})
    out.sort(key=lambda d: (d["at"], d["row"].document_id))
    return out[-limit:]


def snapshot(s: Session, *, cutoff: datetime, base: Path | None, out_root: Path, blobs: Any, pages_of: PagesOf,
             policy: Retrain) -> DatasetVersion:
    """Write (or find) the dataset version of everything labelled up to ``cutoff``."""
    base_docs = corpus_documents(base) if base is not None and base.exists() else []
    base_info = {"corpus": str(base) if base else None, "sha256": dataset_hash(base_docs) if base_docs else None,
                 "documents": len(base_docs)}
    human = human_documents(s, cutoff, pages_of, policy.max_human_documents)
    corrected = [d for d in human if d["origin"] == "operator"]
    n_recent = int(len(corrected) * policy.recent_share)
    recent = {d["row"].document_id for d in corrected[len(corrected) - n_recent:]} if n_recent else set()
    digest = hashlib.sha256(json.dumps(base_info, sort_keys=True).encode())
    staged, manifest = [], []
    for d in human:
        row: DocumentRow = d["row"]
        pdf = blobs.get(row.blob_uri)
        vendor = template_id_for(truth(d["labels"])["fields"].get("vendor_name") or row.vendor or "unknown")
        body = {"document_id": row.document_id, "vendor_id": vendor, "origin": d["origin"]} | truth(d["labels"])
        pdf_hash = hashlib.sha256(pdf).hexdigest()
        digest.update(row.document_id.encode() + pdf_hash.encode() + json.dumps(body, sort_keys=True).encode())
        part = "recent" if row.document_id in recent else "train"
        staged.append((part, vendor, row.document_id, pdf, body))
        manifest.append({"document_id": row.document_id, "origin": d["origin"], "vendor": vendor, "part": part,
                         "pdf_sha256": pdf_hash, "labels": len(d["labels"])} | d["source"])
    sha = digest.hexdigest()
    version = f"ds-{sha[:12]}"
    existing = s.get(DatasetVersion, version)
    if existing is not None:
        return existing
    folder = out_root / version
    if folder.exists():
        shutil.rmtree(folder)
    for part, vendor, document_id, pdf, body in staged:
        target = folder / part / vendor
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{document_id}.pdf").write_bytes(pdf)
        (target / f"{document_id}.json").write_text(json.dumps(body, ensure_ascii=False, indent=1))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"version": version, "sha256": sha, "cutoff": cutoff.isoformat(),
                                                      "base": base_info, "documents": manifest}, indent=1))
    made = DatasetVersion(version=version, sha256=sha, cutoff=cutoff, base=base_info, documents=len(human),
                          labels=sum(m["labels"] for m in manifest), manifest=manifest, recent=sorted(recent),
                          folder=str(folder))
    s.add(made)
    s.flush()
    return made


def training_documents(dataset: DatasetVersion, human_weight: int) -> list[Document]:
    """What a training run reads: the base corpus's documents, and each human one ``human_weight`` times."""
    base = Path(dataset.base["corpus"]) if dataset.base.get("corpus") else None
    docs = corpus_documents(base) if base is not None and base.exists() else []
    if dataset.base.get("sha256") and dataset_hash(docs) != dataset.base["sha256"]:
        raise ValueError(f"the base corpus {base} changed since {dataset.version} was taken")
    human = corpus_documents(Path(dataset.folder) / "train")
    return docs + human * human_weight


def recent_documents(dataset: DatasetVersion) -> list[Document]:
    folder = Path(dataset.folder) / "recent"
    return corpus_documents(folder) if folder.exists() else []
