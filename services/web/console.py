"""The operator console: server-rendered pages (Jinja2, autoescaped) over the same store the JSON
API uses; the document view's clicks and shortcuts are in static/console.js."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, select

from services.access.roles import Permission, Role
from services.access.throttle import keys_for
from services.access.users import (
    Principal,
    authenticate,
    create_user,
    end_session,
    revoke_tokens,
    set_active,
    start_session,
    tokens,
)
from services.contracts import HEADER_FIELDS
from services.review import store
from services.storage import audit, crud
from services.storage.models import Document, ExceptionRecord, QueueStatus, User
from services.web.auth import COOKIE, Admin, Anyone, Audit, Read, ReadQueue, current

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter()
LOGIN_COOKIE = "docflow_login"


def page(request: Request, name: str, who: Principal | None, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"who": who, "Permission": Permission, **context})


@router.get("/", include_in_schema=False)
def home(request: Request) -> RedirectResponse:
    who = current(request, request.app.state.engine)
    if who is None:
        return RedirectResponse("/login", 303)
    return RedirectResponse("/console/queue" if who.can(Permission.READ_QUEUE) else "/console/documents", 303)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/console/queue", error: str | None = None) -> HTMLResponse:
    # Login CSRF: the form's token must match a cookie only this site could have set.
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, csrf=token, next=_local(next), error=error)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login", include_in_schema=False)
def login(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
          csrf: Annotated[str, Form()], next: Annotated[str, Form()] = "/console/queue") -> Response:
    if not csrf or csrf != request.cookies.get(LOGIN_COOKIE):
        raise HTTPException(403, "missing or wrong CSRF token")
    throttle = request.app.state.login_throttle
    keys = keys_for(username, request.client.host if request.client else None)
    wait = throttle.wait(keys)
    with Session(request.app.state.engine) as s:
        if wait > 0:  # refused before the password is checked: no scrypt for a flood of guesses
            audit.record(s, actor=username[:100] or "-", action="login.locked", object_type="user",
                         object_id=username[:100] or "-", after={"retry_after_s": round(wait)})
            s.commit()
            response: Response = page(request, "login.html", None, csrf=csrf, next=_local(next), error="locked",
                            minutes=max(1, round(wait / 60)))
            response.status_code = 429
            response.headers["Retry-After"] = str(max(1, round(wait)))
            return response
        user = authenticate(s, username=username, password=password)
        if user is None:
            backoff = throttle.failed(keys)
            audit.record(s, actor=username[:100] or "-", action="login.failed", object_type="user",
                         object_id=username[:100] or "-", after={"locked_for_s": round(backoff)} if backoff else None)
            s.commit()
            return RedirectResponse(f"/login?error=1&next={quote(_local(next))}", 303)
        throttle.succeeded(keys[0])
        token, _ = start_session(s, user=user)
        audit.record(s, actor=user.username, action="login", object_type="user", object_id=user.username)
        s.commit()
    response = RedirectResponse(_local(next), 303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=12 * 3600)
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, who: Anyone) -> RedirectResponse:
    with Session(request.app.state.engine) as s:
        end_session(s, token=request.cookies.get(COOKIE, ""))
        audit.record(s, actor=who.username, action="logout", object_type="user", object_id=who.username)
        s.commit()
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/console/queue", include_in_schema=False)
def queue_page(request: Request, who: ReadQueue, status: str = "active", reason: str | None = None,
               vendor: str | None = None, age: str | None = None, overdue: bool = False) -> HTMLResponse:
    with Session(request.app.state.engine) as s:
        data = store.listing(s, status=status or None, reason=reason or None, vendor=vendor or None, age=age or None,
                             overdue=overdue, limit=500)
    filters = {"status": status, "reason": reason or "", "vendor": vendor or "", "age": age or "", "overdue": overdue}
    return page(request, "queue.html", who, data=data, filters=filters, statuses=("active", *QueueStatus.ALL))


@router.get("/console/documents", include_in_schema=False)
def documents_page(request: Request, who: Read, state: str | None = None) -> HTMLResponse:
    with Session(request.app.state.engine) as s:
        query = select(Document).order_by(Document.updated_at.desc()).limit(200)  # type: ignore[attr-defined]
        if state:
            query = query.where(Document.state == state)
        rows = s.exec(query).all()
        counts = crud.state_counts(s)
    return page(request, "documents.html", who, rows=rows, counts=counts, state=state or "")


@router.get("/console/documents/{document_id}", include_in_schema=False)
def document_page(request: Request, document_id: str, who: Read) -> HTMLResponse:
    with Session(request.app.state.engine) as s:
        view = crud.document_view(s, document_id=document_id)
        if view is None:
            raise HTTPException(404, "no such document")
        doc = s.get(Document, document_id)
        item = s.get(ExceptionRecord, document_id)
        item_data = store.item_view(item, store._now()) if item else None
        history = audit.entries(s, object_id=document_id, limit=50)
    result = doc.validated() if doc else None
    data = {
        "document_id": document_id, "state": view["state"], "page_count": view["page_count"] or 0,
        "fields": {name: fv.model_dump(mode="json") for name, fv in result.fields.items()} if result else {},
        "field_names": list(HEADER_FIELDS),
        "issues": [i.model_dump(mode="json") for i in result.validation.issues] if result else [],
        "item": item_data, "me": who.username,
        "can_work": who.can(Permission.WORK_QUEUE), "can_assign": who.can(Permission.ASSIGN_QUEUE),
    }
    return page(request, "document.html", who, view=view, result=result, item=item_data, data=data,
                history=[audit.as_dict(h) for h in history])


@router.get("/console/audit", include_in_schema=False)
def audit_page(request: Request, who: Audit, actor: str | None = None, action: str | None = None,
               object_id: str | None = None, before_id: int | None = None) -> HTMLResponse:
    with Session(request.app.state.engine) as s:
        rows = [audit.as_dict(r) for r in audit.entries(s, actor=actor or None, action=action or None,
                                                        object_id=object_id or None, before_id=before_id,
                                                        limit=100)]
    filters = {"actor": actor or "", "action": action or "", "object_id": object_id or ""}
    return page(request, "audit.html", who, rows=rows, filters=filters)


@router.get("/console/users", include_in_schema=False)
def users_page(request: Request, who: Admin, error: str | None = None) -> HTMLResponse:
    with Session(request.app.state.engine) as s:
        rows = s.exec(select(User).order_by(User.username)).all()
        held = {u.username: tokens(s, user=u) for u in rows}
    return page(request, "users.html", who, rows=rows, tokens=held, error=error, roles=[r.value for r in Role])


@router.post("/console/users", include_in_schema=False)
def users_create(request: Request, who: Admin, username: Annotated[str, Form()], password: Annotated[str, Form()],
                 roles: Annotated[list[str], Form()]) -> Response:
    with Session(request.app.state.engine) as s:
        try:
            user = create_user(s, username=username, password=password, roles=roles)
        except ValueError as exc:
            return RedirectResponse(f"/console/users?error={quote(str(exc))}", 303)
        audit.record(s, actor=who.username, action="user.create", object_type="user", object_id=user.username,
                     after={"roles": user.roles})
        s.commit()
    return RedirectResponse("/console/users", 303)


@router.post("/console/users/{username}/active", include_in_schema=False)
def users_active(request: Request, who: Admin, username: str, active: Annotated[bool, Form()]) -> Response:
    """Deactivate a user (their sessions and tokens end at once) or let them in again."""
    with Session(request.app.state.engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None:
            return RedirectResponse(f"/console/users?error={quote(f'no user {username}')}", 303)
        if user.username == who.username and not active:
            return RedirectResponse(f"/console/users?error={quote('you cannot deactivate yourself')}", 303)
        ended = set_active(s, user=user, active=active)
        audit.record(s, actor=who.username, action="user.activate" if active else "user.deactivate",
                     object_type="user", object_id=username, after={"active": active, "credentials_ended": ended})
        s.commit()
    return RedirectResponse("/console/users", 303)


@router.post("/console/users/{username}/tokens/revoke", include_in_schema=False)
def users_revoke(request: Request, who: Admin, username: str, name: Annotated[str | None, Form()] = None) -> Response:
    """Revoke one API token of a user by its name, or all of them."""
    with Session(request.app.state.engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None:
            return RedirectResponse(f"/console/users?error={quote(f'no user {username}')}", 303)
        count = revoke_tokens(s, user=user, name=name or None)
        audit.record(s, actor=who.username, action="token.revoke", object_type="user", object_id=username,
                     after={"name": name or None, "revoked": count})
        s.commit()
    return RedirectResponse("/console/users", 303)


def _local(target: str) -> str:
    """Only redirect within this site."""
    return target if target.startswith("/") and not target.startswith("//") else "/console/queue"
