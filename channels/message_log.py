"""The `processed_messages` table seen from the Rasa server: retries, rate limit, expiry.

Every WhatsApp message id (Twilio's MessageSid) is claimed with an INSERT on its
primary key before the message is handled, so a retry, even one that reaches another
worker or server at the same moment, finds the id taken; the reply marks it answered.
A claim left unanswered past `stale_after` (its process was killed mid-turn) is taken
over by the next retry, so that message is still answered, once. The same rows are the log of
what each sender sent lately, which is all the rate limit needs. The table is owned by
the Alembic migrations (actions/migrations); this module uses SQLAlchemy Core only, so
it runs on the Rasa env's SQLAlchemy 1.4 as well as on SQLAlchemy 2.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

processed_messages = Table(
    "processed_messages",
    MetaData(),
    Column("message_sid", String(64), primary_key=True),
    Column("sender_id", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True)),
)


def _sqlite_synchronous_normal(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class MessageLog:
    """Claims message ids, counts a sender's recent messages and forgets old ids."""

    def __init__(
        self,
        database_url: str,
        keep: timedelta = timedelta(hours=24),
        purge_every_s: float = 600.0,
        stale_after: timedelta = timedelta(seconds=30),
    ) -> None:
        if database_url.startswith("sqlite"):
            # Pooled connections (each used by one thread at a time) and synchronous=NORMAL,
            # safe in the WAL mode actions.db puts the file in: ~1 ms a claim instead of ~8.
            self.engine = create_engine(
                database_url,
                poolclass=QueuePool,
                connect_args={"timeout": 30, "check_same_thread": False},
            )
            event.listen(self.engine, "connect", _sqlite_synchronous_normal)
        else:
            self.engine = create_engine(database_url, pool_pre_ping=True)
        self.keep = keep
        self.purge_every_s = purge_every_s
        self.stale_after = stale_after
        self._next_purge = 0.0

    def claim(self, message_sid: str, sender_id: str, window: timedelta) -> Optional[int]:
        """Record a message id and count the sender's messages within `window`, this one included.

        None when the id was already there: a retry. One connection, one transaction.
        """
        self._purge_now_and_then()
        now = _now()
        recent = (
            select(func.count())
            .select_from(processed_messages)
            .where(processed_messages.c.received_at > now - window)
            .where(processed_messages.c.sender_id == sender_id)
        )
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    processed_messages.insert().values(message_sid=message_sid, sender_id=sender_id, received_at=now)
                )
                return connection.execute(recent).scalar_one()
        except IntegrityError:
            pass
        # Claimed before and never answered for `stale_after`: the process handling it died
        # mid-turn (Twilio retries after its timeout). One retry takes it over, atomically.
        with self.engine.begin() as connection:
            taken = connection.execute(
                processed_messages.update()
                .where(processed_messages.c.message_sid == message_sid)
                .where(processed_messages.c.answered_at.is_(None))
                .where(processed_messages.c.received_at < now - self.stale_after)
                .values(received_at=now)
            ).rowcount
            return connection.execute(recent).scalar_one() if taken else None

    def answered(self, message_sid: str) -> None:
        """Mark a claimed id as answered: from now on its retries get an empty reply."""
        with self.engine.begin() as connection:
            connection.execute(
                processed_messages.update()
                .where(processed_messages.c.message_sid == message_sid)
                .values(answered_at=_now())
            )

    def release(self, message_sid: str) -> None:
        """Forget a claimed id whose handling failed, so that a retry is handled."""
        with self.engine.begin() as connection:
            connection.execute(processed_messages.delete().where(processed_messages.c.message_sid == message_sid))

    def purge(self) -> int:
        """Delete the ids older than `keep`; return how many went."""
        cutoff = _now() - self.keep
        with self.engine.begin() as connection:
            result = connection.execute(processed_messages.delete().where(processed_messages.c.received_at < cutoff))
        return result.rowcount

    def _purge_now_and_then(self) -> None:
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + self.purge_every_s
            self.purge()
