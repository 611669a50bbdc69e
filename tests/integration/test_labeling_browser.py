"""The labeling service in a real browser (Playwright driving Debian's Chromium) against the real
system: a vendor's first invoice reaches the queue (no template reads it); a labeler opens it from
the work list, labels the header by clicking words and a line item by dragging over it, saves
with the keyboard, induces the template, sees every label reproduced, and publishes. The vendor's
next invoice is then accepted by the running worker, read with that template.

A screenshot of the labeling view goes to $DOCFLOW_SCREENSHOTS (docs/ when refreshed), else to the
test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services import topics
from services.contracts import HEADER_FIELDS
from services.storage.db import make_engine
from services.storage.models import AuditEntry, LabelSet, TemplateVersion
from services.synth import bad
from services.synth.layouts import vendor_layouts
from services.synth.render import generate
from tests.integration.review_world import start_labeling, wait_states
from tests.integration.test_console_browser import log_in

pytestmark = pytest.mark.integration
LAYOUT = vendor_layouts(8, seed=41)[5]
PASSWORD = "labeler secret 2026"


def word_index(words: list[dict], box: list[float]) -> int:
    return next(i for i, w in enumerate(words) if all(abs(a - b) < 1.5 for a, b in zip(w["bbox"], box, strict=True)))


def test_labeler_labels_by_clicking_and_dragging_then_publishes(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("DOCFLOW_SCREENSHOTS") or tmp_path)
    db_url = f"sqlite:///{tmp_path / 'docflow.db'}"
    cluster, port, _ = start_labeling(tmp_path, db_url, PASSWORD)
    try:
        pdf, truth = generate(LAYOUT, 6, 1, items=2)
        cluster.publish([("first", bad.envelope("first", pdf).model_dump_json().encode())])
        assert wait_states(db_url, {"first": "exception"}, 120) == {"first": "exception"}
        header = [lab for lab in truth["labels"] if lab["field"] in HEADER_FIELDS]
        item = [lab for lab in truth["labels"] if lab["field"].startswith("line_items.0.")]
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as pw:
            browser, page = log_in(pw, f"{base}/labeling", "lena", PASSWORD)
            expect(page.locator("table#queue tbody tr").first).to_contain_text("no template reads it")
            page.keyboard.press("Enter")  # the work list's first document
            expect(page).to_have_url(f"{base}/labeling/documents/first")
            words = page.evaluate("() => fetch('/api/documents/first/pages/1/words').then(r => r.json())")["words"]
            expect(page.locator('.page[data-page="1"] .word')).to_have_count(len(words))

            def span(box: list[float]):  # type: ignore[no-untyped-def]
                return page.locator(f'.page[data-page="1"] .word[data-i="{word_index(words, box)}"]')

            for label in header:  # select the field, click its first word, Shift-click the rest
                page.click(f'.field[data-field="{label["field"]}"] .picked')
                span(label["words"][0]["bbox"]).click()
                for w in label["words"][1:]:
                    span(w["bbox"]).click(modifiers=["Shift"])
            page.keyboard.press("i")  # a line-item row; its fields are labelled by dragging over the words
            for label in item:
                page.click(f'.field[data-field="{label["field"]}"] .picked')
                first, last = span(label["words"][0]["bbox"]), span(label["words"][-1]["bbox"])
                first.scroll_into_view_if_needed()
                a, b = first.bounding_box(), last.bounding_box()
                page.mouse.move(a["x"] - 2, a["y"] - 2)
                page.mouse.down()
                page.mouse.move(b["x"] + b["width"] + 2, b["y"] + b["height"] + 2, steps=4)
                page.mouse.up()
            page.keyboard.press("s")
            expect(page.locator("#status")).to_contain_text(f"Saved: revision 1, {len(header) + len(item)} labels")
            page.fill("#template-id", LAYOUT.vendor_id)
            page.keyboard.press("Escape")
            page.keyboard.press("g")
            expect(page.locator("#status")).to_contain_text("every label reproduced")
            expect(page.locator("#check tbody tr.bad")).to_have_count(0)
            page.screenshot(path=str(shots / "labeling.png"), full_page=False)
            page.click("#publish")
            expect(page.locator("#status")).to_contain_text(f"Published {LAYOUT.vendor_id} v1")
            browser.close()

        with Session(make_engine(db_url)) as s:
            saved = s.exec(select(LabelSet)).one()
            assert sorted((lab["field"], lab["value"]) for lab in saved.labels) == sorted(
                (lab["field"], lab["value"]) for lab in header + item)
            assert s.exec(select(TemplateVersion)).one().author == "lena"
            entry = s.exec(select(AuditEntry).where(AuditEntry.action == "template.publish")).one()
            assert (entry.actor, entry.object_id) == ("lena", f"{LAYOUT.vendor_id}@1")

        following, _ = generate(LAYOUT, 6, 2, items=3)
        cluster.publish([("second", bad.envelope("second", following).model_dump_json().encode())])
        records = cluster.terminal({"second"}, timeout=120)["second"]
        assert [r.topic for r in records] == [topics.ACCEPTED]
        assert records[0].payload["detection"]["template_id"] == LAYOUT.vendor_id
    finally:
        cluster.stop()
