"""FastAPI application: ``/health``, Prometheus ``/metrics`` and ``/api/documents``."""


from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Response
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services.monitoring import metrics
from services.settings import Settings
from services.storage import crud
from services.storage.db import make_engine
from services.storage.models import Document


def create_app(settings: Settings) -> FastAPI:
    engine: Engine = make_engine(settings.db_url)
    app = FastAPI(title="docflow", version="0.1.0")

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    SessionDep = Annotated[Session, Depends(session)]

    @app.get("/health")
    def health(s: SessionDep) -> dict:
        try:
            s.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception as exc:
            raise HTTPException(503, f"database unavailable: {type(exc).__name__}") from None
        return {"status": "ok", "database": "ok", "broker": settings.broker or "embedded"}

    @app.get("/metrics")
    def prometheus() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/api/documents/{document_id}")
    def get_document(document_id: str, s: SessionDep) -> dict:
        view = crud.document_view(s, document_id=document_id)
        if view is None:
            raise HTTPException(404, "no such document")
        return view

    @app.get("/api/documents")
    def list_documents(
        s: SessionDep,
        state: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict:
        query = select(Document).order_by(Document.updated_at.desc()).limit(limit)  # type: ignore[attr-defined]
        if state:
            query = query.where(Document.state == state)
        rows = s.exec(query).all()
        return {
            "counts": crud.state_counts(s),
            "documents": [
                {"document_id": d.document_id, "state": d.state, "reasons": d.reasons,
                 "filename": d.filename, "updated_at": d.updated_at.isoformat()}
                for d in rows
            ],
        }

    return app
