"""Rasa's SQL tracker store, keeping each recent conversation's tracker in memory.

Rasa's `SQLTrackerStore` rebuilds the tracker at every turn: it reads all the
events of the session, deserialises them and replays them, then counts the
stored events again to know which ones to insert. That is about a third of the
Rasa server's CPU per turn in this assistant (README: Benchmarks).

This store keeps the tracker it saved last, with the id of its last event in
the database. The next turn gets that same tracker back, brought up to date
with the events stored after that id (usually none: one query that returns no
rows). Events are only ever appended, so events written meanwhile by another
Rasa process or server, or through the HTTP API, are replayed onto it exactly
as a full read would; a new session among them sends the turn back to a full
read of the latest session, as Rasa does. The save inserts only the events added
since. A conversation with no stored events is remembered as such, so the
tracker Rasa creates for it is kept from its first turn on. The database stays
the source of truth; a restart loses nothing.

When the database cannot be reached, Rasa's fail-safe wrapper would carry on with
an empty conversation kept in memory: the customer's list, slots and this turn's
messages would be lost, and the answers wrong. `refuse_memory_fallback` makes the
turn fail instead (the channel answers "dame un momento"), and a tracker whose
read failed is never saved over the conversation.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Text

from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.events import ActionExecuted, Event, Restarted, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from actions.privacy import DELETE_MY_DATA_ACTION
from settings import current as current_settings
from stores.engine import create_engine

# Events after which the tracker kept in memory is dropped and the database read again.
_STARTS_OVER = {SessionStarted.type_name, Restarted.type_name}


@dataclass
class _Known:
    """A tracker as this store last saw it in the database."""

    tracker: Optional[DialogueStateTracker]  # None: no events stored yet
    stored_events: int  # how many of tracker.events are in the database
    last_event_id: int  # id of its last event in the database
    lent: bool = False  # handed to a turn that has not saved it yet
    size: int = 0  # bytes of its events' JSON: what keeping it costs, roughly


class CachedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that answers `retrieve` from memory while the database agrees."""

    def __init__(self, *args: Any, max_cached: int = 10_000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Bounded by count and by bytes (TRACKER_CACHE_MAX_MB, 256): the least recently used go first.
        self.max_cached = int(max_cached)
        self.max_bytes = int(current_settings().tracker_cache_max_mb * 1024 * 1024)
        self._bytes = 0
        self._known: "OrderedDict[Text, _Known]" = OrderedDict()
        self._unread: set = set()  # conversations whose last read failed: Rasa made up a new tracker
        # Rasa's engine, with the stores' settings (stores/engine.py): on SQLite pooled
        # connections in WAL mode instead of a new one per query; on PostgreSQL pooled
        # connections checked before use, so the server carries on after a database restart.
        self.engine = create_engine(self.engine.url)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _stored_after(self, connection: Any, sender_id: Text, event_id: int) -> List[Any]:
        """This conversation's events stored after `event_id` (id, type_name, data), in order."""
        table = self.SQLEvent.__table__
        return connection.execute(
            select(table.c.id, table.c.type_name, table.c.data)
            .where(table.c.sender_id == sender_id, table.c.id > event_id)
            .order_by(table.c.id)
        ).all()

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session's tracker: the one kept in memory plus any events stored since."""
        self._unread.add(sender_id)  # until the read below succeeds
        tracker = await self._read(sender_id)
        self._unread.discard(sender_id)
        return tracker

    async def _read(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        known = self._known.get(sender_id)
        if (
            known is not None
            and known.tracker is not None
            and not known.lent
            and len(known.tracker.events) == known.stored_events
        ):
            with self.engine.connect() as connection:
                newer = self._stored_after(connection, sender_id, known.last_event_id)
            if not any(row.type_name in _STARTS_OVER for row in newer):
                for event in deserialise_events([json.loads(row.data) for row in newer]):
                    known.tracker.update(event)
                if newer:
                    known.stored_events, known.last_event_id = len(known.tracker.events), newer[-1].id
                known.lent = True
                self._remember(sender_id, replace(known, size=known.size + sum(len(row.data) for row in newer)))
                return known.tracker
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        if not rows:  # a new conversation: Rasa creates its tracker and saves it next
            self._remember(sender_id, _Known(None, 0, 0))
            return None
        if not self.domain:
            self._forget(sender_id)
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
        self._remember(
            sender_id, _Known(tracker, len(rows), rows[-1].id, lent=True, size=sum(len(row.data) for row in rows))
        )
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Insert the events added since the tracker was retrieved (or Rasa's way for others)."""
        sender_id = tracker.sender_id
        if sender_id in self._unread:
            raise ConnectionError(f"the conversation {sender_id!r} could not be read: not saving over it")
        known = self._known.get(sender_id)
        if known is None or (known.tracker is not None and known.tracker is not tracker):
            self._forget(sender_id)
            await super().save(tracker)
            return
        await self.stream_events(tracker)
        new_events = list(itertools.islice(tracker.events, known.stored_events, None))
        last_event_id, added = known.last_event_id, 0
        kept = _after_deletion(new_events)
        if kept:
            table = self.SQLEvent.__table__
            rows = [self._row(sender_id, event) for event in kept]
            added = sum(len(row["data"]) for row in rows)
            with self.engine.begin() as connection:
                connection.execute(table.insert(), rows)
                # The conversation's lock keeps its other writers out until this turn ends.
                last_event_id = connection.execute(
                    select(func.max(table.c.id)).where(table.c.sender_id == sender_id)
                ).scalar_one()
        if known.stored_events and any(isinstance(event, (SessionStarted, Restarted)) for event in new_events):
            # A new session began, or the conversation restarted (its data deleted, actions/privacy/):
            # the next turn reads only what the database holds now, as Rasa does.
            self._forget(sender_id)
            return
        self._remember(sender_id, _Known(tracker, len(tracker.events), last_event_id, size=known.size + added))

    @staticmethod
    def _row(sender_id: Text, event: Any) -> Dict[Text, Any]:
        """The columns of an event's row, as Rasa's `SQLTrackerStore.save` fills them."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _remember(self, sender_id: Text, known: _Known) -> None:
        """Keep `known` as the most recent; forget the least recent beyond the count or byte bound."""
        self._forget(sender_id)
        self._known[sender_id] = known
        self._bytes += known.size
        while len(self._known) > self.max_cached or (self._bytes > self.max_bytes and self._known):
            self._forget(next(iter(self._known)))

    def _forget(self, sender_id: Text) -> None:
        old = self._known.pop(sender_id, None)
        if old is not None:
            self._bytes -= old.size


def _after_deletion(events: List[Event]) -> List[Event]:
    """The events of a turn to store; of the turn that deleted the customer's data
    (DELETE_MY_DATA_ACTION, then a restart), only what follows the restart: not even the
    "sí" that confirmed it is kept with their number."""
    if not any(isinstance(e, ActionExecuted) and e.action_name == DELETE_MY_DATA_ACTION for e in events):
        return events
    restarts = [i for i, event in enumerate(events) if isinstance(event, Restarted)]
    return events[restarts[-1] + 1 :] if restarts else events


class RefusingTrackerStore(InMemoryTrackerStore):
    """The fail-safe wrapper's fallback that keeps nothing: the turn fails instead."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        raise ConnectionError("the tracker store is unavailable: the turn is not kept in memory instead")

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        raise ConnectionError("the tracker store is unavailable")


def refuse_memory_fallback(store: TrackerStore) -> None:
    """Give Rasa's `FailSafeTrackerStore` (the agent's `tracker_store`) a refusing fallback.

    Rasa builds the wrapper itself, with no setting for its fallback; the channels call this
    before each turn (idempotent), so a model loaded later through the HTTP API is covered too.
    """
    if isinstance(store, FailSafeTrackerStore) and not isinstance(store._fallback_tracker_store, RefusingTrackerStore):
        store._fallback_tracker_store = RefusingTrackerStore(store.domain)
