"""The HTTP API: health, Prometheus metrics, and the document view."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from services.contracts import DocumentRef
from services.settings import Settings
from services.storage import crud
from services.storage.db import make_engine, session_scope, upgrade
from services.web.app import create_app


def test_health_metrics_and_document(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """/health answers, /metrics has the stage series, /api/documents/{id} shows state or 404."""
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(settings.db_url)
    with session_scope(make_engine(settings.db_url)) as s:
        crud.register_document(s, ref=DocumentRef(
            document_id="d1", source="erp", filename="f.pdf", content_type="application/pdf", sha256="a" * 64,
            size=1, blob_uri="blob://sha256/" + "a" * 64, submitted_at=datetime.now(UTC)))
    client = TestClient(create_app(settings))
    assert client.get("/health").json()["status"] == "ok"
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "docflow_stage_seconds" in metrics.text
    assert client.get("/api/documents/d1").json()["state"] == "received"
    assert client.get("/api/documents/missing").status_code == 404
    listing = client.get("/api/documents", params={"state": "received"}).json()
    assert listing["counts"] == {"received": 1} and listing["documents"][0]["document_id"] == "d1"
