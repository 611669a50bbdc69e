"""The console in a real browser (Playwright driving Debian's Chromium) against the real system:
an operator logs in, opens an exception, fixes the invoice number by clicking the word on the page
image, approves with the keyboard, and the document comes out accepted, with the correction in
the audit log and as a label.

Screenshots of the queue and the document view go to $DOCFLOW_SCREENSHOTS (docs/ when refreshed
for the README), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.storage.db import make_engine
from services.storage.models import AuditEntry, LabelRecord
from tests.integration.review_world import PASSWORD, northwind, publish, start, wait_states

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # installed by scripts/ensure-system-packages
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def log_in(pw, url: str, username: str, password: str, height: int = 1000):  # type: ignore[no-untyped-def]
    """Chromium on ``url``, through the login form it redirects to: (browser, page)."""
    from playwright.sync_api import expect

    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    page = browser.new_page(viewport={"width": 1440, "height": height})
    page.goto(url)
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    expect(page).to_have_url(url.removesuffix("/" + path) + "/login?next=/" + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    return browser, page


def test_operator_fixes_a_field_by_clicking_a_word_and_approves(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("DOCFLOW_SCREENSHOTS") or tmp_path)
    db_url = f"sqlite:///{tmp_path / 'docflow.db'}"
    cluster, port = start(tmp_path, db_url)
    docs = northwind(4, seed=11)
    ids = sorted(docs)
    try:
        cluster.start_worker("w1")
        publish(cluster, docs)
        assert wait_states(db_url, dict.fromkeys(ids, "exception"), 180) == dict.fromkeys(ids, "exception")
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as pw:
            browser, page = log_in(pw, f"{base}/console/queue", "olga", PASSWORD)
            expect(page.locator("table#queue tbody tr")).to_have_count(4)
            expect(page.locator(".chip").first).to_contain_text("REQUIRED_FIELD_MISSING")
            page.screenshot(path=str(shots / "console-queue.png"))

            target = ids[0]
            truth = docs[target][1]["fields"]["invoice_number"]
            page.click(f"text={target}")
            expect(page).to_have_url(f"{base}/console/documents/{target}")
            word = page.locator(f'.word[data-text="{truth}"]')
            expect(word).to_have_count(1)  # the page's words arrived and are drawn on the image
            expect(page.locator("#issues")).to_contain_text("REQUIRED_FIELD_MISSING")
            page.click("#f-invoice_number")
            word.click()
            expect(page.locator("#f-invoice_number")).to_have_value(truth)
            expect(page.locator("#issues")).to_contain_text("No issues.")  # checked live as it changed
            page.locator("#comment").fill("invoice number read from the header")
            page.screenshot(path=str(shots / "console-document.png"))
            page.keyboard.press("Escape")
            page.keyboard.press("a")
            expect(page.locator("#status")).to_contain_text("approve: done")
            page.wait_for_url(f"{base}/console/queue")
            expect(page.locator("table#queue tbody tr")).to_have_count(3)
            browser.close()

        assert wait_states(db_url, {target: "accepted"}, 120) == {target: "accepted"}
        with Session(make_engine(db_url)) as s:
            entry = s.exec(select(AuditEntry).where(AuditEntry.action == "queue.approve")).one()
            assert (entry.actor, entry.object_id) == ("olga", target)
            assert entry.before["fields"] == {"invoice_number": None}
            assert entry.after["fields"] == {"invoice_number": truth}
            assert entry.reason == "invoice number read from the header"
            label = s.exec(select(LabelRecord)).one()
            assert (label.document_id, label.field, label.value, label.author) == (
                target, "invoice_number", truth, "olga")
            box = next(x for x in docs[target][1]["labels"] if x["field"] == "invoice_number")["bbox"]
            assert label.page == 1 and all(abs(a - b) < 1.5 for a, b in zip(label.bbox, box, strict=True))
    finally:
        cluster.stop()
