"""Publishing envelopes and waiting for terminal results: what an integrator does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from services import topics
from services.contracts import IncomingDocument
from services.ids import new_document_id
from services.settings import Settings
from services.storage.blobs import BlobStore, sha256_hex


def broker_address(settings: Settings) -> str:
    """``DOCFLOW_BROKER``, else the embedded broker that ``docflow up`` announced in its home."""
    if settings.broker:
        return settings.broker
    announced = settings.home / "broker.addr"
    if announced.exists():
        return announced.read_text().strip()
    raise SystemExit("no broker: set DOCFLOW_BROKER or start `docflow up` with this DOCFLOW_HOME")


def expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return files


def store_first(files: list[Path], settings: Settings, source: str) -> list[tuple[IncomingDocument, Path]]:
    """Put each file in the blob store and give it its database row (``received``) before anything
    is published, so that a document the broker loses can still be re-driven (services/reconcile).

    The envelopes carry the bytes by reference (claim check): the stream's messages stay small.
    """
    from services.storage import crud
    from services.storage.db import make_engine, session_scope

    blobs = BlobStore(settings.blob_root)
    engine = make_engine(settings.db_url)
    out = []
    try:
        for path in files:
            data = path.read_bytes()
            envelope = IncomingDocument(
                document_id=new_document_id(), source=source, filename=path.name[:500] or "document",
                sha256=sha256_hex(data), blob_uri=blobs.put(data), metadata={"path": str(path)[:200]},
            )
            with session_scope(engine) as s:
                crud.store_submitted(s, envelope, size=len(data))
            out.append((envelope, path))
    finally:
        engine.dispose()
    return out


@dataclass
class Result:
    document_id: str
    state: str
    reasons: list[str]


async def publish(bootstrap: str, messages: list[tuple[str, bytes]], on_sent: Callable[[], None],
                  topic: str = topics.INCOMING) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=8 * 1024 * 1024,
                                linger_ms=5)
    await producer.start()
    try:
        pending = []
        for key, value in messages:
            pending.append(await producer.send(topic, value=value, key=key.encode()))
            if len(pending) >= 100:
                for fut in pending:
                    await fut
                    on_sent()
                pending.clear()
        for fut in pending:
            await fut
            on_sent()
    finally:
        await producer.stop()


def wait_stored(settings: Settings, wanted: set[str], timeout: float, on_result: Callable[[Result], None],
                poll_s: float = 0.5) -> set[str]:
    """Watch the database until every wanted id is terminal there (it outlives any broker restart);
    returns the ids still unfinished at the timeout."""
    from sqlmodel import Session, col, select

    from services.storage.db import make_engine
    from services.storage.models import Document, DocumentState

    engine = make_engine(settings.db_url)
    missing = set(wanted)
    deadline = time.monotonic() + timeout
    try:
        while missing and time.monotonic() < deadline:
            with Session(engine) as s:
                rows = s.exec(select(Document.document_id, Document.state, Document.reasons).where(
                    col(Document.document_id).in_(list(missing)),
                    col(Document.state).in_(DocumentState.TERMINAL))).all()
            for document_id, state, reasons in rows:
                missing.discard(document_id)
                on_result(Result(document_id, state, list(reasons or [])))
            if missing:
                time.sleep(poll_s)
    finally:
        engine.dispose()
    return missing


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)
