"""A vendor onboarded while the system runs: its first invoice lands in the queue (no template
reads it), a labeler labels it through the HTTP API and publishes the induced template, and the
same worker process -- never restarted -- reads the vendor's next invoice with that template.
The publish and the labels reach their topics through the web server's outbox."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services import topics
from services.synth import bad
from services.synth.layouts import vendor_layouts
from services.synth.render import generate
from tests.integration.review_world import start_labeling, wait_states
from tests.labeling.test_onboarding import picks_from_truth

pytestmark = pytest.mark.integration
LAYOUT = vendor_layouts(8, seed=31)[3]


def test_a_published_template_applies_to_the_next_document_without_a_restart(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'docflow.db'}"
    cluster, port, token = start_labeling(tmp_path, db_url, "labeler secret 2026")
    try:
        worker = cluster.workers["w1"]
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                           headers={"Authorization": f"Bearer {token}"})

        first_pdf, first_truth = generate(LAYOUT, 4, 1)
        cluster.publish([("first", bad.envelope("first", first_pdf).model_dump_json().encode())])
        assert wait_states(db_url, {"first": "exception"}, 120) == {"first": "exception"}
        work = api.get("/api/labeling/worklist").json()["documents"]
        assert work[0]["document_id"] == "first" and work[0]["why"] == "no template reads it"

        saved = api.put("/api/labeling/documents/first/labels", json={"picks": picks_from_truth(first_truth)})
        assert saved.status_code == 200, saved.text
        induced = api.post(f"/api/labeling/templates/{LAYOUT.vendor_id}/induce", json={"documents": ["first"]}).json()
        assert induced["check"]["ok"], induced["check"]
        published = api.post(f"/api/labeling/templates/{LAYOUT.vendor_id}/publish",
                             json={"documents": ["first"], "yaml": induced["yaml"]})
        assert published.status_code == 201, published.text

        # The next invoice of the vendor, to the same running worker.
        next_pdf, next_truth = generate(LAYOUT, 4, 2)
        cluster.publish([("next", bad.envelope("next", next_pdf).model_dump_json().encode())])
        records = cluster.terminal({"next"}, timeout=120)["next"]
        assert [r.topic for r in records] == [topics.ACCEPTED], records
        accepted = records[0].payload
        assert accepted["detection"]["template_id"] == LAYOUT.vendor_id
        assert accepted["detection"]["template_version"] == 1
        ref = f"{LAYOUT.vendor_id}@1"
        for name, value in next_truth["fields"].items():
            if value is not None:
                assert accepted["fields"][name]["value"] == value and ref in accepted["fields"][name]["source"], name
        assert worker.poll() is None and cluster.workers["w1"] is worker  # the same process throughout

        events = cluster.terminal({LAYOUT.vendor_id}, timeout=30, names=(topics.TEMPLATES_EVENTS,))
        assert [(e.payload["template_id"], e.payload["version"], e.payload["action"], e.payload["author"])
                for e in events[LAYOUT.vendor_id]] == [(LAYOUT.vendor_id, 1, "published", "lena")]
        labels = cluster.terminal({"first"}, timeout=30, settle=2, names=(topics.LABELS,))["first"]
        assert sorted((lab.payload["field"], lab.payload["value"]) for lab in labels) == sorted(
            (lab["field"], lab["value"]) for lab in first_truth["labels"])
        assert {lab.payload["origin"] for lab in labels} == {"labeler"}
    finally:
        cluster.stop()
