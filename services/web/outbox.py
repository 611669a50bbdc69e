"""Publishes operator decisions to documents.reviewed: the transactional outbox.

A decision is committed to ``review_decisions`` with the queue change and its audit entry, in
one transaction; this relay then publishes every unpublished row and marks it. A broker that is
down delays decisions, never loses them; a crash between publish and mark publishes one twice,
and the review stage applies it once (by ``decision_id``).
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.engine import Engine

from services import topics
from services.codec import encode
from services.log_setup import get_logger
from services.review import store
from services.storage.db import session_scope

POLL_S = 2.0


class Outbox:
    def __init__(self, engine: Engine, bootstrap: str, max_request_bytes: int):
        self.engine, self.bootstrap, self.max_request_bytes = engine, bootstrap, max_request_bytes
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="review-outbox")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        from aiokafka import AIOKafkaProducer

        log = get_logger(stage="outbox")
        producer = None
        while True:
            try:
                if producer is None:
                    producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                                max_request_size=self.max_request_bytes)
                    await producer.start()
                sent = await self.flush(producer)
                if sent:
                    log.info("decisions published", count=sent)
            except asyncio.CancelledError:
                if producer is not None:
                    await producer.stop()
                raise
            except Exception as exc:  # broker or database away: keep the rows, try again
                log.warning("outbox publish failed; will retry", error=type(exc).__name__)
                if producer is not None:
                    with contextlib.suppress(Exception):
                        await producer.stop()
                producer = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL_S)
            self.wake.clear()

    async def flush(self, producer) -> int:  # type: ignore[no-untyped-def]
        with session_scope(self.engine) as s:
            pending = store.unpublished(s)
        for decision in pending:
            await producer.send_and_wait(topics.REVIEWED, value=encode(decision), key=decision.document_id.encode())
            with session_scope(self.engine) as s:
                store.mark_published(s, [decision.decision_id])
        return len(pending)
