"""Labels leave and come back: Label Studio's JSON (export, re-import, regions drawn there) and
the training-data export that `docflow train` reads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from labeling.studio import config
from services.contracts import HEADER_FIELDS, LINE_ITEM_FIELDS
from services.extraction.model.features import align_tags, reading_order
from services.extraction.model.labels import LABEL_ID
from services.parsing.readers import DEFAULT_READER
from services.storage.models import LabelSet
from services.synth.layouts import vendor_layouts
from services.synth.render import generate
from services.training.layout_model import corpus_documents
from tests.labeling.conftest import Console
from tests.labeling.test_onboarding import label, picks_from_truth, upload

LAYOUT = vendor_layouts(6, seed=5)[2]


def labelled(console: Console, serial: int = 1) -> tuple[str, str, dict]:
    csrf = console.login("labeler")
    pdf, truth = generate(LAYOUT, 8, serial, items=30)  # line items onto a second page
    doc = upload(console, csrf, pdf)
    label(console, csrf, doc, picks_from_truth(truth))
    return csrf, doc, truth


def comparable(labels: list[dict]) -> list[tuple]:
    return sorted((lab["field"], lab["value"], lab["page"], tuple(tuple(w["bbox"]) for w in lab["words"]))
                  for lab in labels)


def test_a_label_studio_export_reimports_into_the_same_labels(console: Console) -> None:
    csrf, doc, truth = labelled(console)
    tasks = console.client.get("/api/labeling/label-studio/export", params={"documents": [doc]}).json()
    pages = {t["data"]["page"] for t in tasks}
    assert len(pages) == len(tasks) >= 1 and all(t["data"]["document_id"] == doc for t in tasks)
    results = [r for t in tasks for a in t["annotations"] for r in a["result"]]
    by_region: dict[str, set[str]] = {}
    for r in results:
        by_region.setdefault(r["id"], set()).add(r["type"])
        assert 0 <= r["value"]["x"] <= 100 and 0 < r["value"]["width"] <= 100
    assert set(map(frozenset, by_region.values())) == {frozenset({"rectangle", "labels", "textarea"})}
    assert len(by_region) == len(truth["labels"])

    answer = console.client.post("/api/labeling/label-studio/import", content=json.dumps(tasks),
                                 headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == {doc: 2}
    with Session(console.engine) as s:
        first, again = s.exec(select(LabelSet).where(LabelSet.document_id == doc).order_by(LabelSet.revision)).all()
    assert again.origin == "import" and comparable(again.labels) == comparable(first.labels)


def test_regions_drawn_in_label_studio_find_their_words_and_rows(console: Console) -> None:
    """No row in the region's meta: line items are put in rows by position, as drawn."""
    csrf, doc, _ = labelled(console)
    before = console.client.get(f"/api/labeling/documents/{doc}").json()["labels"]
    tasks = console.client.get("/api/labeling/label-studio/export", params={"documents": [doc]}).json()
    drawn = copy.deepcopy(tasks)
    for task in drawn:
        for annotation in task["annotations"]:
            for r in annotation["result"]:
                r.pop("meta", None)
                v = r["value"]  # a hand-drawn box: a little larger than the words
                v["x"], v["y"] = v["x"] - 0.1, v["y"] - 0.1
                v["width"], v["height"] = v["width"] + 0.2, v["height"] + 0.2
    answer = console.client.post("/api/labeling/label-studio/import", content=json.dumps(drawn),
                                 headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    after = console.client.get(f"/api/labeling/documents/{doc}").json()
    assert after["revision"] == 2 and comparable(after["labels"]) == comparable(before)
    assert {lab["page"] for lab in before if lab["field"].startswith("line_items.29.")} == {2}


def test_an_import_naming_an_unknown_document_saves_nothing(console: Console) -> None:
    csrf, doc, _ = labelled(console)
    tasks = console.client.get("/api/labeling/label-studio/export", params={"documents": [doc]}).json()
    stray = copy.deepcopy(tasks[0])
    stray["data"]["document_id"] = "nobody"
    answer = console.client.post("/api/labeling/label-studio/import", content=json.dumps([*tasks, stray]),
                                 headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 422 and "nobody" in answer.json()["detail"]["documents"]
    with Session(console.engine) as s:
        assert len(s.exec(select(LabelSet).where(LabelSet.document_id == doc)).all()) == 1
    bad = console.client.post("/api/labeling/label-studio/import", content=b"[{\"data\": {}}]",
                              headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and "document_id" in bad.json()["detail"]


def test_the_labeling_config_names_every_field() -> None:
    root = ElementTree.fromstring(config())
    values = {label.get("value") for label in root.iter("Label")}
    assert values == set(HEADER_FIELDS) | {f"line_item.{c}" for c in LINE_ITEM_FIELDS}
    assert {e.tag for e in root} == {"Image", "Labels", "Rectangle", "TextArea"}


def test_exported_labels_are_token_level_training_data(console: Console, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _, doc, truth = labelled(console)
    monkeypatch.setenv("DOCFLOW_HOME", str(console.settings.home))
    monkeypatch.setenv("DOCFLOW_DATABASE_URL", console.settings.db_url)
    from services.cli import main

    out = tmp_path / "labels"
    result = CliRunner().invoke(main, ["labels", "export", str(out)])
    assert result.exit_code == 0, result.output
    docs = corpus_documents(out)
    assert [d.key for d in docs] == [doc]
    tagged = 0
    for page in DEFAULT_READER.read(docs[0].pdf.read_bytes(), max_pages=5):
        tags = align_tags(reading_order(page), docs[0].truth["labels"])
        tagged += sum(1 for t in tags if t != LABEL_ID["O"])
    # Every word of every header label is tagged B-/I-<field> (line items are not model fields).
    assert tagged == sum(len(lab["words"]) for lab in truth["labels"] if lab["field"] in HEADER_FIELDS)
