"""The form validation actions, run directly on trackers built in memory (no servers).

Each test is one customer message inside a form: what the action answers and which
slots it sets. The slower conversation tests (test_*_conversation.py) drive the
same forms through the real Rasa server.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.appointments.actions import ValidateAppointmentForm
from actions.appointments.store import book, cancel
from actions.appointments.times import MONTHS, Settings
from actions.db import Car, session_scope
from actions.feedback.actions import ValidateFeedbackForm
from actions.financing.forms import ValidateFinancingForm
from actions.texts import say
from tests.servers import ROOT


def _domain() -> Dict[str, Any]:
    """domain/*.yml merged, as Rasa sends it to the action server."""
    merged: Dict[str, Any] = {"forms": {}, "slots": {}, "responses": {}}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text())
        for key in merged:
            merged[key].update(part.get(key) or {})
    return merged


DOMAIN = _domain()


def validate(
    action,
    form: str,
    text: str,
    intent: str,
    slots: Optional[Dict[str, Any]] = None,
    events: Tuple[Dict[str, Any], ...] = (),
) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """Run `action` on `text` said inside `form`; return (messages, slots it sets)."""
    message = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": []}
    tracker = Tracker.from_dict(
        {
            "sender_id": "forms-test",
            "slots": {"requested_slot": None, **(slots or {})},
            "latest_message": message,
            "events": [
                {"event": "active_loop", "name": form},
                *events,
                {"event": "user", "text": text, "parse_data": message},
            ],
            "active_loop": {"name": form},
            "latest_action_name": "action_listen",
        }
    )
    dispatcher = CollectingDispatcher()
    result = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, {e["name"]: e["value"] for e in result if e.get("event") == "slot"}


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    """What the customer reads: the text, or the response filled with its variables."""
    return [m["text"] or say(m["response"], **{k: v for k, v in m.items() if k not in _FIELDS}) for m in messages]


_FIELDS = {"text", "response", "buttons", "elements", "custom", "template", "image", "attachment", "json_message"}


@pytest.fixture
def in_database(database_url, monkeypatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


# --- financing ------------------------------------------------------------------


def test_financing_takes_a_down_payment_in_words_for_the_price_given():
    asked = {"requested_slot": "financing_down_payment", "financing_price": 300000.0}
    _, slots = validate(ValidateFinancingForm(), "financing_form", "con 50 mil", "inform_financing", asked)
    assert slots["financing_down_payment"] == 50000.0


def test_financing_refuses_a_down_payment_below_the_minimum_and_asks_again(monkeypatch):
    monkeypatch.delenv("FINANCING_MIN_DOWN_PCT", raising=False)
    asked = {"requested_slot": "financing_down_payment", "financing_price": 300000.0}
    messages, slots = validate(ValidateFinancingForm(), "financing_form", "10 mil", "inform_financing", asked)
    assert slots["financing_down_payment"] is None
    assert texts(messages)[0] == "El enganche mínimo es 10% del precio: $30,000 para un auto de $300,000."


def test_financing_refuses_a_term_outside_36_to_72_months():
    asked = {"requested_slot": "financing_down_payment", "financing_price": 300000.0}
    messages, slots = validate(
        ValidateFinancingForm(), "financing_form", "con 60 mil a 100 meses", "inform_financing", asked
    )
    assert slots["financing_down_payment"] == 60000.0 and slots["financing_term"] is None
    assert "de 36 a 72 meses" in texts(messages)[0] and "100 meses no es posible" in texts(messages)[0]


def test_financing_takes_nothing_from_a_message_about_something_else():
    asked = {"requested_slot": "financing_down_payment", "financing_price": 300000.0}
    _, slots = validate(ValidateFinancingForm(), "financing_form", "tienen garantia?", "faq_warranty", asked)
    assert slots.get("financing_down_payment") is None and slots.get("financing_term") is None


# --- appointments ------------------------------------------------------------------


def _car(url: str) -> Car:
    with session_scope(url) as session:
        return session.query(Car).filter(Car.available).order_by(Car.stock_id).first()


def _next_open_day(settings: Settings) -> datetime:
    day = settings.now() + timedelta(days=1)
    while day.weekday() not in settings.hours:
        day += timedelta(days=1)
    return day


def test_the_appointment_form_refuses_a_closed_day_with_the_opening_hours(in_database):
    car = _car(in_database)
    settings = Settings.from_env()
    sunday = settings.now() + timedelta(days=(6 - settings.now().weekday()) % 7 or 7)
    asked = {"requested_slot": "appointment_date", "car_in_focus": car.stock_id}
    spoken = f"el {sunday.day} de {MONTHS[sunday.month - 1]}"
    messages, slots = validate(ValidateAppointmentForm(), "appointment_form", spoken, "inform_appointment", asked)
    assert slots.get("appointment_date") is None
    assert texts(messages)[0].startswith("Los domingos no abrimos 😕 Nuestro horario es L-V 9:00-18:00, S 9:00-14:00")


def test_the_appointment_form_takes_a_day_and_hour_in_one_message(in_database):
    car = _car(in_database)
    day = _next_open_day(Settings.from_env())
    asked = {"requested_slot": "appointment_date", "car_in_focus": car.stock_id}
    text = f"el {day.day}/{day.month} a las 11"
    messages, slots = validate(ValidateAppointmentForm(), "appointment_form", text, "inform_appointment", asked)
    assert slots["appointment_date"] == day.date().isoformat() and slots["appointment_time"] == "11:00"
    assert messages == []


def test_the_appointment_form_asks_again_for_a_full_name(in_database):
    asked = {"requested_slot": "customer_name", "car_in_focus": _car(in_database).stock_id}
    messages, slots = validate(ValidateAppointmentForm(), "appointment_form", "pedro", "inform_appointment", asked)
    assert slots["customer_name"] is None and texts(messages) == [say("utter_appointment_full_name")]
    _, slots = validate(ValidateAppointmentForm(), "appointment_form", "Pedro Ramírez", "inform_appointment", asked)
    assert slots["customer_name"] == "Pedro Ramírez"


def test_moving_a_visit_to_another_hour_keeps_its_day(in_database):
    car, settings = _car(in_database), Settings.from_env()
    day = _next_open_day(settings)
    with session_scope(in_database) as session:
        booked = book(session, "forms-test", "Andrea López", car.stock_id, day.replace(hour=10, minute=30, second=0))
        booked_id = booked.id
    try:
        messages, slots = validate(
            ValidateAppointmentForm(), "appointment_form", "cambiala pa las 12", "reschedule_appointment"
        )
        assert slots["appointment_reschedule_id"] == booked_id
        assert slots["appointment_date"] == day.date().isoformat() and slots["appointment_time"] == "12:00"
        assert texts(messages)[0].startswith("Va, cambiemos tu cita")
    finally:
        with session_scope(in_database) as session:
            cancel(session, booked_id, "forms-test")


# --- MSAT ------------------------------------------------------------------


def test_the_survey_reads_a_score_in_words_and_refuses_one_out_of_the_scale(in_database):
    asked = {"requested_slot": "msat_score"}
    _, slots = validate(ValidateFeedbackForm(), "feedback_form", "cinco estrellas", "give_rating", asked)
    assert slots["msat_score"] == 5
    messages, slots = validate(ValidateFeedbackForm(), "feedback_form", "un 7", "give_rating", asked)
    assert slots["msat_score"] is None and texts(messages)[0] == say("utter_msat_invalid")


def test_the_survey_ends_without_a_score_when_the_customer_declines(in_database):
    _, slots = validate(ValidateFeedbackForm(), "feedback_form", "no gracias", "deny", {"requested_slot": "msat_score"})
    assert slots["msat_score"] is None and slots["requested_slot"] is None
