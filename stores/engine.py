"""The SQLAlchemy engine the Rasa-side stores share settings for."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import QueuePool


def _sqlite_wal_normal(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def create_engine(url: Any) -> sa.engine.Engine:
    """An engine for `url`; on SQLite pooled, in WAL mode with synchronous=NORMAL.

    WAL lets readers and a writer (several Rasa processes, the action server)
    work at once; synchronous=NORMAL commits without waiting for the disk, so a
    crash of a server loses nothing and only a power cut may lose the last turns.
    """
    if sa.engine.make_url(url).get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False, "timeout": 30})
    sa.event.listen(engine, "connect", _sqlite_wal_normal)
    return engine
