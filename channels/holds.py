"""Conversations held by a person: the channels keep the assistant quiet while staff answer.

A handoff (actions/handoff/) opens a row in `handoffs`. While it is open, every
message of that customer is stored in `handoff_messages` for staff (the staff
inbox shows it) instead of going to the assistant, which says once that a person
will reply and then nothing. The hold ends when staff hand the conversation back
(the inbox tells the customer), or after HANDOFF_TIMEOUT_MINUTES with no staff
reply: the next message then goes to the assistant again, which first says it is
back. Only WhatsApp conversations are held: staff reply over WhatsApp, so a REST
tester (`make shell`, tools) keeps talking to the assistant. SQLAlchemy Core only,
like channels/message_log.py: it runs on the Rasa env's SQLAlchemy 1.4; the tables
are the migrations' (actions/db.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, select

from actions.texts import say
from stores.engine import create_engine

_metadata = MetaData()
handoffs = Table(
    "handoffs",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(64)),
    Column("status", String(16)),
    Column("created_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("customer_told", Boolean),
    Column("last_activity_at", DateTime(timezone=True)),
    Column("closed_reason", String(16)),
)
handoff_messages = Table(
    "handoff_messages",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("handoff_id", Integer),
    Column("author", String(16)),
    Column("text", Text),
    Column("delivered", Boolean),
    Column("created_at", DateTime(timezone=True)),
)
OPEN = "open"


@dataclass(frozen=True)
class Hold:
    """What the channel does with a message: `held` ones skip the assistant and get `reply`
    ("" for none); otherwise `reply`, when there is one, goes before the assistant's answer."""

    held: bool
    reply: str = ""


FREE = Hold(held=False)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite drops the zone


class Holds:
    """Checks each incoming message against the sender's open handoff."""

    def __init__(self, database_url: str, timeout: timedelta) -> None:
        self.engine = create_engine(database_url)
        self.timeout = timeout

    def check(self, sender_id: str, text: str) -> Hold:
        """Store `text` for staff and hold it, or let it through (once the hold timed out, with
        the assistant's "I am back")."""
        now = datetime.now(timezone.utc)
        with self.engine.begin() as connection:
            row = connection.execute(
                select(handoffs.c.id, handoffs.c.customer_told, handoffs.c.created_at, handoffs.c.last_activity_at)
                .where(handoffs.c.sender_id == sender_id, handoffs.c.status == OPEN)
                .order_by(handoffs.c.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return FREE
            if now - _utc(row.last_activity_at or row.created_at) > self.timeout:
                connection.execute(
                    handoffs.update()
                    .where(handoffs.c.id == row.id)
                    .values(status="closed", closed_at=now, closed_reason="timeout")
                )
                return Hold(held=False, reply=say("utter_handoff_back_timeout"))
            connection.execute(
                handoff_messages.insert().values(
                    handoff_id=row.id, author="customer", text=text, delivered=True, created_at=now
                )
            )
            if row.customer_told:
                return Hold(held=True)
            connection.execute(handoffs.update().where(handoffs.c.id == row.id).values(customer_told=True))
            return Hold(held=True, reply=say("utter_handoff_held"))
