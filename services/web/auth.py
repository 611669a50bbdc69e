"""Who is asking: a session cookie (console) or ``Authorization: Bearer`` (API token).

Every route states the permission it needs with ``Depends(require(...))``. Requests that change
something with a cookie must carry the session's CSRF token (header ``X-CSRF-Token`` or form
field ``csrf``); bearer-token requests cannot be forged cross-site and need none. The cookie is
HttpOnly and SameSite=Strict as well.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.access.roles import Permission
from services.access.users import Principal, resolve

COOKIE = "docflow_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(HTTPException):
    """401 for the API; the console turns it into a redirect to the login page."""

    def __init__(self) -> None:
        super().__init__(401, "log in first", headers={"WWW-Authenticate": "Bearer"})


def current(request: Request, engine: Engine) -> Principal | None:
    auth = request.headers.get("authorization", "")
    with Session(engine) as s:
        if auth.lower().startswith("bearer "):
            return resolve(s, token=auth[7:].strip(), kind="token")
        cookie = request.cookies.get(COOKIE)
        return resolve(s, token=cookie, kind="session") if cookie else None


def require(permission: Permission | None) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the principal, when logged in with ``permission`` (None: any logged-in user)."""

    async def dependency(request: Request) -> Principal:
        principal = current(request, request.app.state.engine)
        if principal is None:
            raise LoginRequired()
        if request.method not in SAFE_METHODS and principal.csrf is not None:
            await _check_csrf(request, principal.csrf)
        if permission is not None and not principal.can(permission):
            raise HTTPException(403, f"your role does not allow {permission}")
        request.state.principal = principal
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the role-matrix test
    return dependency


async def _check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        sent = (await request.form()).get("csrf")  # type: ignore[assignment]
    if not sent or not hmac.compare_digest(str(sent), expected):
        raise HTTPException(403, "missing or wrong CSRF token")


# The principal a route needs, by permission.
Anyone = Annotated[Principal, Depends(require(None))]
Read = Annotated[Principal, Depends(require(Permission.READ_DOCUMENTS))]
ReadQueue = Annotated[Principal, Depends(require(Permission.READ_QUEUE))]
Work = Annotated[Principal, Depends(require(Permission.WORK_QUEUE))]
Audit = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]
Admin = Annotated[Principal, Depends(require(Permission.MANAGE_USERS))]
Labeling = Annotated[Principal, Depends(require(Permission.WRITE_LABELS))]
Publish = Annotated[Principal, Depends(require(Permission.PUBLISH_TEMPLATES))]
Promote = Annotated[Principal, Depends(require(Permission.PROMOTE_MODELS))]
Train = Annotated[Principal, Depends(require(Permission.TRAIN_MODELS))]
