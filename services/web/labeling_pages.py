"""The labeling service's pages: the work list, the labeling view, templates and their versions.

Server-rendered like the console (same layout, same login); the labeling view's clicks, drags
and keys are in labeling/static/labeling.js, which calls the JSON API in labeling_api.py.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

import labeling
from labeling import store
from labeling.labels import stored, suggest, template_id_for
from services.access.roles import Permission
from services.contracts import HEADER_FIELDS, LINE_ITEM_FIELDS
from services.extraction import registry
from services.storage.models import Document
from services.web.auth import Labeling
from services.web.labeling_api import live

LABELING = Path(labeling.__file__).parent  # the labeling package's pages and script
templates = Jinja2Templates(directory=[LABELING / "templates", Path(__file__).parent / "templates"])
router = APIRouter(prefix="/labeling", include_in_schema=False)


def _page(request: Request, name: str, who: object, **context: object) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"who": who, "Permission": Permission, **context})


@router.get("")
def worklist_page(request: Request, who: Labeling, labeled: bool = False) -> HTMLResponse:
    with Session(request.app.state.engine) as s:
        rows = store.worklist(s, limit=200, include_labeled=labeled)
    return _page(request, "worklist.html", who, rows=rows, labeled=labeled)


@router.get("/documents/{document_id}")
def label_page(request: Request, document_id: str, who: Labeling) -> HTMLResponse:
    with Session(request.app.state.engine) as s:
        doc = s.get(Document, document_id)
        if doc is None:
            raise HTTPException(404, "no such document")
        current = store.latest(s, document_id)
        following = next((d["document_id"] for d in store.worklist(s, limit=2) if d["document_id"] != document_id),
                         None)
        vendor = next((lab.value for lab in (current.values() if current else []) if lab.field == "vendor_name"),
                      None) or doc.vendor
        alike = store.labeled_alike(s, document_id, vendor)
    suggested = []
    read = doc.validated()
    if current is None and read and doc.blob_uri:  # start from what the extraction read
        suggested = suggest(read.fields, request.app.state.pages.pages(document_id, doc.blob_uri))
    data = {
        "document_id": document_id, "page_count": doc.page_count or 0, "header": list(HEADER_FIELDS),
        "columns": list(LINE_ITEM_FIELDS), "revision": current.revision if current else None,
        "labels": current.labels if current else stored(suggested), "suggested": bool(suggested), "next": following,
        "template_id": doc.template_id or (template_id_for(vendor) if vendor else ""),
        "alike": alike,
        "can_publish": who.can(Permission.PUBLISH_TEMPLATES),  # type: ignore[attr-defined]
    }
    return _page(request, "label.html", who, doc=doc, data=data)


@router.get("/templates")
def templates_page(request: Request, who: Labeling) -> HTMLResponse:
    return _page(request, "templates.html", who, current=live(request).current)


@router.get("/templates/{template_id}")
def template_page(request: Request, template_id: str, who: Labeling) -> HTMLResponse:
    reg = live(request)
    with Session(request.app.state.engine) as s:
        versions = registry.described(s, reg, template_id)
    if not versions:
        raise HTTPException(404, "no such template")
    data = {"template_id": template_id, "can_publish": who.can(Permission.PUBLISH_TEMPLATES)}  # type: ignore[attr-defined]
    return _page(request, "template.html", who, template_id=template_id, versions=versions, data=data)
