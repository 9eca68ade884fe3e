"""What every form shares: its own stretch of the conversation, and leaving it for another capability.

A form never traps the customer. When a message asks for something else, the form's
validation takes nothing from it (the form is rejected) and the rules serve it:
- a question (a FAQ, a car's feature, the visit booked) is answered and the form asks again;
- a switch (a search, a person, thanks, another form) leaves the form with one short
  line from the domain (`utter_leave_<form>`) and is served. What was already given
  stays in the slots, so the next form carries it over (financing -> booking: the car).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Slots of a form that mean nothing once it is left (a half-given day or time).
HALF_DONE = {
    "appointment_form": ("appointment_date", "appointment_time", "appointment_reschedule_id"),
    "feedback_form": ("msat_score",),
}


def since_opened(tracker: Tracker, form: str) -> List[Dict[str, Any]]:
    """The events after `form` last opened (its latest `active_loop` event); all of them if it never did."""
    events = tracker.events
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "active_loop" and events[index].get("name") == form:
            return events[index + 1 :]
    return list(events)


def replaced_form(tracker: Tracker, form: str) -> Optional[str]:
    """The form that was active when `form` opened, if it opened in the middle of another one
    (the customer asked to book a visit while financing): that form was left."""
    loops = [event.get("name") for event in tracker.events if event.get("event") == "active_loop"]
    for index in range(len(loops) - 1, 0, -1):
        if loops[index] == form:
            previous = loops[index - 1]
            return previous if previous not in (None, form) else None
    return None


def leave_line(dispatcher: CollectingDispatcher, form: Optional[str]) -> None:
    """Say that the form was left ("Dejo el financiamiento aquí; cuando quieras lo retomamos")."""
    if form in ("financing_form", "appointment_form"):
        dispatcher.utter_message(response=f"utter_leave_{form}")


def leave_form(tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType]:
    """Leave the active form, if any, saying so; the events that close it."""
    form = (tracker.active_loop or {}).get("name")
    if not form:
        return []
    leave_line(dispatcher, form)
    return [ActiveLoop(None), SlotSet("requested_slot", None)] + [
        SlotSet(slot, None) for slot in HALF_DONE.get(form, ())
    ]


class ActionLeaveForm(Action):
    """Leave the active form with its line (rules: thanks, "ya no", "olvídalo" while a form asks)."""

    def name(self) -> Text:
        return "action_leave_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return leave_form(tracker, dispatcher)
