"""The queue through the HTTP API: claims and conflicts, a decision into the outbox with its audit
entry, reopening, and the audit log's refusal to be edited."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from services.review import store
from services.storage.models import AuditEntry, ReviewRecord
from tests.services.web.conftest import Console


def post(console: Console, csrf: str, path: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    return console.client.post(path, json=body or {}, headers={"X-CSRF-Token": csrf})


def test_claim_conflict_decide_and_audit(console: Console) -> None:
    csrf = console.login("operator")
    listing = console.client.get("/api/queue").json()
    assert [i["document_id"] for i in listing["items"]] == ["exc-1"]
    assert listing["counts"]["reason"] == {"REQUIRED_FIELD_MISSING": 1}
    item = post(console, csrf, "/api/queue/exc-1/claim").json()
    assert item["status"] == "in_review" and item["assignee"] == "operator"

    other = console.login("operator2")
    assert post(console, other, "/api/queue/exc-1/claim").status_code == 409
    assert post(console, other, "/api/queue/exc-1/approve").status_code == 409

    csrf = console.login("operator")
    stale = post(console, csrf, "/api/queue/exc-1/approve", {"revision": 0})
    assert stale.status_code == 409 and "changed" in stale.text
    bad = post(console, csrf, "/api/queue/exc-1/approve", {"fields": {"total_amount": {"value": "lots"}}})
    assert bad.status_code == 422 and "total_amount" in bad.text
    check = post(console, csrf, "/api/documents/exc-1/check", {"fields": {"invoice_number": {"value": "NW 7"}}})
    assert check.json() == {"ok": True, "issues": []}

    done = post(console, csrf, "/api/queue/exc-1/approve", {
        "revision": item["revision"], "comment": "number read from the header",
        "fields": {"invoice_number": {"value": "NOR-2025-00007", "page": 1, "bbox": [400, 100, 470, 110]},
                   "currency": {"value": "GBP"}}})  # unchanged: confirming is not correcting
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved" and done.json()["decision_id"]
    assert post(console, csrf, "/api/queue/exc-1/approve").status_code == 409  # decided once

    with Session(console.engine) as s:  # type: ignore[arg-type]
        decision = s.exec(select(ReviewRecord)).one()
        assert decision.fields == {"invoice_number": {"value": "NOR-2025-00007", "page": 1,
                                                      "bbox": [400.0, 100.0, 470.0, 110.0]}}
        assert decision.published_at is None and [m.decision_id for m in store.unpublished(s)] == [
            decision.decision_id]
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "queue.approve")).one()
        assert entry.actor == "operator" and entry.reason == "number read from the header"
        assert entry.before == {"status": "in_review", "assignee": "operator", "fields": {"invoice_number": None}}
        assert entry.after["fields"] == {"invoice_number": "NOR-2025-00007"}


def test_escalated_items_are_for_approvers_and_reassign(console: Console) -> None:
    csrf = console.login("operator")
    assert post(console, csrf, "/api/queue/exc-1/escalate", {"comment": "vendor?"}).json()["status"] == "escalated"
    assert post(console, csrf, "/api/queue/exc-1/claim").status_code == 403
    assert post(console, csrf, "/api/queue/exc-1/reassign", {"target": "operator"}).status_code == 403
    boss = console.login("approver")
    assert post(console, boss, "/api/queue/exc-1/reassign", {"target": "nobody"}).status_code == 422
    assert post(console, boss, "/api/queue/exc-1/reassign", {"target": "viewer"}).status_code == 422
    item = post(console, boss, "/api/queue/exc-1/reassign", {"target": "operator2"}).json()
    assert (item["status"], item["assignee"]) == ("in_review", "operator2")
    assert console.client.get("/api/queue", params={"assignee": "operator2"}).json()["total"] == 1


def test_reopen_an_accepted_document(console: Console) -> None:
    csrf = console.login("operator")
    assert post(console, csrf, "/api/documents/acc-1/reopen", {"comment": " "}).status_code == 422
    item = post(console, csrf, "/api/documents/acc-1/reopen", {"comment": "total is the net"}).json()
    assert item["status"] == "open" and item["reasons"] == ["REOPENED"] and item["priority"] == 1
    assert console.client.get("/api/documents/acc-1").json()["state"] == "exception"
    assert post(console, csrf, "/api/documents/acc-1/reopen", {"comment": "again"}).status_code == 409
    assert console.client.get("/api/queue").json()["items"][0]["document_id"] == "acc-1"  # most urgent first


def test_the_audit_log_refuses_update_and_delete(console: Console) -> None:
    console.login("operator")
    with Session(console.engine) as s:  # type: ignore[arg-type]
        assert s.exec(select(AuditEntry)).all()  # the login
        for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
            with pytest.raises(Exception, match="append-only"):
                s.exec(text(sql))  # type: ignore[call-overload]
            s.rollback()


def test_pages_words_and_escaping(console: Console) -> None:
    console.login("viewer")
    png = console.client.get("/api/documents/exc-1/pages/1.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    words = console.client.get("/api/documents/exc-1/pages/1/words").json()
    assert words["width"] > 500 and "NOR-2025-00007" in [w["text"] for w in words["words"]]
    assert console.client.get("/api/documents/exc-1/pages/9/words").status_code == 404
    page = console.client.get("/console/documents/exc-1")
    assert page.status_code == 200 and "REQUIRED_FIELD_MISSING" in page.text
    console.login("admin")
    hostile = console.client.get("/console/audit", params={"object_id": '"><script>alert(1)</script>'})
    assert hostile.status_code == 200 and "<script>alert(1)</script>" not in hostile.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.text


def test_a_twenty_page_document(console: Console) -> None:
    """Every page is an image the browser loads lazily; any page's words and image are served."""
    from datetime import UTC, datetime

    from services.contracts import DocumentRef
    from services.storage import crud
    from services.storage.blobs import sha256_hex
    from services.storage.db import session_scope
    from services.synth.bad import many_pages

    pdf = many_pages(20, "long")
    blobs = console.client.app.state.blobs  # type: ignore[attr-defined]
    ref = DocumentRef(document_id="long-1", source="t", filename="long.pdf", content_type="application/pdf",
                      sha256=sha256_hex(pdf), size=len(pdf), blob_uri=blobs.put(pdf), submitted_at=datetime.now(UTC))
    with session_scope(console.engine) as s:  # type: ignore[arg-type]
        crud.register_document(s, ref=ref)
        crud.advance(s, document_id="long-1", state="parsed", page_count=20)
    console.login("viewer")
    page = console.client.get("/console/documents/long-1").text
    assert page.count('loading="lazy"') == 20 and "/api/documents/long-1/pages/20.png" in page
    words = console.client.get("/api/documents/long-1/pages/20/words").json()
    assert [w["text"] for w in words["words"]] == ["long", "page", "20"]
    assert console.client.get("/api/documents/long-1/pages/20.png").content.startswith(b"\x89PNG")


def test_a_huge_page_is_refused_not_rendered(console: Console) -> None:
    """A 20,000 pt square page (a 1.6 KB PDF) would be a 30,000 px square image: refused with a reason."""
    import io
    from datetime import UTC, datetime

    from reportlab.pdfgen import canvas

    from services.contracts import DocumentRef
    from services.storage import crud
    from services.storage.blobs import sha256_hex
    from services.storage.db import session_scope

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=(20_000, 20_000))
    pdf.drawString(72, 720, "huge")
    pdf.showPage()
    pdf.save()
    data = buf.getvalue()
    blobs = console.client.app.state.blobs  # type: ignore[attr-defined]
    ref = DocumentRef(document_id="huge-1", source="t", filename="huge.pdf", content_type="application/pdf",
                      sha256=sha256_hex(data), size=len(data), blob_uri=blobs.put(data), submitted_at=datetime.now(UTC))
    with session_scope(console.engine) as s:  # type: ignore[arg-type]
        crud.register_document(s, ref=ref)
    console.login("viewer")
    refused = console.client.get("/api/documents/huge-1/pages/1.png")
    assert refused.status_code == 422 and refused.json()["detail"]["reason"] == "PAGE_TOO_LARGE"
