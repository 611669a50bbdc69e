"""Engine and sessions: SQLite (one file, WAL) by default, PostgreSQL by URL; Alembic migrations."""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pydantic_core
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` use psycopg 3, the driver this project installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _json(value: Any) -> str:
    """JSON columns' text, by pydantic-core: a third of the stdlib's cost (a validated document's
    result, its fields' boxes, the monitors' features: a worker writes them for every document)."""
    return pydantic_core.to_json(value).decode()


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=_json)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, json_serializer=_json)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Connected(Protocol):
    """What a write of Core statements asks of its unit of work: the connection (an ORM session's,
    or ``core_scope``'s)."""

    def connection(self) -> Connection: ...


@dataclass(frozen=True)
class _Core:
    bound: Connection

    def connection(self) -> Connection:
        return self.bound


@contextmanager
def core_scope(engine: Engine) -> Iterator[Connected]:
    """One unit of work on a plain connection, committed on success, rolled back on error: for
    writes of Core statements only (crud's insert_ignore and those built on it), on every
    document's path, without an ORM session's set-up and commit (an empty transaction 0.08 ms here
    against 0.19)."""
    with engine.begin() as connection:
        yield _Core(connection)


_HIGHEST: dict[tuple[type, str], Any] = {}


# A database not migrated yet is asked again after this long, not before every document: its
# error costs more than the answer of a migrated one, and nothing is published without the tables.
UNMIGRATED_RECHECK_S = 1.0
_UNMIGRATED: weakref.WeakKeyDictionary[Engine, dict[tuple[type, str], float]] = weakref.WeakKeyDictionary()


def highest(engine: Engine, column) -> int:  # type: ignore[no-untyped-def]
    """The largest value of an integer ``column`` (an event log's seq), 0 for none or a database not
    migrated yet. A plain connection, no ORM session: the workers ask before every document."""
    key = (column.class_, column.key)
    statement = _HIGHEST.get(key)
    if statement is None:  # built once: making a select costs more than SQLite answering it
        statement = _HIGHEST[key] = select(func.max(column))
    missing = _UNMIGRATED.get(engine)
    if missing and missing.get(key, 0.0) > time.monotonic():
        return 0
    try:
        with engine.connect() as connection:
            return int(connection.execute(statement).scalar() or 0)
    except (OperationalError, ProgrammingError) as exc:
        if not _no_table(exc):
            # A database that is there and failed (locked, gone away): not "nothing published". The
            # caller's infrastructure retry takes it; 0 would serve the files alone for a document.
            raise
        _UNMIGRATED.setdefault(engine, {})[key] = time.monotonic() + UNMIGRATED_RECHECK_S
        return 0


def _no_table(exc: Exception) -> bool:
    """SQLite's "no such table", PostgreSQL's undefined table (SQLSTATE 42P01)."""
    orig = getattr(exc, "orig", exc)
    return "no such table" in str(orig) or getattr(orig, "sqlstate", None) == "42P01"


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (never drop-and-create)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    command.upgrade(cfg, revision)
