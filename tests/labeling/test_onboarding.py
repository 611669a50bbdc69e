"""One-example onboarding through the HTTP API: upload a vendor's invoice, label it by word boxes,
induce, check, publish; the stream then reads the vendor's other invoices with that template."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.contracts import (
    AcceptedDocument,
    Detection,
    DocumentRef,
    FieldValue,
    IncomingDocument,
    ValidatedDocument,
    Validation,
)
from services.monitoring import metrics
from services.pipeline import run
from services.runtime import Runtime
from services.storage.models import AuditEntry, Document, LabelRecord, LabelSet, TemplateEventRecord
from services.synth.layouts import vendor_layouts
from services.synth.render import generate
from tests.labeling.conftest import Console

LAYOUT = vendor_layouts(12, seed=11)[4]


def picks_from_truth(truth: dict) -> list[dict]:
    """What a labeler's clicks send: the field, the page and the boxes of the words clicked."""
    return [{"field": lab["field"], "page": lab["page"], "words": [w["bbox"] for w in lab["words"]]}
            for lab in truth["labels"]]


def upload(console: Console, csrf: str, pdf: bytes) -> str:
    answer = console.client.post("/api/labeling/documents", files={"file": ("invoice.pdf", pdf, "application/pdf")},
                                 headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 201, answer.text
    return answer.json()["document_id"]


def label(console: Console, csrf: str, document_id: str, picks: list[dict], base: int | None = None) -> dict:
    answer = console.client.put(f"/api/labeling/documents/{document_id}/labels",
                                json={"picks": picks, "base_revision": base}, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    return answer.json()


def post(console: Console, csrf: str, path: str, body: dict):  # type: ignore[no-untyped-def]
    return console.client.post(f"/api/labeling/{path}", json=body, headers={"X-CSRF-Token": csrf})


def test_label_one_document_induce_publish_and_read_the_vendors_others(console: Console) -> None:
    csrf = console.login("labeler")
    pdf, truth = generate(LAYOUT, 8, 1)
    doc = upload(console, csrf, pdf)
    worklist = console.client.get("/api/labeling/worklist").json()["documents"]
    assert worklist[0]["document_id"] == doc and worklist[0]["why"] == "no template reads it"

    saved = label(console, csrf, doc, picks_from_truth(truth))
    # The server read the words at the boxes and normalised them: the truth's values come back.
    values = {lab["field"]: lab["value"] for lab in saved["labels"]}
    assert values == {lab["field"]: lab["value"] for lab in truth["labels"]}
    assert doc not in [d["document_id"] for d in console.client.get("/api/labeling/worklist").json()["documents"]]

    template_id = LAYOUT.vendor_id
    induced = console.client.post(f"/api/labeling/templates/{template_id}/induce", json={"documents": [doc]},
                                  headers={"X-CSRF-Token": csrf}).json()
    assert induced["version"] == 1 and induced["check"]["ok"], induced["check"]
    assert induced["check"]["documents"][0]["matched"]

    published = console.client.post(f"/api/labeling/templates/{template_id}/publish",
                                    json={"documents": [doc], "yaml": induced["yaml"], "note": "first invoice"},
                                    headers={"X-CSRF-Token": csrf})
    assert published.status_code == 201, published.text

    rt = Runtime(console.settings)  # a worker started after the publish reads with it too
    for serial in (2, 3, 4):
        other, want = generate(LAYOUT, 8, serial)
        envelope = IncomingDocument(document_id=f"o{serial}", source="t", content=base64.b64encode(other).decode())
        outcome = run(envelope, rt)
        result = outcome.result
        assert result.detection.template_id == template_id and result.detection.template_version == 1
        for name, value in want["fields"].items():
            if value is not None:
                assert result.fields[name].value == value, (name, serial)
                assert f"{template_id}@1" in result.fields[name].source, result.fields[name].source
        assert isinstance(result, AcceptedDocument), outcome.reasons

    with Session(console.engine) as s:
        events = s.exec(select(TemplateEventRecord)).all()
        assert [(e.template_id, e.version, e.action, e.author) for e in events] == [
            (template_id, 1, "published", "labeler")]
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "template.publish")).all()
        assert [e.object_id for e in entries] == [f"{template_id}@1"] and entries[0].reason == "first invoice"
        rows = s.exec(select(LabelRecord).where(LabelRecord.document_id == doc)).all()
        assert len(rows) == len(truth["labels"]) and {r.origin for r in rows} == {"labeler"}
        assert s.exec(select(LabelSet)).one().published_at is None  # waits for the outbox relay


def test_versions_roll_back_and_the_running_runtime_follows(console: Console) -> None:
    csrf = console.login("labeler")
    pdf, truth = generate(LAYOUT, 8, 1)
    doc = upload(console, csrf, pdf)
    label(console, csrf, doc, picks_from_truth(truth))
    tid = LAYOUT.vendor_id
    rt = Runtime(console.settings)
    assert tid not in {t.id for t in rt.templates}
    reloads = metrics.TEMPLATE_RELOADS._value.get()
    for version in (1, 2):
        induced = post(console, csrf, f"templates/{tid}/induce", {"documents": [doc]}).json()
        assert induced["version"] == version
        assert post(console, csrf, f"templates/{tid}/publish",
                    {"documents": [doc], "yaml": induced["yaml"]}).status_code == 201
        rt.refresh_templates()
        assert rt.extraction.templates[tid].version == version

    versions = console.client.get(f"/api/labeling/templates/{tid}").json()["versions"]
    assert [(v["version"], v["status"], v["active"]) for v in versions] == [
        (2, "published", True), (1, "published", False)]
    back = post(console, csrf, f"templates/{tid}/rollback", {"version": 1})
    assert back.json() == {"template_id": tid, "active": 1, "retired": [2]}
    rt.refresh_templates()
    assert rt.extraction.templates[tid].version == 1
    assert rt.extraction.versions[(tid, 2)].version == 2  # a document detected with v2 is still read with v2
    assert metrics.TEMPLATE_RELOADS._value.get() - reloads >= 3  # two publishes, one rollback (and the app's)
    assert rt.registry.refresh() is False  # nothing new: no reload
    again = post(console, csrf, f"templates/{tid}/rollback", {"version": 1})
    assert again.status_code == 409
    with Session(console.engine) as s:
        rows = s.exec(select(TemplateEventRecord).order_by(TemplateEventRecord.seq)).all()
        actions = [(e.version, e.action) for e in rows]
    assert actions == [(1, "published"), (2, "published"), (2, "retired"), (1, "rolled_back")]


def test_bad_labels_and_bad_templates_are_refused_with_the_reason(console: Console) -> None:
    csrf = console.login("labeler")
    pdf, truth = generate(LAYOUT, 8, 1)
    doc = upload(console, csrf, pdf)
    h = {"X-CSRF-Token": csrf}
    answer = console.client.put(f"/api/labeling/documents/{doc}/labels", headers=h, json={"picks": [
        {"field": "invoice_number", "page": 1, "words": [[1, 1, 2, 2]]},
        {"field": "line_items.0.colour", "value": "red"},
        {"field": "total_amount", "value": "twelve"}]})
    assert answer.status_code == 422
    problems = answer.json()["detail"]["fields"]
    assert set(problems) == {"invoice_number", "line_items.0.colour", "total_amount"}
    assert "no word at" in problems["invoice_number"] and "not an amount" in problems["total_amount"]

    first = label(console, csrf, doc, picks_from_truth(truth))
    label(console, csrf, doc, picks_from_truth(truth)[:3], base=first["revision"])
    stale = console.client.put(f"/api/labeling/documents/{doc}/labels", headers=h,
                               json={"picks": picks_from_truth(truth), "base_revision": first["revision"]})
    assert stale.status_code == 409 and "meanwhile" in stale.json()["detail"]

    induced = console.client.post(f"/api/labeling/templates/{LAYOUT.vendor_id}/induce", json={"documents": [doc]},
                                  headers=h).json()
    wrong_id = console.client.post("/api/labeling/templates/other/publish", headers=h,
                                   json={"documents": [doc], "yaml": induced["yaml"]})
    assert wrong_id.status_code == 422 and "expected 'other'" in wrong_id.json()["detail"]
    broken = induced["yaml"].replace("pattern:", "pattern: '(unclosed'\n    x_pattern:", 1)
    assert console.client.post(f"/api/labeling/templates/{LAYOUT.vendor_id}/check", headers=h,
                               json={"documents": [doc], "yaml": broken}).status_code == 422


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_only_labelers_and_admins_label_or_publish(console: Console, role: str) -> None:
    csrf = console.login(role)
    h = {"X-CSRF-Token": csrf}
    assert console.client.put("/api/labeling/documents/exc-1/labels", headers=h, json={"picks": []}).status_code == 403
    assert console.client.post("/api/labeling/templates/x/publish", headers=h,
                               json={"documents": ["exc-1"], "yaml": "id: x"}).status_code == 403


def test_an_extracted_document_opens_pre_filled_with_what_was_read(console: Console) -> None:
    console.login("labeler")
    html = console.client.get("/labeling/documents/exc-1").text
    data = json.loads(html.split('<script type="application/json" id="label-data">')[1].split("</script>")[0])
    assert data["suggested"] and data["revision"] is None
    with Session(console.engine) as s:
        result = s.get(Document, "exc-1").result
    read = {name: f["value"] for name, f in result["fields"].items() if f.get("bbox")}
    assert {lab["field"]: lab["value"] for lab in data["labels"]} == read
    assert all(lab["words"] for lab in data["labels"])
    assert "invoice_number" not in read  # the field the queue item is about stays for the labeler


def test_the_labeling_view_offers_the_vendors_other_labeled_documents(console: Console) -> None:
    csrf = console.login("labeler")
    docs = []
    for serial in (1, 2, 3):
        pdf, truth = generate(LAYOUT, 8, serial)
        docs.append(upload(console, csrf, pdf))
        label(console, csrf, docs[-1], picks_from_truth(truth))
    other_vendor, truth = generate(vendor_layouts(12, seed=11)[5], 8, 1)
    stranger = upload(console, csrf, other_vendor)
    label(console, csrf, stranger, picks_from_truth(truth))

    html = console.client.get(f"/labeling/documents/{docs[0]}").text
    data = json.loads(html.split('<script type="application/json" id="label-data">')[1].split("</script>")[0])
    assert sorted(data["alike"]) == sorted(docs[1:]) and stranger not in data["alike"]
    assert f'value="{docs[1]}"' in html  # a checkbox for each
    induced = post(console, csrf, f"templates/{LAYOUT.vendor_id}/induce", {"documents": docs}).json()
    assert [d["document_id"] for d in induced["check"]["documents"]] == docs and induced["check"]["ok"]


def test_a_published_version_exports_to_a_rules_folder(console: Console, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from services.cli import main
    from services.vocabulary.templates import load_templates

    csrf = console.login("labeler")
    pdf, truth = generate(LAYOUT, 8, 1)
    doc = upload(console, csrf, pdf)
    label(console, csrf, doc, picks_from_truth(truth))
    induced = post(console, csrf, f"templates/{LAYOUT.vendor_id}/induce", {"documents": [doc]}).json()
    assert post(console, csrf, f"templates/{LAYOUT.vendor_id}/publish",
                {"documents": [doc], "yaml": induced["yaml"]}).status_code == 201
    monkeypatch.setenv("DOCFLOW_HOME", str(console.settings.home))
    monkeypatch.setenv("DOCFLOW_DATABASE_URL", console.settings.db_url)
    out = tmp_path / "templates"
    result = CliRunner().invoke(main, ["templates", "export", LAYOUT.vendor_id, "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = {t.ref: t for t in load_templates(out)}
    assert list(exported) == [f"{LAYOUT.vendor_id}@1"]
    assert exported[f"{LAYOUT.vendor_id}@1"] == Runtime(console.settings).registry.current.by_id[LAYOUT.vendor_id]
    missing = CliRunner().invoke(main, ["templates", "export", "nobody", "--out", str(out)])
    assert missing.exit_code != 0 and "no template nobody" in missing.output


def test_an_accepted_document_no_template_read_comes_first(console: Console) -> None:
    """With unknown_template: accept, a vendor's first invoice may go straight through: the work list
    still puts it first by its detection, before the documents a template read."""
    from labeling.store import worklist
    from services.storage.db import session_scope

    blob_uri = "blob://sha256/" + "1" * 64
    read = ValidatedDocument(
        doc=DocumentRef(document_id="ranked-1", source="test", filename="ranked-1.pdf", content_type="application/pdf",
                        sha256="1" * 64, size=1, blob_uri=blob_uri, submitted_at=datetime.now(UTC)),
        detection=Detection(status="unknown"), page_count=1, text_layer="full",
        fields={"total_amount": FieldValue(value="1.00", confidence=0.97, source="model@1")},
        validation=Validation(ok=True))
    with session_scope(console.engine) as s:
        s.add(Document(document_id="ranked-1", state="accepted", blob_uri=blob_uri, reasons=[],
                       result=read.model_dump(mode="json")))
    with session_scope(console.engine) as s:
        first = worklist(s)[0]
    assert first["document_id"] == "ranked-1" and first["why"] == "no template reads it"
