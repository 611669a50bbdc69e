"""Log in and out, health and metrics, and the document API as integrators use it."""

from __future__ import annotations

from sqlmodel import Session, select

from services.storage.models import AuditEntry
from tests.services.web.conftest import PASSWORD, Console


def test_public_endpoints_and_security_headers(console: Console) -> None:
    assert console.client.get("/health").json()["status"] == "ok"
    metrics = console.client.get("/metrics")
    assert metrics.status_code == 200 and "docflow_stage_seconds" in metrics.text
    assert 'docflow_queue_items{status="open"} 1.0' in metrics.text
    assert 'docflow_queue_active_by_reason{reason="REQUIRED_FIELD_MISSING"} 1.0' in metrics.text
    assert "docflow_queue_overdue 0.0" in metrics.text
    assert metrics.headers["x-frame-options"] == "DENY" and "script-src 'self'" in metrics.headers[
        "content-security-policy"]
    assert console.client.get("/api/documents/exc-1").status_code == 401
    assert console.client.get("/console/queue", follow_redirects=False).headers["location"] == \
        "/login?next=/console/queue"


def test_login_needs_its_form_token_and_the_right_password(console: Console) -> None:
    console.client.get("/login")
    token = console.client.cookies.get("docflow_login")
    forged = console.client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": "forged"},
                                 follow_redirects=False)
    assert forged.status_code == 403
    wrong = console.client.post("/login", data={"username": "admin", "password": "not it at all", "csrf": token},
                                follow_redirects=False)
    assert wrong.status_code == 303 and wrong.headers["location"].startswith("/login?error=1")
    away = console.client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": token,
                                               "next": "https://evil.example/"}, follow_redirects=False)
    assert away.headers["location"] == "/console/queue"  # never redirected off-site
    session = console.client.cookies.get("docflow_session")
    assert session and "httponly" in away.headers["set-cookie"].lower() and "samesite=strict" in away.headers[
        "set-cookie"].lower()
    with Session(console.engine) as s:  # type: ignore[arg-type]
        actions = [e.action for e in s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
    assert actions == ["login.failed", "login"]


def test_logout_ends_the_session(console: Console) -> None:
    csrf = console.login("viewer")
    session = console.client.cookies.get("docflow_session")
    assert console.client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    console.client.cookies.set("docflow_session", session)
    assert console.client.get("/api/me").status_code == 401


def test_document_api(console: Console) -> None:
    console.login("viewer")
    view = console.client.get("/api/documents/exc-1").json()
    assert view["state"] == "exception" and view["reasons"] == ["REQUIRED_FIELD_MISSING"]
    assert view["vendor"] == "northwind" and "invoice_number" not in view["result"]["fields"]
    assert console.client.get("/api/documents/missing").status_code == 404
    listing = console.client.get("/api/documents", params={"state": "accepted"}).json()
    assert listing["counts"] == {"accepted": 1, "exception": 1}
    assert [d["document_id"] for d in listing["documents"]] == ["acc-1"]
