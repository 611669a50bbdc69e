"""documents.classified -> the e-invoice teacher (labels, and a published template).

A side consumer of the document path: it owns no document and sends nothing down the stream, so
whatever happens here, every document still takes its one path to a terminal topic. A failure is
logged and counted, never raised into Faust (which would ack the event and move on regardless).
"""

from __future__ import annotations

import time
from typing import Any

import faust
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from labeling.teacher import teach
from services import topics
from services.codec import decode
from services.contracts import ClassifiedDocument, DocumentRef, Page
from services.extraction.logic import embedded_einvoice
from services.log_setup import get_logger
from services.monitoring import metrics
from services.runtime import Runtime
from services.stages import parser
from services.storage import claims
from services.storage.db import session_scope
from services.transport import in_thread

STAGE = "teach"


class TeachAgent:
    def __init__(self, app: faust.App, rt: Runtime, engine: Engine):
        self.app, self.rt, self.engine = app, rt, engine

    def register(self) -> None:
        source = self.app.topic(topics.CLASSIFIED, key_serializer="raw", value_serializer="raw")

        async def teach_agent(stream: Any) -> None:
            async for event in stream.events():
                await self.handle(event.value or b"")

        self.app.agent(source, name=f"docflow.{STAGE}")(teach_agent)

    async def handle(self, raw: bytes) -> str | None:
        mode = self.rt.settings.einvoice_teacher
        if mode == "off":
            return None
        log = get_logger(stage=STAGE)
        started = time.perf_counter()
        document_id = None
        try:
            classified = decode(ClassifiedDocument, raw)
            document_id = classified.doc.document_id
            if classified.detection.status != "unknown":
                return None
            classified = claims.check_out(classified, self.rt.blobs, self._reparse)
            found = await in_thread(embedded_einvoice, classified, self.rt.extraction)
            if found is None:
                return None
            self.rt.refresh_templates()
            done = await in_thread(self._teach, classified, found[0], mode)
        except IntegrityError:  # another worker taught from this vendor's invoice at the same moment
            done = "taught elsewhere"
        except Exception:
            log.exception("teaching failed", document_id=document_id)
            metrics.FAILURES.labels(STAGE, "TEACH_FAILED").inc()
            return None
        if done is not None:
            metrics.MESSAGES.labels(STAGE, done.replace(" ", "_")).inc()
            log.info("e-invoice taught", document_id=document_id, outcome=done,
                     ms=round((time.perf_counter() - started) * 1000, 1))
        return done

    def _reparse(self, doc: DocumentRef) -> list[Page]:
        """The pages again from the document's bytes, where their claim check is gone."""
        return parser(self.rt, None)(self.rt.blobs.get(doc.blob_uri), doc).document.pages

    def _teach(self, classified: ClassifiedDocument, fields: dict, mode: str) -> str | None:
        with session_scope(self.engine) as s:
            return teach(s, classified, fields, live=self.rt.templates, files=self.rt.registry.files,
                         regex_timeout_s=self.rt.settings.regex_timeout_s, mode=mode)
