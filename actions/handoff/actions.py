"""A person when the customer asks: the Rasa layer of actions/handoff/handoffs.py.

"quiero hablar con un asesor", "pásame con alguien", "un humano por favor" (intent
`human_handoff`, also recognised by `understanding.routing` whatever the classifier
said), or a "sí" to the assistant's own offer (after two messages it did not
understand, or a complaint: data/rules/core.yml) leave any form and open a handoff.
Staff are notified with a summary; the customer is told who answers and when:
inside the opening hours (APPOINTMENT_HOURS, the same as visits) "en unos
minutos", outside them from the next opening.
"""

from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.appointments.store import to_utc, upcoming
from actions.appointments.times import Settings, format_day, hhmm
from actions.db import Car, session_scope
from actions.financing.plan import format_number, make_plan
from actions.formatting import car_title
from actions.forms import leave_form
from actions.handoff.handoffs import Summary, last_messages, notify_in_background, open_handoff, when_answered
from actions.search.filters import describe_filters


def _plan(tracker: Tracker) -> Optional[str]:
    price, down, term = (tracker.get_slot(s) for s in ("financing_price", "financing_down_payment", "financing_term"))
    if not (price and term and down is not None):
        return None
    plan = make_plan(price, down, int(term))
    down, monthly = format_number(plan.down_payment), format_number(plan.monthly_payment)
    return f"${down} de enganche, {plan.months} meses de ${monthly}"


def summarise(tracker: Tracker, reason: str, settings: Settings) -> Summary:
    """The handoff's summary from the conversation and the database."""
    summary = Summary(
        sender_id=tracker.sender_id,
        reason=reason,
        name=tracker.get_slot("customer_name"),
        search=describe_filters(tracker.get_slot("search_filters") or {}) or None,
        plan=_plan(tracker),
        last_messages=last_messages(tracker.events),
    )
    with session_scope() as session:
        car = session.get(Car, str(tracker.get_slot("car_in_focus") or ""))
        summary.car = f"{car_title(car)} (stock {car.stock_id})" if car else None
        visits = upcoming(session, tracker.sender_id, settings.now())
        if visits:
            visit = visits[0]
            local = to_utc(visit.scheduled_at).astimezone(settings.tz)
            seen = session.get(Car, visit.stock_id)
            summary.name = summary.name or visit.customer_name
            summary.visit = (
                f"{format_day(local.date(), settings.now().date())} {hhmm(local.time())}, "
                f"{car_title(seen) if seen else visit.stock_id}"
            )
    return summary


class ActionHandoff(Action):
    """Open the handoff, notify staff, and tell the customer who answers and when."""

    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = leave_form(tracker, dispatcher)
        settings = Settings.from_env()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        summary = summarise(tracker, "asked" if intent == "human_handoff" else "offered", settings)
        with session_scope() as session:
            handoff, new = open_handoff(session, summary)
            handoff_id = handoff.id
        if new:
            notify_in_background(handoff_id, summary)
        dispatcher.utter_message(
            response="utter_handoff", when=when_answered(settings.now(), settings), hours=settings.summary()
        )
        return events


class ActionOfferHandoff(Action):
    """After a complaint or two misunderstood messages: apologise and offer a person (a "sí"
    then hands off: data/rules/core.yml). Leaves any form, so the "sí" is not taken as its answer."""

    def name(self) -> Text:
        return "action_offer_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = leave_form(tracker, dispatcher)
        dispatcher.utter_message(response="utter_handoff_offer")
        return events
