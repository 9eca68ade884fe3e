"""Shared fixtures: a real Rasa server and action server on a fresh SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions import db
from actions.catalog.sync import sync
from tests.servers import ROOT, Servers

SHARED_CATALOG = Path(__file__).resolve().parents[2] / "shared" / "data" / "kavak_sample_catalog.csv"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A migrated SQLite database for the whole test session, with the bundled sample catalog."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kavak.db'}"
    db.upgrade(url)
    sync(ROOT / "catalog" / "sample_catalog.csv", url)
    return url


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
