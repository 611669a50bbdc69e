"""A batch's records, gathered by kind and written with one statement per kind.

A worker records a batch of documents in one transaction (services/transport.py). Each document's
steps wrote single-row statements, about a dozen a document; the database's answer to each is cheap,
the client's work around each statement is not (0.06 ms and more a statement on SQLite here). The
steps now say what to write (``insert``, ``advance``, ``gather``, ``after``) and ``flush`` writes it:
the rows of one table in one statement, each document's moves merged into its last, and what needs
the rows before it (the monitors' outcome: the CPU its transitions add up to) after them.

Order within a flush: inserts (documents first: the others name them), then the documents' moves,
then the gathered and the ``after`` work in the order they were first asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from services.storage import crud
from services.storage.models import Document


class Writes:
    """What a batch writes, gathered until ``flush``; ``session`` is the batch's transaction."""

    def __init__(self, session: Session):
        self.session = session
        self._inserts: dict[tuple[Any, tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
        self._moves: dict[str, tuple[str, dict[str, Any]]] = {}
        self._later: dict[Any, list[Any]] = {}  # a gathered function -> its items; an ``after`` -> None

    def insert(self, table: Any, rows: dict[str, Any] | list[dict[str, Any]], index: list[str]) -> None:
        """``crud.insert_ignore`` of the rows, with every other row of the table and the same columns."""
        for row in [rows] if isinstance(rows, dict) else rows:
            self._inserts.setdefault((table, tuple(index), tuple(row)), []).append(row)

    def advance(self, document_id: str, state: str, **values: Any) -> None:
        """``crud.advance``: a document moved twice in a batch is moved once, to its last state, with
        every column either move set (later ones win)."""
        _, before = self._moves.get(document_id, ("", {}))
        self._moves[document_id] = (state, before | values)

    def gather(self, fn: Callable[[Session, list[Any]], None], item: Any) -> None:
        """``fn(session, items)`` once at the flush, with every item gathered for it."""
        self._later.setdefault(fn, []).append(item)

    def after(self, fn: Callable[[Session], None]) -> None:
        """``fn(session)`` at the flush, after the rows and the moves (work that reads them)."""
        self._later[_After(fn)] = []

    def flush(self) -> None:
        inserts = sorted(self._inserts.items(), key=lambda kv: kv[0][0] is not Document)  # stable: documents first
        for (table, index, _), rows in inserts:
            crud.insert_ignore(self.session, table, rows, list(index))
        by_columns: dict[tuple[str, ...], list[tuple[str, str, dict[str, Any]]]] = {}
        for document_id, (state, values) in self._moves.items():
            by_columns.setdefault(tuple(sorted(values)), []).append((document_id, state, values))
        for columns, moves in by_columns.items():
            crud.advance_many(self.session, [(d, s, v) for d, s, v in moves], columns)
        for fn, items in self._later.items():
            fn(self.session) if isinstance(fn, _After) else fn(self.session, items)
        self._inserts, self._moves, self._later = {}, {}, {}


class _After:
    """An ``after`` function, keyed by its own identity (the same function asked twice runs twice)."""

    def __init__(self, fn: Callable[[Session], None]):
        self.fn = fn

    def __call__(self, session: Session) -> None:
        self.fn(session)
