"""A console over a migrated database holding one exception (a real invoice, its invoice number
not read), one accepted document, and one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.access import passwords
from services.access.users import create_user
from services.contracts import AcceptedDocument, IncomingDocument
from services.pipeline import run
from services.runtime import Runtime
from services.settings import Settings
from services.storage import crud
from services.storage.db import make_engine, session_scope
from services.validation.logic import validate
from services.web.app import create_app

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
ROLES = ("viewer", "operator", "labeler", "approver", "admin")
PASSWORD = "a long enough secret 42"


@dataclass
class Console:
    client: TestClient
    settings: Settings
    engine: object
    exception_id: str = "exc-1"
    accepted_id: str = "acc-1"

    def login(self, username: str) -> str:
        """Log in through the form, as a browser does; returns the session's CSRF token."""
        self.client.cookies.clear()
        form = self.client.get("/login")
        csrf = form.cookies.get("docflow_login") or self.client.cookies.get("docflow_login")
        answer = self.client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf,
                                                  "next": "/console/queue"}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/queue", answer.text
        page = self.client.get("/console/documents")  # every role may read documents
        return page.text.split('<meta name="csrf" content="')[1].split('"')[0]


def seed(settings: Settings, rt: Runtime) -> None:
    """The stream's own results for a real PDF, stored as the transport stores them."""
    pdf = (GOLDEN / "northwind.pdf").read_bytes()
    engine = make_engine(settings.db_url)
    for doc_id, drop in (("exc-1", "invoice_number"), ("acc-1", None)):
        outcome = run(IncomingDocument.model_validate({"document_id": doc_id, "source": "test",
                                                       "content": _b64(pdf + doc_id.encode())}), rt)
        result = outcome.result
        assert isinstance(result, AcceptedDocument), outcome.reasons
        if drop:
            result = validate(result.model_copy(update={"fields": {k: v for k, v in result.fields.items()
                                                                   if k != drop}}), rt.ruleset)
        state = "accepted" if isinstance(result, AcceptedDocument) else "exception"
        reasons = [str(r) for r in getattr(result, "reasons", [])]
        with session_scope(engine) as s:
            crud.register_document(s, ref=result.doc)
            crud.save_extractions(s, document_id=doc_id, fields=result.fields)
            crud.advance(s, document_id=doc_id, state="extracted", page_count=result.page_count)
            crud.finish(s, document_id=doc_id, state=state, reasons=reasons, result=result,
                        vendor="northwind", priority=2)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


@pytest.fixture
def console(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    # Six users at the production scrypt cost (0.4 s a hash, as much again a login) were most of
    # every console test's time. The cost is stored in each hash, so their logins verify at this
    # one; the production cost is tested in tests/services/review/test_review.py.
    monkeypatch.setattr(passwords, "N", 2**10)
    settings = Settings(home=tmp_path / "home", database_url=db_url)
    settings.home.mkdir(parents=True)
    rt = Runtime(settings)
    seed(settings, rt)
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        for role in ROLES:
            create_user(s, username=role, password=PASSWORD, roles=[role])
        create_user(s, username="operator2", password=PASSWORD, roles=["operator"])
    with TestClient(create_app(settings, publish=False)) as client:
        yield Console(client, settings, engine)
    engine.dispose()
