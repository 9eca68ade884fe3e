"""Forget customers' personal data after DATA_RETENTION_DAYS: `python -m actions.purge` (`make purge`).

What goes, in one transaction, for data older than the cutoff:

- conversations (Rasa's `events`) whose last event is older: the whole conversation;
- appointments whose visit was before the cutoff (name, number, car);
- handoffs opened before it (with their messages), and processed WhatsApp message ids;
- ratings keep their score and topics for the report, without the sender.

DATA_RETENTION_DAYS defaults to 365; 0 keeps everything. Run it daily (cron).
The catalog is never touched. A Rasa server that still holds a purged
conversation in memory forgets it when its cache does; conversations idle for a
year have long left it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.sql import column, table

from actions import db
from actions.db import Appointment, Handoff, HandoffMessage, ProcessedMessage, Rating, utcnow
from settings import current as current_settings

# Rasa's tracker store table (not the migrations'): only what forgetting a conversation needs.
EVENTS = table("events", column("sender_id"), column("timestamp"), column("type_name"))


def retention_days() -> int:
    """DATA_RETENTION_DAYS (settings.py)."""
    return current_settings().data_retention_days


@dataclass
class PurgeResult:
    conversations: int = 0
    events: int = 0
    appointments: int = 0
    handoffs: int = 0
    messages: int = 0
    ratings: int = 0

    def summary(self) -> str:
        return (
            f"conversaciones: {self.conversations} ({self.events} eventos) · citas: {self.appointments}"
            f" · asesorías: {self.handoffs} · mensajes: {self.messages} · calificaciones anonimizadas: {self.ratings}"
        )


def purge(url: Optional[str] = None, days: Optional[int] = None, now: Optional[datetime] = None) -> PurgeResult:
    """Delete (or anonymise) what is older than `days` before `now`; nothing when days is 0."""
    days = retention_days() if days is None else days
    result = PurgeResult()
    if days <= 0:
        return result
    cutoff = (now or utcnow()) - timedelta(days=days)
    with db.session_scope(url) as session:
        if inspect(session.connection()).has_table("events"):
            stale = (
                select(EVENTS.c.sender_id)
                .group_by(EVENTS.c.sender_id)
                .having(func.max(EVENTS.c.timestamp) < cutoff.timestamp())
            )
            senders: List[str] = list(session.scalars(stale))
            result.conversations = len(senders)
            for start in range(0, len(senders), 500):
                chunk = senders[start : start + 500]
                result.events += session.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(chunk))).rowcount
        result.appointments = session.execute(delete(Appointment).where(Appointment.scheduled_at < cutoff)).rowcount
        old_handoffs = select(Handoff.id).where(Handoff.created_at < cutoff)
        session.execute(delete(HandoffMessage).where(HandoffMessage.handoff_id.in_(old_handoffs)))
        result.handoffs = session.execute(delete(Handoff).where(Handoff.created_at < cutoff)).rowcount
        result.messages = session.execute(
            delete(ProcessedMessage).where(ProcessedMessage.received_at < cutoff)
        ).rowcount
        result.ratings = session.execute(
            update(Rating).where(Rating.created_at < cutoff, Rating.sender_id != "").values(sender_id="")
        ).rowcount
    return result


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.purge", description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, help="días a conservar (por defecto DATA_RETENTION_DAYS)")
    args = parser.parse_args(argv)
    days = retention_days() if args.days is None else args.days
    if days <= 0:
        print("DATA_RETENTION_DAYS=0: se conserva todo.")
        return 0
    result = purge(days=days)
    print(f"Borrado lo anterior a {days} días: {result.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
