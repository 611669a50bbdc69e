"""Intake and parse, as one agent: documents.incoming -> documents.parsed.

Intake leaves nothing to publish between the two (the bytes go to the blob store), so
both stages run per event here; each is recorded as its own transition.
"""

from __future__ import annotations

from functools import cached_property

from sqlmodel import Session

from services import topics
from services.codec import decode
from services.contracts import Detection as _Detection
from services.contracts import (
    DocumentRef,
    ExceptionDocument,
    IncomingDocument,
    Issue,
    ParsedDocument,
    Reason,
    Validation,
)
from services.errors import UnreadableDocument
from services.ids import assign_document_id
from services.intake.logic import STAGE, intake
from services.monitoring import metrics
from services.parsing.logic import STAGE as PARSE
from services.parsing.logic import parse
from services.parsing.sandbox import ParseSandbox
from services.storage import crud
from services.storage.db import session_scope
from services.storage.models import DocumentState
from services.transport import Emit, Event, StageAgent, add_cpu, in_thread


class IntakeAgent(StageAgent):
    stage = STAGE
    source_topic = topics.INCOMING
    done_marker = STAGE

    async def process(self, event: Event) -> Emit | None:
        envelope = decode(IncomingDocument, event.raw)
        event.document_id = assign_document_id(envelope, event.key, event.raw)
        event.filename = envelope.filename
        if self.already_done(event.document_id):
            return None
        ref = intake(envelope, event.document_id, blobs=self.rt.blobs, limits=self.rt.limits)
        event.original_uri = ref.blob_uri
        with session_scope(self.engine) as s:
            earlier = crud.register_document(s, ref=ref)
        if earlier is not None:
            return self._duplicate(ref, earlier)
        parsed, child_cpu_s = await in_thread(self._parse, ref)
        add_cpu(child_cpu_s)
        return Emit(topics.PARSED, parsed, persist=lambda s: _parsed(s, parsed))

    def _parse(self, ref: DocumentRef) -> tuple[ParsedDocument, float]:
        """The parse, in the sandbox when budgets are set (the child's CPU seconds with it)."""
        settings = self.rt.settings
        try:
            data = self.rt.blobs.get(ref.blob_uri)
            if self.sandbox is None:
                return parse(data, ref, max_pages=settings.max_pages, max_words=settings.max_words_per_page), 0.0
            done = self.sandbox.parse(data, ref, max_pages=settings.max_pages, max_words=settings.max_words_per_page)
            metrics.PARSE_PEAK_MB.set(done.peak_mb)
            return done.document, done.cpu_s
        except UnreadableDocument as exc:
            exc.stage = PARSE
            raise

    @cached_property
    def sandbox(self) -> ParseSandbox | None:
        settings = self.rt.settings
        if settings.parse_timeout_s <= 0 and settings.parse_memory_mb <= 0:
            return None
        return ParseSandbox(timeout_s=settings.parse_timeout_s or float("inf"), memory_mb=settings.parse_memory_mb)

    def _duplicate(self, ref: DocumentRef, earlier: str) -> Emit:
        issue = Issue(code=Reason.DUPLICATE_CONTENT, message=f"the same bytes were submitted as {earlier}")
        message = ExceptionDocument(
            doc=ref, detection=_Detection(status="unknown"), page_count=0, text_layer="none",
            validation=Validation(ok=False, issues=[issue]), reasons=[Reason.DUPLICATE_CONTENT],
        )
        return Emit(topics.EXCEPTIONS, message, outcome="exception", reasons=[Reason.DUPLICATE_CONTENT])


def _parsed(session: Session, parsed: ParsedDocument) -> None:
    document_id = parsed.doc.document_id
    crud.record_transition(session, document_id=document_id, stage=PARSE, outcome="ok")
    crud.advance(session, document_id=document_id, state=DocumentState.PARSED, page_count=len(parsed.pages))
