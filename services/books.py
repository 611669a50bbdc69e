"""A batch's bookkeeping in two transactions, not two a document (the chain agent's).

On its way a document asks the database twice: whether its bytes came before (its registration,
at intake) and whether its vendor's invoice number is taken (the claim, at validation). Asked one
document at a time, each is a transaction and a commit of its own (on PostgreSQL a round trip and a
wait for the log to reach the disk). ``scripts/compare-revisions df79ed3 27a9178 --kind worker``, 16
documents a batch: the walk 9.70 -> 8.32 ms of CPU a document on SQLite; with ``--database`` on
PostgreSQL 12.56 -> 9.12, and its wall time 15.47 -> 10.39 ms.

So a batch takes every document's intake first and registers them all in one transaction
(``intake_all``; the steps then find their registration done, ``Env.taken``), walks each document
from its parse, and claims the accepted invoices' numbers in one transaction after (``claim_all``).
The answers are the ones the documents would have had one after the other: the statements run in
the batch's order, so of two documents with the same bytes, or the same invoice number, the later
is the duplicate. Each document's row is written before its parse, as before: a document that kills
its worker while it is parsed is found registered, its bytes kept, by the worker after.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from services.contracts import AcceptedDocument, IncomingDocument
from services.emit import Emit, Event
from services.intake.logic import intake
from services.stages import Env, Taken, validated
from services.storage import crud
from services.storage.db import core_scope
from services.validation.logic import duplicate

Hold = Callable[[str], contextlib.AbstractContextManager[Any]]


def intake_all(items: list[tuple[IncomingDocument, Event]], env: Env, *, hold: Hold,
               infrastructure: tuple[type[Exception], ...] = ()) -> dict[str, Taken]:
    """Each document's intake (held in the crash ledger by ``hold``), then one transaction
    registering those that passed, in order; what an intake raised is kept for its step to raise,
    but an ``infrastructure`` error is the batch's, raised here."""
    assert env.engine is not None
    rt, taken = env.rt, {}
    for envelope, event in items:
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            with hold(event.document_id):
                ref = intake(envelope, event.document_id, blobs=rt.blobs, limits=env.limits or rt.limits)
        except infrastructure:
            raise
        except Exception as exc:  # the document's: its step raises it again, and it is dead-lettered there
            taken[event.document_id] = Taken(None, error=exc)
        else:
            taken[event.document_id] = Taken(ref)
        event.ahead_cpu_s, event.ahead_s = time.thread_time() - cpu, time.perf_counter() - wall
    passed = [(doc_id, t.ref) for doc_id, t in taken.items() if t.ref is not None]
    if passed:
        with core_scope(env.engine) as s:
            for doc_id, ref in passed:
                taken[doc_id] = replace(taken[doc_id], earlier=crud.register_document(s, ref=ref))
    return taken


def claim_all(walked: list[tuple[Event, list[tuple[str, Emit]]]], env: Env) -> None:
    """The invoice numbers of the batch's accepted documents claimed in one transaction, in order; a
    number another document holds makes its document a duplicate exception, as ``validate_fields``
    would have (its step's timing kept)."""
    pending = [(event, steps) for event, steps in walked if steps and steps[-1][1].claim is not None]
    if not pending:
        return
    assert env.engine is not None
    holders = []
    with core_scope(env.engine) as s:
        for event, steps in pending:
            key = steps[-1][1].claim
            assert key is not None
            holders.append(crud.claim_invoice(s, vendor_key=key[0], invoice_number=key[1],
                                              document_id=event.document_id))
    for (event, steps), holder in zip(pending, holders, strict=True):
        stage, emit = steps[-1]
        emit.claim = None
        if holder is None:
            continue
        assert isinstance(emit.message, AcceptedDocument)
        settled = validated(duplicate(emit.message, holder), event, env)
        settled.cpu_s, settled.seconds = emit.cpu_s, emit.seconds
        steps[-1] = (stage, settled)
