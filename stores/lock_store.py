"""Rasa's conversation lock kept in the conversations' database (SQLite or PostgreSQL).

Rasa serves one message of a conversation at a time with a ticket lock: each
message takes a ticket and waits until it is the oldest unexpired ticket of its
conversation. With `SANIC_WORKERS` > 1 (or several Rasa servers) the tickets must
live where every process sees them; Rasa offers Redis for that. This store keeps
them in a `rasa_lock_tickets` table of `DATABASE_URL` instead, one row per
ticket: taking a ticket is a single INSERT (the row id is the ticket number) and
finishing is a DELETE of that row, so no two processes ever rewrite the same
lock. Select it with `LOCK_STORE_TYPE=stores.lock_store.SQLLockStore`.

Processes that share a machine also share its cores. A turn is CPU work, so
turns handled side by side only slow each other down, the longest ones (a form
and two custom actions) the most. Each process therefore works on at most
`TURNS_AT_ONCE` messages (default 2) at once; the others wait in arrival order
(README: Benchmarks).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Optional, Text

import sqlalchemy as sa
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockStore
from rasa.utils.endpoints import EndpointConfig

from settings import current as current_settings
from stores.engine import create_engine

_metadata = sa.MetaData()
tickets = sa.Table(
    "rasa_lock_tickets",
    _metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("expires", sa.Float, nullable=False),
)


def _expired(conversation_id: Text) -> sa.sql.ColumnElement:
    """The conversation's tickets that have expired by now."""
    return (tickets.c.conversation_id == conversation_id) & (tickets.c.expires <= time.time())


class SQLLockStore(LockStore):
    """Ticket locks as rows of the database named by `DATABASE_URL`."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        url: Optional[Text] = None,
        turns_at_once: Optional[int] = None,
    ) -> None:
        given = current_settings()
        self.engine = create_engine(url or given.database_url)
        self._turns = asyncio.Semaphore(turns_at_once or given.turns_at_once)
        try:
            _metadata.create_all(self.engine, checkfirst=True)
        except sa.exc.DatabaseError:  # another worker created it at the same moment
            if not sa.inspect(self.engine).has_table(tickets.name):
                raise

    @asynccontextmanager
    async def lock(self, conversation_id: Text, *args: Any, **kwargs: Any) -> AsyncIterator[TicketLock]:
        """The conversation's lock, then one of this process's `TURNS_AT_ONCE` places."""
        async with super().lock(conversation_id, *args, **kwargs) as ticket_lock:
            async with self._turns:
                yield ticket_lock

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for the conversation."""
        with self.engine.begin() as connection:
            result = connection.execute(
                tickets.insert().values(conversation_id=conversation_id, expires=time.time() + lock_lifetime)
            )
            return int(result.inserted_primary_key[0])

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        """The conversation's unexpired tickets, oldest first; None when it has none."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(tickets.c.number, tickets.c.expires)
                .where(tickets.c.conversation_id == conversation_id, tickets.c.expires > time.time())
                .order_by(tickets.c.number)
            ).all()
        if not rows:
            return None
        return TicketLock(conversation_id, deque(Ticket(number, expires) for number, expires in rows))

    def update_lock(self, conversation_id: Text) -> None:
        """Drop the conversation's expired tickets."""
        with self.engine.begin() as connection:
            connection.execute(tickets.delete().where(_expired(conversation_id)))

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the ticket, and the conversation's expired ones (left by a crashed process)."""
        with self.engine.begin() as connection:
            connection.execute(tickets.delete().where((tickets.c.number == ticket_number) | _expired(conversation_id)))

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove this message's ticket; the others belong to messages still waiting."""
        self.finish_serving(conversation_id, ticket_number)

    def delete_lock(self, conversation_id: Text) -> None:
        with self.engine.begin() as connection:
            connection.execute(tickets.delete().where(tickets.c.conversation_id == conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        """Not used: tickets are only added by `issue_ticket` and removed one by one."""
        raise NotImplementedError("SQLLockStore stores tickets one by one, never a whole lock")
