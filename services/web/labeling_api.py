"""The labeling service's JSON API: work list, labels, template induction and publishing, Label
Studio interchange. Labelers and admins only (``labels:write``; publishing ``templates:publish``)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from labeling import onboarding, store, studio
from labeling.labels import LabelError, Pick, build, stored
from services.contracts import IncomingDocument, Page
from services.errors import TemplateError, UnreadableDocument
from services.extraction import registry
from services.intake.logic import intake
from services.parsing.pages import SCALE
from services.storage import audit
from services.storage.blobs import sha256_hex
from services.storage.models import Document, DocumentState
from services.vocabulary.templates import to_yaml
from services.web.auth import Labeling, Publish

router = APIRouter(prefix="/api/labeling")
MAX_EXAMPLES = 3


class LabelsBody(BaseModel):
    picks: list[Pick] = Field(max_length=2000)
    base_revision: int | None = Field(default=None, description="The revision the labeler started from.")


class InduceBody(BaseModel):
    documents: list[str] = Field(min_length=1, max_length=MAX_EXAMPLES)


class TemplateBody(InduceBody):
    yaml: str = Field(min_length=1, max_length=100_000)
    note: str | None = Field(default=None, max_length=2000)
    force: bool = Field(default=False, description="Publish although a field is not reproduced.")


class RollbackBody(BaseModel):
    version: int = Field(ge=1)


def _db(request: Request) -> Session:
    return Session(request.app.state.engine, expire_on_commit=False)


def _pages(request: Request, doc: Document) -> list[Page]:
    if not doc.blob_uri:
        raise HTTPException(409, "the document's bytes were never stored")
    return request.app.state.pages.pages(doc.document_id, doc.blob_uri)


def _document(s: Session, document_id: str) -> Document:
    doc = s.get(Document, document_id)
    if doc is None:
        raise HTTPException(404, f"no document {document_id}")
    return doc


def _wake(request: Request) -> None:
    if request.app.state.outbox is not None:
        request.app.state.outbox.wake.set()


@router.get("/worklist")
def worklist(request: Request, who: Labeling, limit: Annotated[int, Query(ge=1, le=500)] = 50,
             include_labeled: bool = False) -> dict[str, Any]:
    with _db(request) as s:
        return {"documents": store.worklist(s, limit=limit, include_labeled=include_labeled)}


@router.post("/documents", status_code=201)
async def upload(request: Request, who: Labeling, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """A sample PDF to label (a vendor's first invoice sent by mail, say): stored and parsed, never
    sent down the stream."""
    limits = request.app.state.limits
    data = await file.read(limits.max_document_bytes + 1)
    document_id = f"sample-{sha256_hex(data)[:32]}"
    envelope = IncomingDocument(document_id=document_id, source="labeling", filename=file.filename or "",
                                content=base64.b64encode(data).decode())
    try:
        ref = intake(envelope, document_id, blobs=request.app.state.blobs,
                     limits=replace(limits, inline_content_limit=max(limits.inline_content_limit, len(data))))
        pages = request.app.state.pages.pages(document_id, ref.blob_uri)
    except UnreadableDocument as exc:
        raise HTTPException(422, {"reason": str(exc.reason), "message": exc.message}) from None
    with _db(request) as s:
        if s.get(Document, document_id) is None:
            s.add(Document(document_id=document_id, source="labeling", filename=ref.filename, sha256=ref.sha256,
                           size=ref.size, blob_uri=ref.blob_uri, page_count=len(pages), state=DocumentState.SAMPLE))
            audit.record(s, actor=who.username, action="sample.upload", object_type="document",
                         object_id=document_id, after={"filename": ref.filename, "pages": len(pages)})
            s.commit()
    return {"document_id": document_id, "pages": len(pages)}


@router.get("/documents/{document_id}")
def labels_of(request: Request, document_id: str, who: Labeling) -> dict[str, Any]:
    with _db(request) as s:
        doc = _document(s, document_id)
        current = store.latest(s, document_id)
        read = doc.validated()
        return {"document_id": document_id, "state": doc.state, "vendor": doc.vendor, "pages": doc.page_count,
                "template": {"id": doc.template_id, "version": doc.template_version} if doc.template_id else None,
                "revision": current.revision if current else None, "labels": current.labels if current else [],
                "extracted": {name: fv.model_dump(mode="json") for name, fv in read.fields.items()} if read else {},
                "history": store.history(s, document_id)}


@router.put("/documents/{document_id}/labels")
def save_labels(request: Request, document_id: str, body: LabelsBody, who: Labeling) -> dict[str, Any]:
    with _db(request) as s:
        doc = _document(s, document_id)
        try:
            labels = build(body.picks, _pages(request, doc))
            row = store.save(s, document_id=document_id, labels=labels, origin="labeler", author=who.username,
                             base_revision=body.base_revision)
        except LabelError as exc:
            raise HTTPException(422, {"fields": exc.problems}) from None
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
        s.commit()
    _wake(request)
    return {"document_id": document_id, "revision": row.revision, "labels": stored(labels)}


def _examples(request: Request, s: Session, document_ids: list[str]) -> list[onboarding.Example]:
    out = []
    for document_id in dict.fromkeys(document_ids):
        current = store.latest(s, document_id)
        if current is None:
            raise HTTPException(409, f"{document_id} has no labels yet")
        out.append(onboarding.example(document_id, current.revision, _pages(request, _document(s, document_id)),
                                      current.values()))
    return out


def live(request: Request) -> registry.TemplateRegistry:
    """The web server's template registry, brought up to date (another server may have published)."""
    reg: registry.TemplateRegistry = request.app.state.registry
    reg.refresh()
    return reg


def _check(request: Request, template: Any, examples: list[onboarding.Example]) -> dict[str, Any]:
    return onboarding.check(template, examples, live(request).current.active, request.app.state.regex_timeout_s)


@router.post("/templates/{template_id}/induce")
def induce(request: Request, template_id: str, body: InduceBody, who: Labeling) -> dict[str, Any]:
    """A template from the labeled documents: its YAML, and per field whether it gives the labels back."""
    _valid_id(template_id)
    with _db(request) as s:
        examples = _examples(request, s, body.documents)
        version = registry.next_version(s, template_id, live(request).files)
    result, text = onboarding.induced(examples, template_id, version)
    return {"template_id": template_id, "version": version, "yaml": text, "dropped": result.dropped,
            "check": _check(request, result.template, examples)}


@router.post("/templates/{template_id}/check")
def check(request: Request, template_id: str, body: TemplateBody, who: Labeling) -> dict[str, Any]:
    """Run edited YAML on the labeled documents (changes nothing)."""
    with _db(request) as s:
        examples = _examples(request, s, body.documents)
        version = registry.next_version(s, template_id, live(request).files)
    template = _candidate(body.yaml, template_id, version)
    return {"template_id": template_id, "version": version, "check": _check(request, template, examples)}


@router.post("/templates/{template_id}/publish", status_code=201)
def publish(request: Request, template_id: str, body: TemplateBody, who: Publish) -> dict[str, Any]:
    """A new version of the template, live for the next document on every worker."""
    with _db(request) as s:
        examples = _examples(request, s, body.documents)
        version = registry.next_version(s, template_id, live(request).files)
        template = _candidate(body.yaml, template_id, version)
        result = _check(request, template, examples)
        if not result["ok"] and not body.force:
            raise HTTPException(422, {"message": "the template does not give back every label; fix it or "
                                                 "publish with force", "check": result})
        registry.publish(s, template, body=to_yaml(template, body.note or ""), author=who.username,
                         documents=[e.document_id for e in examples], checks=result, note=body.note)
        audit.record(s, actor=who.username, action="template.publish", object_type="template",
                     object_id=template.ref, reason=body.note,
                     after={"documents": [e.document_id for e in examples], "fields": result["fields"],
                            "ok": result["ok"]})
        s.commit()
    _wake(request)
    return {"template_id": template_id, "version": version, "check": result}


@router.get("/templates")
def templates(request: Request, who: Labeling) -> dict[str, Any]:
    current = live(request).current
    return {"revision": current.revision, "templates": [
        {"id": t.id, "version": t.version, "issuer": t.issuer, "fields": sorted(t.fields)} for t in current.active]}


@router.get("/templates/{template_id}")
def template_versions(request: Request, template_id: str, who: Labeling) -> dict[str, Any]:
    reg = live(request)
    with _db(request) as s:
        listed = registry.described(s, reg, template_id)
    if not listed:
        raise HTTPException(404, f"no template {template_id}")
    return {"template_id": template_id, "versions": listed}


@router.post("/templates/{template_id}/rollback")
def rollback(request: Request, template_id: str, body: RollbackBody, who: Publish) -> dict[str, Any]:
    reg = live(request)
    with _db(request) as s:
        try:
            retired = registry.rollback(s, template_id, to_version=body.version, author=who.username, files=reg.files)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
        audit.record(s, actor=who.username, action="template.rollback", object_type="template",
                     object_id=f"{template_id}@{body.version}", before={"retired": retired})
        s.commit()
    _wake(request)
    return {"template_id": template_id, "active": body.version, "retired": retired}


@router.get("/label-studio/config")
def label_studio_config(who: Labeling) -> Response:
    return Response(studio.config(), media_type="application/xml")


@router.get("/label-studio/export")
def label_studio_export(request: Request, who: Labeling,
                        documents: Annotated[list[str] | None, Query()] = None) -> Response:
    """Label Studio tasks (JSON) for the labeled documents (all of them unless ``documents`` is given)."""
    base = str(request.base_url).rstrip("/")
    tasks = []
    with _db(request) as s:
        ids = documents or store.labeled_ids(s)
        for document_id in ids:
            current = store.latest(s, document_id)
            if current is None:
                raise HTTPException(409, f"{document_id} has no labels")
            tasks += studio.export_document(
                document_id, _pages(request, _document(s, document_id)), current.values(),
                image_url=f"{base}/api/documents/{document_id}/pages/{{page}}.png", revision=current.revision,
                author=current.author, scale=SCALE)
        audit.record(s, actor=who.username, action="labels.export", object_type="labels", object_id="*",
                     after={"format": "label-studio", "documents": len(ids)})
        s.commit()
    return Response(json.dumps(tasks, ensure_ascii=False), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="docflow-label-studio.json"'})


@router.post("/label-studio/import")
async def label_studio_import(request: Request, who: Labeling) -> dict[str, Any]:
    """Label Studio tasks (its JSON export) to a new label revision per document they label."""
    try:
        tasks = json.loads(await request.body())
        with _db(request) as s:
            saved, problems = store.import_tasks(s, tasks if isinstance(tasks, list) else [],
                                                 lambda doc: _pages(request, doc), who.username)
            if problems:
                s.rollback()
                raise HTTPException(422, {"documents": problems})
            s.commit()
    except (json.JSONDecodeError, ValueError) as exc:
        raise HTTPException(422, f"not a Label Studio export: {exc}") from None
    _wake(request)
    return {"imported": saved}


def _candidate(text: str, template_id: str, version: int) -> Any:
    try:
        return onboarding.parse_candidate(text, template_id, version)
    except TemplateError as exc:
        raise HTTPException(422, exc.problem) from None


def _valid_id(template_id: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,99}", template_id):
        raise HTTPException(422, "a template id is lower-case letters, digits, - and _")
