"""A vendor onboarded by its e-invoice, without a labeler: its first invoice is a hybrid Factur-X,
accepted from its XML; the teacher finds the XML's values on the print, induces and publishes the
vendor's template (audited, on templates.events, its labels on the labels topic with their origin),
and the vendor's next invoice -- a plain PDF -- is detected with that template and accepted."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from labeling.teacher import AUTHOR
from services import topics
from services.storage.db import make_engine
from services.storage.models import AuditEntry, TemplateVersion
from services.synth import bad
from services.synth.facturx import attach, cii_xml
from services.synth.layouts import vendor_layouts
from services.synth.render import generate
from tests.integration.review_world import start_labeling

pytestmark = pytest.mark.integration
LAYOUT = vendor_layouts(8, seed=31)[6]


def published_templates(db_url: str, timeout: float) -> list[TemplateVersion]:
    engine = make_engine(db_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with Session(engine) as s:
                rows = list(s.exec(select(TemplateVersion).where(TemplateVersion.author == AUTHOR)).all())
            if rows or time.monotonic() > deadline:
                return rows
            time.sleep(0.5)
    finally:
        engine.dispose()


def test_a_hybrid_invoice_onboards_its_vendor(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'docflow.db'}"
    cluster, port, token = start_labeling(tmp_path, db_url, "labeler secret 2026")
    try:
        first_pdf, first_truth = generate(LAYOUT, 4, 1)
        hybrid = attach(first_pdf, cii_xml(first_truth))
        cluster.publish([("hybrid", bad.envelope("hybrid", hybrid).model_dump_json().encode())])
        records = cluster.terminal({"hybrid"}, timeout=120)["hybrid"]
        assert [r.topic for r in records] == [topics.ACCEPTED], records
        assert records[0].payload["detection"]["status"] == "unknown"
        assert records[0].payload["fields"]["invoice_number"]["source"] == "einvoice:factur-x.xml"

        (template,) = published_templates(db_url, 60)
        assert template.documents == ["hybrid"] and template.checks["origin"] == "einvoice"
        with Session(make_engine(db_url)) as s:
            audit = s.exec(select(AuditEntry).where(AuditEntry.action == "template.publish")).all()
        assert [(a.actor, a.object_id, a.after["origin"]) for a in audit] == [
            (AUTHOR, f"{template.template_id}@1", "einvoice")]

        # Labelers see it among the template's versions, with its origin, to review or roll back.
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                           headers={"Authorization": f"Bearer {token}"})
        (version,) = api.get(f"/api/labeling/templates/{template.template_id}").json()["versions"]
        assert (version["author"], version["checks"]["origin"], version["active"]) == (AUTHOR, "einvoice", True)
        page = api.get(f"/labeling/templates/{template.template_id}")
        assert page.status_code == 200 and "Learned from a hybrid e-invoice" in page.text

        # The vendor's next invoice, a plain PDF: read by the learned template, straight through.
        next_pdf, next_truth = generate(LAYOUT, 4, 2)
        cluster.publish([("plain", bad.envelope("plain", next_pdf).model_dump_json().encode())])
        records = cluster.terminal({"plain"}, timeout=120)["plain"]
        assert [r.topic for r in records] == [topics.ACCEPTED], records
        accepted = records[0].payload
        assert (accepted["detection"]["status"], accepted["detection"]["template_id"]) == (
            "matched", template.template_id)
        ref = f"{template.template_id}@1"
        for name in ("invoice_number", "invoice_date", "total_amount"):
            assert accepted["fields"][name]["value"] == next_truth["fields"][name], name
            assert ref in accepted["fields"][name]["source"], name

        events = cluster.terminal({template.template_id}, timeout=30, names=(topics.TEMPLATES_EVENTS,))
        assert [(e.payload["version"], e.payload["action"], e.payload["author"])
                for e in events[template.template_id]] == [(1, "published", AUTHOR)]
        labels = cluster.terminal({"hybrid"}, timeout=30, settle=2, names=(topics.LABELS,))["hybrid"]
        assert {lab.payload["origin"] for lab in labels} == {"einvoice"}
        assert {lab.payload["field"] for lab in labels} >= {"invoice_number", "invoice_date", "total_amount"}
    finally:
        cluster.stop()
