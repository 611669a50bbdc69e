"""Shared fixtures: settings under a temporary home, databases (SQLite and PostgreSQL), invoices."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tests choose their model: none unless they train one or ask for the shipped default
# (tests/services/extraction/test_shipped_model.py), so what each asserts does not move with it.
os.environ.setdefault("DOCFLOW_SHIPPED_MODEL_DIR", str(Path(__file__).resolve().parent / "no-shipped-model"))

from services.runtime import Runtime
from services.settings import Settings
from services.storage.db import make_engine, normalise_url, upgrade

_OWN_CACHE = "docflow-test-cache-"


def pytest_configure(config: pytest.Config) -> None:
    """The models tests train are compiled to int8 into a cache of the run's own (the workers they
    start inherit it), not the user's: ~/.cache/docflow keeps the eight newest, and a run's four
    evicted the one `docflow up` serves, to be compiled again at its next start."""
    if "DOCFLOW_CACHE_DIR" not in os.environ:
        os.environ["DOCFLOW_CACHE_DIR"] = tempfile.mkdtemp(prefix=_OWN_CACHE)


def pytest_unconfigure(config: pytest.Config) -> None:
    cache = Path(os.environ.get("DOCFLOW_CACHE_DIR", ""))
    if cache.name.startswith(_OWN_CACHE):
        shutil.rmtree(cache, ignore_errors=True)


POSTGRES_URL = os.environ.get("DOCFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'docflow.db'}")


@pytest.fixture
def rt(settings: Settings) -> Runtime:
    settings.home.mkdir(parents=True, exist_ok=True)
    return Runtime(settings)


def fresh_postgres_database(template: str | None = None) -> tuple[str, object]:
    """A new database on the local PostgreSQL, empty or a copy of ``template``; returns its URL and a
    function dropping it."""
    from sqlalchemy import create_engine, text

    name = f"docflow_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


# Migrating costs about a second a database; the tests' databases are copies of one migrated
# once per session (a file copy for SQLite, CREATE DATABASE ... TEMPLATE for PostgreSQL).

@pytest.fixture(scope="session")
def sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrated") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    url, drop = fresh_postgres_database()
    upgrade(url)  # through a NullPool engine: no connection is left open on the template
    yield url.rsplit("/", 1)[1]
    drop()  # type: ignore[operator]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_migrated"), path)
        yield f"sqlite:///{path}"
        return
    url, drop = fresh_postgres_database(template=request.getfixturevalue("postgres_migrated"))
    try:
        yield url
    finally:
        drop()  # type: ignore[operator]


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true", help="Rewrite tests/golden/*.json from current output.")
