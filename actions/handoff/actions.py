"""A person when the customer asks: the request is recorded and the customer told who answers and when.

"quiero hablar con un asesor", "pásame con alguien", "un humano por favor" (intent
`human_handoff`, also recognised by `understanding.routing` whatever the classifier
said) leave any form and open a handoff in the `handoffs` table, which
`make report` counts. Inside the opening hours (APPOINTMENT_HOURS, the same as
visits) an adviser writes "en unos minutos"; outside them, from the next opening.
"""

from __future__ import annotations

from datetime import datetime
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.appointments.times import Settings, format_day, hhmm
from actions.db import Handoff, session_scope
from actions.forms import leave_form

OPEN = "open"


def open_handoff(session: Session, sender_id: str, reason: str) -> Handoff:
    """The sender's open handoff, or a new one: asking twice opens one."""
    current = session.scalars(
        select(Handoff).where(Handoff.sender_id == sender_id, Handoff.status == OPEN).limit(1)
    ).first()
    if current is not None:
        return current
    handoff = Handoff(sender_id=sender_id, reason=reason, status=OPEN)
    session.add(handoff)
    session.flush()
    return handoff


def when_answered(now: datetime, settings: Settings) -> str:
    """'en unos minutos' inside the opening hours, else 'el lunes 7 de diciembre a partir de las 9:00'."""
    if settings.is_open(now):
        return "en unos minutos"
    opening: Optional[datetime] = settings.next_opening(now)
    if opening is None:
        return "en cuanto abramos"
    today = now.astimezone(settings.tz).date()
    days = (opening.date() - today).days
    day = "hoy" if days == 0 else "mañana" if days == 1 else f"el {format_day(opening.date(), today)}"
    return f"{day} a partir de las {hhmm(opening.time())}"


class ActionHandoff(Action):
    """Record the request for a person and tell the customer who answers and when."""

    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = leave_form(tracker, dispatcher)
        settings = Settings.from_env()
        now = settings.now()
        with session_scope() as session:
            open_handoff(session, tracker.sender_id, "asked")
        dispatcher.utter_message(response="utter_handoff", when=when_answered(now, settings), hours=settings.summary())
        return events
