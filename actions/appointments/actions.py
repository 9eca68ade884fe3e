"""Visits to see a car, the Rasa layer: the form `appointment_form` (car, day, time,
full name), its validation action, and the actions that ask, book, show, cancel
and move an appointment. The rules themselves are in actions/appointments/times.py
(when) and actions/appointments/store.py (storage). The customer's phone is the
conversation id (the WhatsApp sender, `whatsapp:+52...`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.appointments.store import (
    SlotTaken,
    book,
    cancel,
    check_name,
    check_slot,
    clean_name,
    describe,
    find_cars,
    looks_like_name,
    pick,
    to_utc,
    upcoming,
)
from actions.appointments.times import Settings, When, changes_date, check_day, format_day, hhmm, parse_time, parse_when
from actions.db import Car, session_scope
from actions.formatting import NUMBER_EMOJI, car_title, format_price
from actions.forms import leave_form, leave_line, replaced_form, since_opened
from actions.texts import say
from settings import current as current_settings
from understanding.cues import is_list_number, list_position, without_list_pointers
from understanding.text import normalize

FORM = "appointment_form"
# Intents taken as an answer to the form's question even when nothing in them parses
# (the validation then explains and asks again); any other intent is left to the
# rules, e.g. a FAQ, after which the form asks again.
ANSWER_INTENTS = {
    "inform_appointment",
    "book_appointment",
    "reschedule_appointment",
    "give_rating",
    "nlu_fallback",
    "affirm",
    "car_details",
}


def _now_and_settings() -> Tuple[datetime, Settings]:
    settings = Settings.from_env()
    return settings.now(), settings


def _intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _iso_day(value: Any) -> Optional[date]:
    """A slot's 'YYYY-MM-DD' value, or None for anything else (e.g. raw text)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    return None


def _iso_time(value: Any) -> Optional[time]:
    """A slot's 'HH:MM' value, or None."""
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        return time.fromisoformat(value)
    return None


def _slot_time(value: Optional[time]) -> Optional[str]:
    return value.strftime("%H:%M") if value else None


def _first_ask(tracker: Tracker, slot: str) -> bool:
    """True when the form asks for `slot` for the first time since it started."""
    asked = sum(
        event.get("event") == "slot" and event.get("name") == "requested_slot" and event.get("value") == slot
        for event in since_opened(tracker, FORM)
    )
    return asked <= 1


class ValidateAppointmentForm(FormValidationAction):
    """Fills and checks the car, day, time and name of a visit."""

    def name(self) -> Text:
        return "validate_appointment_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """rasa-sdk's run, keeping extracted slots that are not the form's own
        (appointment_reschedule_id), which it would otherwise drop."""
        if not any(event.get("event") == "user" for event in since_opened(tracker, FORM)):
            leave_line(dispatcher, replaced_form(tracker, FORM))  # opened while financing: that form is left
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        events = await self._extract_validation_events(dispatcher, tracker, domain)
        own = set(self.domain_slots(domain)) | {e["name"] for e in events}
        return events + [e for e in extracted if e["name"] not in own]

    # Extraction takes a message only when it answers; anything else is left to the
    # form's rejection, so interruption rules (a FAQ, "cancelar") can answer it and
    # the form asks its question again afterwards.

    async def extract_car_in_focus(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        intent = _intent(tracker)
        requested = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        if requested is None and (
            intent == "reschedule_appointment"
            or (intent == "inform_appointment" and parse_when(text, _now_and_settings()[0]) != When())
        ):
            # "cambia mi cita" or, after booking, just "mejor el viernes a las 10"
            moved = self._start_reschedule(dispatcher, tracker, explicit=intent != "inform_appointment")
            if moved:
                return moved
        if requested not in ("car_in_focus", None):
            return {}
        page = tracker.get_slot("search_page") or []
        if requested is None and list_position(text, len(page)):
            # "quiero agendar para ver el 2", "el 1 el lunes": that car of the list; but in
            # "agendar el 2" the number is the day.
            now = _now_and_settings()[0]
            rest = without_list_pointers(normalize(text))
            if parse_when(text, now).day == parse_when(rest, now).day:
                return {"car_in_focus": text}
        with session_scope() as session:
            named = bool(find_cars(session, text))
        if named:
            return {"car_in_focus": text}
        if requested == "car_in_focus" and intent in ANSWER_INTENTS:
            only_when = parse_when(text, _now_and_settings()[0]) != When() and not list_position(text, len(page))
            return {} if only_when else {"car_in_focus": text}  # "a las 10": the hour (extract_appointment_time)
        return {}

    def _start_reschedule(self, dispatcher: CollectingDispatcher, tracker: Tracker, explicit: bool) -> Dict[Text, Any]:
        """Prefill the form from the customer's next visit, which the booking will replace."""
        now, settings = _now_and_settings()
        with session_scope() as session:
            target = pick(
                session,
                upcoming(session, tracker.sender_id, now),
                tracker.latest_message.get("text") or "",
            )
            if target is None:
                if explicit:
                    dispatcher.utter_message(response="utter_no_visit_to_move")
                return {}
            dispatcher.utter_message(response="utter_move_visit", details=describe(session, target, settings))
            moved = {
                "appointment_reschedule_id": float(target.id),
                "car_in_focus": target.stock_id,
                "customer_name": target.customer_name,
            }
            when = parse_when(tracker.latest_message.get("text") or "", now)
            if when.at and when.day is None:  # "cámbiala pa las 12": the same day, another hour
                moved["appointment_date"] = to_utc(target.scheduled_at).astimezone(settings.tz).date().isoformat()
            return moved

    async def extract_appointment_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        requested = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        if requested == "car_in_focus" and is_list_number(text):
            return {}  # "el 2" says which car of the list, not the 2nd of the month
        when = parse_when(text, _now_and_settings()[0], requested)
        if requested == "customer_name":
            return {"appointment_date": text} if changes_date(text, when) else {}
        if when.day is not None:
            return {"appointment_date": text}
        if requested == "appointment_date" and (when.at or _intent(tracker) in ANSWER_INTENTS):
            return {"appointment_date": text}
        return {}

    async def extract_appointment_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        requested = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        when = parse_when(text, _now_and_settings()[0], requested)
        if when.day is not None:
            return {}  # the date's extraction takes the time with it
        if requested == "appointment_time" and (when.at or _intent(tracker) in ANSWER_INTENTS):
            return {"appointment_time": text}
        if requested in (None, "car_in_focus", "customer_name") and when.at and not is_list_number(text):
            return {"appointment_time": text}  # "a las 11" at the start or asked the car, "mejor a las 12" later
        return {}

    async def extract_customer_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "customer_name":
            return {}
        text = tracker.latest_message.get("text") or ""
        when = parse_when(text, _now_and_settings()[0], "customer_name")
        if changes_date(text, when) or (when.at and when.day is None):
            return {}  # a correction of the day or time, taken by their extraction
        if looks_like_name(text) or _intent(tracker) in ANSWER_INTENTS:
            return {"customer_name": text}
        return {}

    # ---- validation

    def validate_car_in_focus(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "")
        page = tracker.get_slot("search_page") or []
        position = list_position(text, len(page))  # "la primera", "el 2": a car of the list just shown
        with session_scope() as session:
            car = session.get(Car, page[position - 1] if position else text.strip())
            if car is not None and car.available:
                return {"car_in_focus": car.stock_id}
            if car is not None:
                dispatcher.utter_message(response="utter_car_sold", car=car_title(car))
                return {"car_in_focus": None}
            matches = find_cars(session, text)
            if len(matches) == 1:
                return {"car_in_focus": matches[0].stock_id}
            if matches:
                lines = [
                    f"{number} 🚗 {car_title(c)} {c.version} · {format_price(c.price)} · stockId {c.stock_id}"
                    for number, c in zip(NUMBER_EMOJI, matches)
                ]
                dispatcher.utter_message(response="utter_several_cars", cars="\n".join(lines))
                # The list just shown: "el 2" is its second car.
                return {"car_in_focus": None, "search_page": [c.stock_id for c in matches]}
        dispatcher.utter_message(response="utter_car_not_found")
        return {"car_in_focus": None}

    def validate_appointment_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {}
        now, settings = _now_and_settings()
        current_time = _iso_time(tracker.get_slot("appointment_time"))
        if _iso_day(value):
            when = When(day=_iso_day(value), at=current_time)
        else:
            when = parse_when(str(value or ""), now, tracker.get_slot("requested_slot"))
        at = when.at or current_time
        if when.day is None:
            if when.at is None:
                dispatcher.utter_message(response="utter_day_not_understood")
            return {"appointment_date": None, "appointment_time": _slot_time(at)}
        return self._check(dispatcher, tracker, when.day, at, now, settings)

    def validate_appointment_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {}  # emptied by the day's validation, which already explained why
        now, settings = _now_and_settings()
        at = _iso_time(value) or parse_time(str(value), bare_hour=True)[0]
        if at is None:
            dispatcher.utter_message(response="utter_time_not_understood")
            return {"appointment_time": None}
        day = _iso_day(tracker.get_slot("appointment_date"))
        if day is None:
            return {"appointment_time": _slot_time(at)}
        return self._check(dispatcher, tracker, day, at, now, settings)

    def _check(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        day: date,
        at: Optional[time],
        now: datetime,
        settings: Settings,
    ) -> Dict[Text, Any]:
        """Day rules, then time rules and double booking: the failing part is re-asked."""
        problem = check_day(day, now, settings)
        if problem:
            dispatcher.utter_message(text=problem)
            return {"appointment_date": None, "appointment_time": _slot_time(at)}
        if at is not None:
            reschedule = tracker.get_slot("appointment_reschedule_id")
            with session_scope() as session:
                problem = check_slot(
                    session,
                    tracker.get_slot("car_in_focus"),
                    day,
                    at,
                    now,
                    settings,
                    exclude_id=int(reschedule) if reschedule else None,
                )
            if problem:
                dispatcher.utter_message(text=problem)
                return {"appointment_date": day.isoformat(), "appointment_time": None}
        return {"appointment_date": day.isoformat(), "appointment_time": _slot_time(at)}

    def validate_customer_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        name = clean_name(str(value or ""))
        problem = check_name(name)
        if problem:
            dispatcher.utter_message(text=problem)
            return {"customer_name": None}
        return {"customer_name": name}


class ActionAskCar(Action):
    """Which car, when none is in focus."""

    def name(self) -> Text:
        return "action_ask_appointment_form_car_in_focus"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if len(tracker.get_slot("search_page") or []) > 1:  # a list was just shown
            dispatcher.utter_message(response="utter_ask_car_from_list")
        elif _first_ask(tracker, "car_in_focus"):
            dispatcher.utter_message(response="utter_ask_car_first")
        else:
            dispatcher.utter_message(response="utter_ask_car_again")
        return []


class ActionAskCustomerName(Action):
    """The original's words for the name; the first time, with the privacy notice (the first
    personal data the assistant asks for)."""

    def name(self) -> Text:
        return "action_ask_customer_name"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("privacy_notice_shown"):
            dispatcher.utter_message(response="utter_ask_name")
            return []
        dispatcher.utter_message(response="utter_ask_name_with_notice", url=current_settings().privacy_notice_url)
        return [SlotSet("privacy_notice_shown", True)]


class ActionAskAppointmentDate(Action):
    """First ask lists everything still needed, as in the original; re-asks are short."""

    def name(self) -> Text:
        return "action_ask_appointment_date"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        settings = Settings.from_env()
        question = f"¿Qué día te gustaría visitarnos? ({settings.summary()})"
        if tracker.get_slot("appointment_reschedule_id"):
            question = f"¿Para qué día la cambiamos? ({settings.summary()})"
        if tracker.get_slot("appointment_reschedule_id") or not _first_ask(tracker, "appointment_date"):
            dispatcher.utter_message(text=question)
            return []
        with session_scope() as session:
            car = session.get(Car, tracker.get_slot("car_in_focus") or "")
            label = f" para ver el *{car_title(car)}*" if car else ""
        steps = [question]
        if not tracker.get_slot("appointment_time"):
            steps.append("¿A qué hora te acomoda?")
        if not tracker.get_slot("customer_name"):
            steps.append("¿Cuál es tu nombre completo?")
        dispatcher.utter_message(
            text=f"Perfecto, para agendar tu cita{label} necesito algunos datos:\n\n"
            + "\n".join(f"{number} {step}" for number, step in zip(NUMBER_EMOJI, steps))
        )
        return []


class ActionAskAppointmentTime(Action):
    """Asks the time with that day's opening hours."""

    def name(self) -> Text:
        return "action_ask_appointment_time"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        settings = Settings.from_env()
        day = _iso_day(tracker.get_slot("appointment_date"))
        if day is None or day.weekday() not in settings.hours:
            dispatcher.utter_message(response="utter_which_time")
            return []
        opens, closes = settings.hours[day.weekday()]
        dispatcher.utter_message(
            response="utter_ask_time_of_day",
            day=format_day(day, settings.now().date()),
            opens=hhmm(opens),
            closes=hhmm(closes),
        )
        return []


_RESET = ["appointment_date", "appointment_time", "appointment_reschedule_id"]


class ActionBookAppointment(Action):
    """Stores the visit (or moves the old one) and confirms it."""

    def name(self) -> Text:
        return "action_book_appointment"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        now, settings = _now_and_settings()
        reset = [SlotSet(slot, None) for slot in _RESET]
        day = _iso_day(tracker.get_slot("appointment_date"))
        at = _iso_time(tracker.get_slot("appointment_time"))
        stock_id = tracker.get_slot("car_in_focus")
        name = tracker.get_slot("customer_name")
        if not (day and at and stock_id and name):
            dispatcher.utter_message(response="utter_visit_incomplete")
            return reset
        reschedule = tracker.get_slot("appointment_reschedule_id")
        with session_scope() as session:  # the form checked these; a forged call did not
            problem = check_day(day, now, settings) or check_slot(
                session, stock_id, day, at, now, settings, exclude_id=int(reschedule) if reschedule else None
            )
            car = session.get(Car, str(stock_id))
            if car is None or not car.available:
                problem = say("utter_appointment_car_sold")
        if problem:
            dispatcher.utter_message(response="utter_visit_not_booked", problem=problem)
            return reset
        try:
            with session_scope() as session:
                appointment = book(
                    session,
                    tracker.sender_id,
                    name,
                    stock_id,
                    datetime.combine(day, at, settings.tz),
                    replaces=int(reschedule) if reschedule else None,
                )
                details = describe(session, appointment, settings)
        except SlotTaken:
            dispatcher.utter_message(response="utter_appointment_slot_just_taken")
            return reset
        dispatcher.utter_message(
            response="utter_appointment_moved" if reschedule else "utter_appointment_booked", details=details
        )
        return reset


class ActionStopAppointmentForm(Action):
    """The customer gave up booking: forget the half-filled day and time."""

    def name(self) -> Text:
        return "action_stop_appointment_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        kept = tracker.get_slot("appointment_reschedule_id")
        dispatcher.utter_message(response="utter_appointment_kept" if kept else "utter_appointment_not_booked")
        return [SlotSet(slot, None) for slot in _RESET] + [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionShowAppointments(Action):
    """'¿Cuándo es mi cita?'"""

    def name(self) -> Text:
        return "action_show_appointments"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        now, settings = _now_and_settings()
        with session_scope() as session:
            found = upcoming(session, tracker.sender_id, now)
            if not found:
                dispatcher.utter_message(response="utter_no_visits")
                return []
            blocks = "\n\n".join(describe(session, a, settings) for a in found)
        dispatcher.utter_message(response="utter_your_visit" if len(found) == 1 else "utter_your_visits", visits=blocks)
        return []


class ActionConfirmCancelAppointment(Action):
    """Asks before cancelling (the soonest visit, or the one whose car is named)."""

    def name(self) -> Text:
        return "action_confirm_cancel_appointment"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        left = leave_form(tracker, dispatcher)  # cancelling a visit while financing leaves the form
        now, settings = _now_and_settings()
        with session_scope() as session:
            target = pick(session, upcoming(session, tracker.sender_id, now), tracker.latest_message.get("text") or "")
            if target is None:
                dispatcher.utter_message(response="utter_no_visit_to_cancel")
                return left + [SlotSet("appointment_to_cancel", None)]
            details = describe(session, target, settings)
        dispatcher.utter_message(response="utter_confirm_cancel", details=details)
        return left + [SlotSet("appointment_to_cancel", float(target.id))]


class ActionCancelAppointment(Action):
    """The answer to the cancel confirmation: yes cancels, no keeps the visit."""

    def name(self) -> Text:
        return "action_cancel_appointment"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        target = tracker.get_slot("appointment_to_cancel")
        if not target:
            dispatcher.utter_message(response="utter_anything_else")
        elif _intent(tracker) != "affirm":
            dispatcher.utter_message(response="utter_visit_kept")
        else:
            with session_scope() as session:
                cancelled = cancel(session, int(target), tracker.sender_id)
            dispatcher.utter_message(response="utter_visit_cancelled" if cancelled else "utter_visit_not_active")
        return [SlotSet("appointment_to_cancel", None)]
