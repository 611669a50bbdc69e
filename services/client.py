"""Publishing envelopes and waiting for terminal results: what an integrator does."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from services import topics
from services.contracts import IncomingDocument
from services.settings import Settings
from services.storage.blobs import BlobStore, sha256_hex

TERMINAL_STATE = {topics.ACCEPTED: "accepted", topics.EXCEPTIONS: "exception", topics.DEADLETTER: "deadletter"}


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


def envelope_for(path: Path, settings: Settings, source: str, blobs: BlobStore) -> IncomingDocument:
    """Inline content up to the inline limit; above it, the bytes go to the blob store (claim check)."""
    data = path.read_bytes()
    common = {
        "document_id": f"doc-{uuid.uuid4().hex}",
        "source": source,
        "filename": path.name,
        "sha256": sha256_hex(data),
        "metadata": {"path": str(path)[:200]},
    }
    if len(data) <= settings.inline_content_limit:
        return IncomingDocument(content=base64.b64encode(data).decode(), **common)
    return IncomingDocument(blob_uri=blobs.put(data), **common)


@dataclass
class Result:
    document_id: str
    state: str
    reasons: list[str]


def reasons_of(topic: str, payload: dict) -> list[str]:
    if topic == topics.DEADLETTER:
        return [payload.get("reason", "")]
    return list(payload.get("reasons", []))


async def publish(bootstrap: str, messages: list[tuple[str, bytes]], on_sent: Callable[[], None]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=8 * 1024 * 1024,
                                linger_ms=5)
    await producer.start()
    try:
        pending = []
        for key, value in messages:
            pending.append(await producer.send(topics.INCOMING, value=value, key=key.encode()))
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


async def wait_terminal(
    bootstrap: str, wanted: set[str], timeout: float, on_result: Callable[[Result], None]
) -> set[str]:
    """Read the terminal topics from the beginning until every wanted id has a result.

    Returns the ids still missing at the timeout.
    """
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *topics.TERMINAL, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
        enable_auto_commit=False, fetch_max_bytes=16 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    missing = set(wanted)
    deadline = time.monotonic() + timeout
    try:
        while missing and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    doc_id = (record.key or b"").decode()
                    if doc_id in missing:
                        missing.discard(doc_id)
                        payload = json.loads(record.value)
                        on_result(Result(doc_id, TERMINAL_STATE[tp.topic], reasons_of(tp.topic, payload)))
    finally:
        await consumer.stop()
    return missing


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)
