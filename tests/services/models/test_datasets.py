"""Dataset versions: a labeler's label set and an operator's corrected document become training
documents with word labels; the version is the content's hash, so the same labels give the same
version and one more label a new one; the newest corrections are kept apart to score on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.contracts import Detection, DocumentRef, FieldValue, ValidatedDocument, Validation
from services.models.datasets import snapshot, training_documents
from services.models.policy import Retrain
from services.parsing.pages import PageCache
from services.runtime import Runtime
from services.storage.db import session_scope, upgrade
from services.storage.models import Document, LabelRecord, LabelSet
from services.synth.layouts import vendor_layouts
from services.synth.render import generate
from services.training.layout_model import corpus_documents

LAYOUT = vendor_layouts(3, seed=9)[1]


def _document(s, rt: Runtime, doc_id: str, serial: int) -> dict:  # type: ignore[no-untyped-def]
    pdf, truth = generate(LAYOUT, 9, serial)
    fields = {lab["field"]: FieldValue(value=lab["value"], confidence=0.99, source="vendor@1", page=lab["page"],
                                       bbox=lab["bbox"])
              for lab in truth["labels"] if "." not in lab["field"]}
    blob_uri = rt.blobs.put(pdf)
    read = ValidatedDocument(
        doc=DocumentRef(document_id=doc_id, source="test", filename=f"{doc_id}.pdf", content_type="application/pdf",
                        sha256=blob_uri.rsplit("/", 1)[-1], size=len(pdf), blob_uri=blob_uri,
                        submitted_at=datetime.now(UTC)),
        detection=Detection(status="matched"), page_count=1, text_layer="full", fields=fields,
        validation=Validation(ok=True))
    s.add(Document(document_id=doc_id, blob_uri=blob_uri, state="accepted", vendor=LAYOUT.vendor_name,
                   result=read.model_dump(mode="json")))
    return truth


def test_snapshot_is_content_addressed_and_keeps_recent_corrections_apart(rt: Runtime, tmp_path: Path) -> None:
    upgrade(rt.settings.db_url)
    pages = PageCache(rt.blobs, 5, size=4)
    policy = Retrain(recent_share=0.5)
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    with session_scope(rt.engine) as s:
        labeled = _document(s, rt, "labeled", 1)
        s.add(LabelSet(document_id="labeled", revision=1, labels=labeled["labels"], origin="labeler", author="lena",
                       created_at=t0))
        for n, doc_id in enumerate(("fixed-1", "fixed-2")):
            _document(s, rt, doc_id, 2 + n)
            s.add(LabelRecord(label_id=f"d{n}:total_amount", document_id=doc_id, field="total_amount", value="1",
                              origin="operator", author="olga", created_at=t0 + timedelta(minutes=n + 1)))

    def take(cutoff: datetime):  # type: ignore[no-untyped-def]
        with session_scope(rt.engine) as s:
            found = snapshot(s, cutoff=cutoff, base=None, out_root=tmp_path / "datasets", blobs=rt.blobs,
                             pages_of=lambda d: pages.pages(d.document_id, d.blob_uri or ""), policy=policy)
            s.expunge(found)
            return found

    first = take(t0 + timedelta(minutes=3))
    assert first.version == take(t0 + timedelta(minutes=3)).version == f"ds-{first.sha256[:12]}"
    assert (first.documents, first.recent) == (3, ["fixed-2"])
    origins = {m["document_id"]: (m["origin"], m["part"]) for m in first.manifest}
    assert origins == {"labeled": ("labeler", "train"), "fixed-1": ("operator", "train"),
                       "fixed-2": ("operator", "recent")}
    trained = corpus_documents(Path(first.folder) / "train")
    assert sorted(d.key for d in trained) == ["fixed-1", "labeled"]
    fixed = next(d for d in trained if d.key == "fixed-1")
    assert {lab["field"] for lab in fixed.truth["labels"]} >= {"invoice_number", "total_amount", "vendor_name"}
    assert all(lab["words"] for lab in fixed.truth["labels"])  # word labels: what training aligns tags to
    assert len(training_documents(first, human_weight=3)) == 6
    earlier = take(t0 + timedelta(seconds=30))  # before any correction: another version
    assert earlier.version != first.version and earlier.documents == 1
    manifest = json.loads((Path(first.folder) / "manifest.json").read_text())
    assert manifest["sha256"] == first.sha256
