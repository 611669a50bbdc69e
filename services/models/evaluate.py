"""A model artifact scored per header field on labelled documents: the figures the gate compares
and the registry keeps (the frozen evaluation set, and the recent corrections kept out of
training)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from services.contracts import HEADER_FIELDS
from services.evaluation.score import Counts, compare_field
from services.parsing.readers import DEFAULT_READER
from services.training.layout_model import Document, corpus_documents


def frozen_set(folder: Path | None) -> tuple[list[Document], str | None]:
    """The frozen evaluation set's documents and its content hash (None when there is none)."""
    if folder is None or not folder.exists():
        return [], None
    docs = corpus_documents(folder)
    digest = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.key):
        digest.update(doc.key.encode() + hashlib.sha256(doc.pdf.read_bytes()).digest())
    return docs, digest.hexdigest()


def per_field(artifact: Path, docs: list[Document], *, int8: bool = True,
              cache: Path | None = None) -> dict[str, float]:
    """F1 per header field and overall ("header"), and the documents scored ("documents"); ``cache``:
    where the int8 form is compiled (the settings' ``cache_dir``, as the workers that serve it)."""
    from services.extraction.model.infer import LayoutModel

    model = LayoutModel(artifact, int8=int8, cache=cache)
    fields = {name: Counts() for name in HEADER_FIELDS}
    for doc in docs:
        pages = DEFAULT_READER.read(doc.pdf.read_bytes(), max_pages=50)
        found = model.extract(pages)
        for name in HEADER_FIELDS:
            truth = doc.truth["fields"].get(name)
            fields[name].add(compare_field(name, truth, found[name].value if name in found else None))
    total = Counts()
    for counts in fields.values():
        total.add(counts)
    out = {name: counts.as_dict()["f1"] for name, counts in fields.items() if counts.tp + counts.fn + counts.fp}
    return out | {"header": total.as_dict()["f1"], "documents": len(docs)}
