"""The JSON API the console uses and integrators may call (with an API token)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from services.access.roles import Role
from services.access.users import create_user, issue_token
from services.contracts import FieldCorrection
from services.parsing.pages import PageTooLarge, render_png
from services.review import store
from services.review.logic import corrected, normalise_field
from services.review.queue import QueueError
from services.storage import audit, crud
from services.storage.models import Document, User
from services.validation.logic import check
from services.web.auth import Admin, Anyone, Audit, Read, ReadQueue, Work

router = APIRouter(prefix="/api")

def db(request: Request) -> Session:
    return Session(request.app.state.engine, expire_on_commit=False)


class Correction(BaseModel):
    value: str | None = Field(default=None, max_length=1000)
    page: int | None = Field(default=None, ge=1)
    bbox: tuple[float, float, float, float] | None = None


class ActionBody(BaseModel):
    revision: int | None = None
    target: str | None = Field(default=None, max_length=100)
    fields: dict[str, Correction] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=2000)


class ReopenBody(BaseModel):
    comment: str = Field(min_length=1, max_length=2000)


class RedriveBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    dead_letters: bool = Field(default=False, description="Also re-drive a dead letter (after a fix, say).")


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    roles: list[Role]


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    days: int = Field(default=90, ge=1, le=365, description="Until it expires.")


def normalised(fields: dict[str, Correction]) -> dict[str, FieldCorrection]:
    out, errors = {}, {}
    for name, c in fields.items():
        try:
            out[name] = FieldCorrection(value=normalise_field(name, c.value), page=c.page, bbox=c.bbox)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise HTTPException(422, {"fields": errors})
    return out


def _document(s: Session, document_id: str) -> Document:
    doc = s.get(Document, document_id)
    if doc is None:
        raise HTTPException(404, "no such document")
    return doc


def _queue_error(exc: QueueError) -> HTTPException:
    return HTTPException(exc.status, exc.message)


@router.get("/me")
def me(who: Anyone) -> dict[str, Any]:
    return {"username": who.username, "roles": list(who.roles), "permissions": sorted(who.grants)}


@router.get("/documents")
def list_documents(request: Request, who: Read, state: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    with db(request) as s:
        query = select(Document).order_by(Document.updated_at.desc()).limit(limit)  # type: ignore[attr-defined]
        if state:
            query = query.where(Document.state == state)
        return {"counts": crud.state_counts(s), "documents": [
            {"document_id": d.document_id, "state": d.state, "reasons": d.reasons, "vendor": d.vendor,
             "filename": d.filename, "updated_at": d.updated_at.isoformat()} for d in s.exec(query).all()]}


@router.get("/documents/{document_id}")
def get_document(request: Request, document_id: str, who: Read) -> dict[str, Any]:
    with db(request) as s:
        view = crud.document_view(s, document_id=document_id)
        if view is None:
            raise HTTPException(404, "no such document")
        doc = _document(s, document_id)
        view["result"] = doc.result
        view["vendor"] = doc.vendor
        return view


@router.get("/documents/{document_id}/pages/{number}.png")
def page_image(request: Request, document_id: str, number: int, who: Read) -> Response:
    with db(request) as s:
        doc = _document(s, document_id)
    if not doc.blob_uri:
        raise HTTPException(404, "the document's bytes were never stored")
    try:
        png = render_png(request.app.state.blobs.get(doc.blob_uri), number)
    except IndexError:
        raise HTTPException(404, "no such page") from None
    except PageTooLarge as exc:
        raise HTTPException(422, {"reason": "PAGE_TOO_LARGE", "message": str(exc)}) from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/documents/{document_id}/pages/{number}/words")
def page_words(request: Request, document_id: str, number: int, who: Read) -> dict[str, Any]:
    with db(request) as s:
        doc = _document(s, document_id)
    if not doc.blob_uri:
        raise HTTPException(404, "the document's bytes were never stored")
    try:
        return request.app.state.pages.words(document_id, doc.blob_uri, number)
    except IndexError:
        raise HTTPException(404, "no such page") from None


@router.post("/documents/{document_id}/check")
def check_corrections(request: Request, document_id: str, body: ActionBody, who: Work) -> dict[str, Any]:
    """The validation issues the document would have with these corrections (changes nothing)."""
    with db(request) as s:
        doc = _document(s, document_id)
    document = doc.validated()
    if document is None:
        raise HTTPException(409, "the document has no extraction")
    extracted = corrected(document, normalised(body.fields), who.username)
    return check(extracted, request.app.state.ruleset).model_dump(mode="json")


@router.post("/documents/{document_id}/reopen")
def reopen(request: Request, document_id: str, body: ReopenBody, who: Work) -> dict[str, Any]:
    with db(request) as s:
        try:
            item = store.reopen(s, document_id=document_id, actor=who, comment=body.comment,
                                policy=request.app.state.queue_policy)
        except QueueError as exc:
            raise _queue_error(exc) from None
        s.commit()
    return item


@router.post("/documents/{document_id}/redrive")
def redrive(request: Request, document_id: str, body: RedriveBody, who: Work) -> dict[str, Any]:
    """Start a document again from its stored bytes: one that stopped between two stages (or, with
    ``dead_letters``, a dead letter). Audited as ``document.redrive``."""
    from services.reconcile import service
    from services.reconcile.store import RedriveError

    if not request.app.state.bootstrap:
        raise HTTPException(503, "this server publishes to no broker")
    try:
        service.redrive(request.app.state.engine, request.app.state.bootstrap, request.app.state.blobs,
                        [document_id], actor=who.username, reason=body.reason, dead_letters_too=body.dead_letters)
    except RedriveError as exc:
        raise HTTPException(409, str(exc)) from None
    with db(request) as s:
        return crud.document_view(s, document_id=document_id) or {}


@router.get("/queue")
def queue(
    request: Request, who: ReadQueue, status: str | None = "active", reason: str | None = None,
    vendor: str | None = None, assignee: str | None = None, age: str | None = None, overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    with db(request) as s:
        return store.listing(s, status=status or None, reason=reason, vendor=vendor, assignee=assignee, age=age,
                             overdue=overdue, limit=limit, offset=offset)


@router.post("/queue/{document_id}/{action}")
def act(request: Request, document_id: str, action: Literal["claim", "release", "reassign", "approve", "reject",
                                                             "escalate"], body: ActionBody, who: Work) -> dict:
    corrections = normalised(body.fields) if action == "approve" else {}
    with db(request) as s:
        try:
            item = store.act(s, document_id=document_id, action=action, actor=who, revision=body.revision,
                             target=body.target, corrections=corrections, comment=body.comment)
        except QueueError as exc:
            raise _queue_error(exc) from None
        s.commit()
    if item.get("decision_id") and request.app.state.outbox is not None:
        request.app.state.outbox.wake.set()
    return item


@router.get("/audit")
def audit_entries(request: Request, who: Audit, actor: str | None = None, action: str | None = None,
                  object_id: str | None = None, before_id: int | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    with db(request) as s:
        rows = audit.entries(s, actor=actor, action=action, object_id=object_id, before_id=before_id, limit=limit)
        return {"entries": [audit.as_dict(r) for r in rows]}


@router.get("/audit/export")
def audit_export(request: Request, who: Audit, format: Literal["csv", "jsonl"] = "csv") -> StreamingResponse:
    with db(request) as s:
        rows = audit.entries(s, limit=1_000_000)
        audit.record(s, actor=who.username, action="audit.export", object_type="audit_log", object_id="*",
                     after={"format": format, "entries": len(rows)})
        s.commit()
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(audit.export(rows, format), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="docflow-audit.{format}"'})


@router.get("/users")
def users(request: Request, who: Admin) -> dict[str, Any]:
    with db(request) as s:
        return {"users": [{"username": u.username, "roles": u.roles, "active": u.active,
                           "created_at": u.created_at.isoformat()} for u in s.exec(select(User)).all()]}


@router.post("/users", status_code=201)
def add_user(request: Request, body: NewUser, who: Admin) -> dict[str, Any]:
    with db(request) as s:
        try:
            user = create_user(s, username=body.username, password=body.password, roles=[str(r) for r in body.roles])
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        audit.record(s, actor=who.username, action="user.create", object_type="user", object_id=user.username,
                     after={"roles": user.roles})
        s.commit()
        return {"username": user.username, "roles": user.roles}


@router.post("/tokens", status_code=201)
def new_token(request: Request, body: NewToken, who: Anyone) -> dict[str, Any]:
    with db(request) as s:
        user = s.get(User, who.user_id)
        if user is None:
            raise HTTPException(401, "log in first")
        token = issue_token(s, user=user, name=body.name, days=body.days)
        audit.record(s, actor=who.username, action="token.create", object_type="user", object_id=who.username,
                     after={"name": body.name, "days": body.days})
        s.commit()
    return {"token": token, "name": body.name, "days": body.days}

