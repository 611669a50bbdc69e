"""Every HTTP endpoint, called by every role and by nobody: allowed or denied as the table says.

The table is written out here, not derived from the code: a route whose permission changes, or
a new route nobody put in the table, fails this test.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from tests.services.web.conftest import PASSWORD, ROLES, Console

EVERYONE = {None, *ROLES}
LOGGED_IN = set(ROLES)
READERS = {"viewer", "operator", "labeler", "approver", "admin"}
QUEUE_READERS = {"viewer", "operator", "approver", "admin"}
WORKERS = {"operator", "approver", "admin"}
SUPERVISORS = {"approver", "admin"}
ADMINS = {"admin"}
LABELERS = {"labeler", "admin"}
TRAINERS = {"labeler", "approver", "admin"}

EXC, ACC = "exc-1", "acc-1"
# (method, route path, concrete path, JSON or form body, who may)
CALLS = [
    ("GET", "/health", "/health", None, EVERYONE),
    ("GET", "/metrics", "/metrics", None, EVERYONE),
    ("GET", "/", "/", None, EVERYONE),
    ("GET", "/login", "/login", None, EVERYONE),
    ("GET", "/api/me", "/api/me", None, LOGGED_IN),
    ("GET", "/openapi.json", "/openapi.json", None, LOGGED_IN),
    ("GET", "/docs", "/docs", None, LOGGED_IN),
    ("GET", "/api/documents", "/api/documents", None, READERS),
    ("GET", "/api/documents/{document_id}", f"/api/documents/{EXC}", None, READERS),
    ("GET", "/api/documents/{document_id}/pages/{number}.png", f"/api/documents/{EXC}/pages/1.png", None, READERS),
    ("GET", "/api/documents/{document_id}/pages/{number}/words", f"/api/documents/{EXC}/pages/1/words", None,
     READERS),
    ("POST", "/api/documents/{document_id}/check", f"/api/documents/{EXC}/check",
     {"fields": {"invoice_number": {"value": "X-1"}}}, WORKERS),
    ("GET", "/api/queue", "/api/queue", None, QUEUE_READERS),
    ("POST", "/api/queue/{document_id}/{action}", f"/api/queue/{EXC}/claim", {}, WORKERS),
    ("POST", "/api/queue/{document_id}/{action}", f"/api/queue/{EXC}/release", {}, WORKERS),
    ("POST", "/api/queue/{document_id}/{action}", f"/api/queue/{EXC}/reassign", {"target": "operator2"},
     SUPERVISORS),
    ("POST", "/api/queue/{document_id}/{action}", f"/api/queue/{EXC}/release", {}, WORKERS),
    ("POST", "/api/queue/{document_id}/{action}", f"/api/queue/{EXC}/approve",
     {"fields": {"invoice_number": {"value": "NW-1"}}}, WORKERS),
    ("POST", "/api/queue/{document_id}/{action}", f"/api/queue/{EXC}/reject", {}, WORKERS),
    ("POST", "/api/queue/{document_id}/{action}", f"/api/queue/{EXC}/escalate", {}, WORKERS),
    ("POST", "/api/documents/{document_id}/reopen", f"/api/documents/{ACC}/reopen", {"comment": "wrong total"},
     WORKERS),
    ("POST", "/api/documents/{document_id}/redrive", f"/api/documents/{EXC}/redrive", {"reason": "stuck"}, WORKERS),
    ("GET", "/api/audit", "/api/audit", None, ADMINS),
    ("GET", "/api/audit/export", "/api/audit/export?format=csv", None, ADMINS),
    ("GET", "/api/users", "/api/users", None, ADMINS),
    ("POST", "/api/users", "/api/users", {"username": "newbie", "password": "another long secret 7",
                                          "roles": ["viewer"]}, ADMINS),
    ("POST", "/api/tokens", "/api/tokens", {"name": "script"}, LOGGED_IN),
    ("GET", "/console/queue", "/console/queue", None, QUEUE_READERS),
    ("GET", "/console/documents", "/console/documents", None, READERS),
    ("GET", "/console/documents/{document_id}", f"/console/documents/{EXC}", None, READERS),
    ("GET", "/console/audit", "/console/audit", None, ADMINS),
    ("GET", "/console/users", "/console/users", None, ADMINS),
    ("POST", "/console/users", "/console/users", {"username": "formuser", "password": "form secret 1234",
                                                  "roles": "viewer"}, ADMINS),
    ("POST", "/console/users/{username}/tokens/revoke", "/console/users/formuser/tokens/revoke", {"name": "x"},
     ADMINS),
    ("POST", "/console/users/{username}/active", "/console/users/formuser/active", {"active": "true"}, ADMINS),
    ("GET", "/api/labeling/worklist", "/api/labeling/worklist", None, LABELERS),
    ("POST", "/api/labeling/documents", "/api/labeling/documents", {}, LABELERS),
    ("GET", "/api/labeling/documents/{document_id}", f"/api/labeling/documents/{EXC}", None, LABELERS),
    ("PUT", "/api/labeling/documents/{document_id}/labels", f"/api/labeling/documents/{EXC}/labels",
     {"picks": [{"field": "invoice_number", "value": "NW-1"}]}, LABELERS),
    ("POST", "/api/labeling/templates/{template_id}/induce", "/api/labeling/templates/northwind-2/induce",
     {"documents": [EXC]}, LABELERS),
    ("POST", "/api/labeling/templates/{template_id}/check", "/api/labeling/templates/northwind-2/check",
     {"documents": [EXC], "yaml": "id: northwind-2"}, LABELERS),
    ("POST", "/api/labeling/templates/{template_id}/publish", "/api/labeling/templates/northwind-2/publish",
     {"documents": [EXC], "yaml": "id: northwind-2"}, LABELERS),
    ("GET", "/api/labeling/templates", "/api/labeling/templates", None, LABELERS),
    ("GET", "/api/labeling/templates/{template_id}", "/api/labeling/templates/northwind", None, LABELERS),
    ("POST", "/api/labeling/templates/{template_id}/rollback", "/api/labeling/templates/northwind/rollback",
     {"version": 1}, LABELERS),
    ("GET", "/api/labeling/label-studio/config", "/api/labeling/label-studio/config", None, LABELERS),
    ("GET", "/api/labeling/label-studio/export", "/api/labeling/label-studio/export", None, LABELERS),
    ("POST", "/api/labeling/label-studio/import", "/api/labeling/label-studio/import", [], LABELERS),
    ("GET", "/labeling", "/labeling", None, LABELERS),
    ("GET", "/labeling/documents/{document_id}", f"/labeling/documents/{EXC}", None, LABELERS),
    ("GET", "/labeling/templates", "/labeling/templates", None, LABELERS),
    ("GET", "/labeling/templates/{template_id}", "/labeling/templates/northwind", None, LABELERS),
    ("GET", "/api/models", "/api/models", None, READERS),
    ("GET", "/api/models/{version}", "/api/models/layoutlm-x", None, READERS),
    ("POST", "/api/models/{version}/transition", "/api/models/layoutlm-x/transition", {"to": "canary"}, SUPERVISORS),
    ("POST", "/api/models/rollback", "/api/models/rollback", {"reason": "worse"}, SUPERVISORS),
    ("POST", "/api/models/retrain", "/api/models/retrain", {"reason": "new vendor labelled"}, TRAINERS),
    ("GET", "/api/datasets", "/api/datasets", None, READERS),
    ("GET", "/api/datasets/{version}", "/api/datasets/ds-x", None, READERS),
    ("GET", "/api/documents/{document_id}/lineage", f"/api/documents/{EXC}/lineage", None, READERS),
    ("GET", "/api/monitoring", "/api/monitoring", None, READERS),
    ("GET", "/console/monitoring", "/console/monitoring", None, READERS),
    ("GET", "/console/models", "/console/models", None, READERS),
    ("GET", "/console/models/{version}", "/console/models/layoutlm-x", None, READERS),
    ("POST", "/logout", "/logout", {}, LOGGED_IN),  # last: it ends the session
]
FORM_ROUTES = {"/console/users", "/console/users/{username}/tokens/revoke", "/console/users/{username}/active",
               "/logout"}
SEPARATELY = {("POST", "/login")}  # needs the login form's cookie: tests/services/web/test_web.py


def api_routes(routes: list) -> list[APIRoute]:  # type: ignore[type-arg]
    out = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):  # an included router (FastAPI >= 0.130)
            out += api_routes(route.original_router.routes)
    return out


def test_the_table_names_every_route(console: Console) -> None:
    routes = {(m, r.path) for r in api_routes(console.client.app.routes) for m in r.methods}
    tabled = {(m, p) for m, p, *_ in CALLS}
    assert routes - SEPARATELY == tabled


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_endpoint_with_every_role(console: Console, role: str | None) -> None:
    csrf = console.login(role) if role else None
    if role is None:
        console.client.cookies.clear()
    wrong = []
    for method, route, path, body, allowed in CALLS:
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        if route in FORM_ROUTES and method == "POST":
            response = console.client.post(path, data=(body or {}) | {"csrf": csrf or ""}, follow_redirects=False)
        else:
            response = console.client.request(method, path, json=body, headers=headers, follow_redirects=False)
        denied = response.status_code in (401, 403) or (
            response.status_code == 303 and response.headers["location"].startswith("/login?next="))
        if denied == (role in allowed):
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
    assert not wrong, f"role {role}:\n" + "\n".join(wrong)


def test_an_api_token_needs_no_csrf_but_a_cookie_does(console: Console) -> None:
    csrf = console.login("admin")
    assert console.client.post("/api/tokens", json={"name": "x"}).status_code == 403  # cookie, no token
    token = console.client.post("/api/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": csrf}).json()["token"]
    console.client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert console.client.get("/api/users", headers=bearer).status_code == 200
    assert console.client.post("/api/users", headers=bearer, json={
        "username": "bot", "password": PASSWORD, "roles": ["viewer"]}).status_code == 201
    assert console.client.get("/api/users", headers={"Authorization": "Bearer dft_forged"}).status_code == 401
