"""Shared fixtures: a real Rasa server and action server on a fresh SQLite database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, make_url, text

from actions import db
from actions.catalog.sync import sync
from tests.servers import ROOT, Servers

SHARED_CATALOG = Path(__file__).resolve().parents[2] / "shared" / "data" / "kavak_sample_catalog.csv"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A migrated database for the whole test session, with the bundled sample catalog: SQLite,
    or a new database on the PostgreSQL server of TEST_POSTGRES_URL (make test-postgres)."""
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kavak.db'}"
    else:
        name = f"kavak_test_{uuid4().hex[:12]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
    db.upgrade(url)
    sync(ROOT / "catalog" / "sample_catalog.csv", url)
    yield url
    if server:
        db.get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def servers(tmp_path_factory, database_url):
    """Action server + Rasa server, started once for the session."""
    running = Servers(tmp_path_factory.mktemp("servers"), database_url).start()
    yield running
    running.stop()


@pytest.fixture
def shared_catalog() -> Path:
    """The real sample catalog from ../shared; the test is skipped without it."""
    if not SHARED_CATALOG.exists():
        pytest.skip(f"{SHARED_CATALOG} not found")
    return SHARED_CATALOG
