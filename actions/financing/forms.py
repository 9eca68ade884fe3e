"""Rasa layer of financing: the form's extraction and validation, and the plan replies.

The business rules live in `actions.financing`; this module only moves values
between the tracker's slots and those functions.

Slots (domain/financing.yml): `financing_price` and `financing_down_payment` (pesos)
are asked by `financing_form`; `financing_down_pct` (when the down payment was given
as a percent, so a new price rescales it), `financing_term` (months; empty = show
36/48/60/72) and `financing_rate` (annual percent; empty = FINANCING_ANNUAL_RATE)
are picked up from any message, and asked only after a refusal.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.appointments.store import upcoming
from actions.catalog.index import catalog
from actions.db import Car, session_scope
from actions.financing import plan as financing
from actions.formatting import car_title, format_price, split_message
from actions.forms import leave_line, replaced_form, since_opened
from actions.search.references import resolve_cars
from understanding.cues import list_position

PRICE = "financing_price"
DOWN = "financing_down_payment"
DOWN_PCT = "financing_down_pct"
TERM = "financing_term"
RATE = "financing_rate"
FORM = "financing_form"
ASKED = (PRICE, DOWN)  # the form asks for these until they are valid
_EXPECTING = {PRICE: financing.PRICE, DOWN: financing.DOWN, TERM: financing.TERM, RATE: financing.RATE}
FINANCING_INTENTS = {"ask_financing", "inform_financing"}


def _car(tracker: Tracker) -> Optional[Car]:
    """The car in focus (slot `car_in_focus`, a stockId), if it is in the catalog."""
    stock_id = tracker.get_slot("car_in_focus")
    if not stock_id:
        return None
    with session_scope() as session:
        return session.get(Car, str(stock_id))


def _pct_of(price: float, pct: float) -> float:
    return float(financing.to_pesos(price * pct / 100))


def _fresh_message(tracker: Tracker) -> bool:
    """True when the latest user message was not answered yet by another action.

    After an interruption (an FAQ answered mid-form) the form runs again on the
    same message: it must not read that message as financing data.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return False
        if event.get("event") == "user":
            return True
    return False


def _intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _opened_now(tracker: Tracker) -> bool:
    """True on the form's first run, for the message that opened it."""
    return not any(event.get("event") == "user" for event in since_opened(tracker, FORM))


def _fresh_start(tracker: Tracker) -> Dict[Text, Any]:
    """The slots a new financing request ("¿cuánto sería la mensualidad?") clears as it opens the form.

    Changes (intent `inform_financing`) and messages to the open form keep what was agreed.
    """
    if _intent(tracker) != "ask_financing" or not _opened_now(tracker):
        return {}
    cleared: Dict[Text, Any] = {TERM: None, RATE: None, REQUESTED_SLOT: None}
    if tracker.get_slot("car_in_focus"):
        cleared[PRICE] = None  # extract_financing_price then takes the car's price
    return cleared


# One form run reads the same message once per slot: parse it once.
_parse_message = lru_cache(maxsize=256)(financing.parse_message)


def _answers(tracker: Tracker) -> bool:
    """Whether the latest message is about the financing: a financing intent, or just values
    ("100 mil", "20%"). Anything else ("me gustaría verlo el sábado a las 11", "gracias")
    is left to the rules: the form takes nothing from it."""
    text = tracker.latest_message.get("text") or ""
    return _intent(tracker) in FINANCING_INTENTS or financing.is_bare_value(text)


def _parsed(tracker: Tracker) -> financing.FinancingInput:
    if not _fresh_message(tracker) or not _answers(tracker):
        return financing.FinancingInput()
    expecting = _EXPECTING.get(tracker.get_slot(REQUESTED_SLOT))
    if expecting is None and tracker.get_slot("car_in_focus"):
        expecting = financing.DOWN  # the car gives the price: "¿y dando 80 mil?" is the down payment
    return _parse_message(tracker.latest_message.get("text") or "", expecting)


def _pointed_car(tracker: Tracker) -> Optional[str]:
    """The stockId of a car the message points at or names ("¿y el 2?", "la mensualidad del Jetta"),
    when it differs from the car in focus: the financing is then for that car."""
    text = tracker.latest_message.get("text") or ""
    if not _fresh_message(tracker) or not (_intent(tracker) in FINANCING_INTENTS or list_position(text, 5)):
        return None
    try:
        index = catalog()
    except Exception:  # no catalog at hand: the financing goes on with the car it had
        return None
    reference = resolve_cars(
        text,
        index,
        tracker.get_slot("search_page") or [],
        tracker.get_slot("search_shown") or [],
        tracker.get_slot("car_in_focus"),
    )
    if not reference.explicit or not reference.cars:
        return None
    car, focus = reference.cars[0], _car(tracker)
    if focus is None or car.stock_id == focus.stock_id:
        return car.stock_id if focus is None else None
    if not list_position(text, 5) and (car.make, car.model) == (focus.make, focus.model):
        return None  # "la mensualidad del Versa" with a Versa in focus: that one
    return car.stock_id


class ValidateFinancingForm(FormValidationAction):
    """Extracts price, down payment, term and rate from any message and validates them."""

    def name(self) -> Text:
        return "validate_financing_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """A new request opens the form afresh: term and rate back to their defaults, the
        price of the car in focus, no question left waiting; then the usual validation.
        """
        if _opened_now(tracker):
            leave_line(dispatcher, replaced_form(tracker, FORM))  # opened while booking: that form is left
        fresh = _fresh_start(tracker)
        pointed = _pointed_car(tracker)
        if pointed:  # the financing is now for that car, at its price
            fresh.update({"car_in_focus": pointed, PRICE: None})
        tracker.slots.update(fresh)
        events = await super().run(dispatcher, tracker, domain)
        return [SlotSet(slot, value) for slot, value in fresh.items()] + events

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return list(domain_slots) + [s for s in (DOWN_PCT, TERM, RATE) if s not in domain_slots]

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[EventType]:
        """Ask for price, then down payment; then for a term or rate that was refused."""
        next_slot = _next_slot(tracker)
        if next_slot:
            _acknowledge(dispatcher, tracker)
        return SlotSet(REQUESTED_SLOT, next_slot)

    # -- extraction: every value the message states, whatever was asked

    def extract_financing_price(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        price = _parsed(tracker).price
        if price is None and tracker.get_slot(PRICE) is None:
            car = _car(tracker)
            price = float(car.price) if car else None
        return {} if price is None else {PRICE: price}

    def extract_financing_down_payment(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        down = _parsed(tracker).down_payment
        return {} if down is None else {DOWN: down, DOWN_PCT: None}

    def extract_financing_down_pct(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        pct = _parsed(tracker).down_pct
        return {} if pct is None else {DOWN_PCT: pct}

    def extract_financing_term(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        term = _parsed(tracker).term
        return {} if term is None else {TERM: term}

    def extract_financing_rate(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        rate = _parsed(tracker).rate
        return {} if rate is None else {RATE: rate}

    # -- validation: refuse with the reason (the form then asks again)

    def validate_financing_price(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        error = financing.check_price(value)
        if error:
            dispatcher.utter_message(text=error)
            return {PRICE: None}
        result: Dict[Text, Any] = {PRICE: float(value)}
        if DOWN not in tracker.slots_to_validate():
            # keep the down payment already agreed consistent with the new price
            pct, down = tracker.get_slot(DOWN_PCT), tracker.get_slot(DOWN)
            if pct is not None:
                result[DOWN] = _pct_of(value, pct)
            elif down is not None:
                error = financing.check_down_payment(down, value)
                if error:
                    dispatcher.utter_message(text=error)
                    result[DOWN] = None
        return result

    def validate_financing_down_payment(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        pct, price = tracker.get_slot(DOWN_PCT), tracker.get_slot(PRICE)
        if pct is not None:
            if DOWN_PCT in tracker.slots_to_validate():
                return {}  # the percent given now decides; validated next
            if price is not None:
                value = _pct_of(price, pct)
        error = financing.check_down_payment(value, price)
        if error:
            dispatcher.utter_message(text=error)
            return {DOWN: None, DOWN_PCT: None}
        return {DOWN: float(value)}

    def validate_financing_down_pct(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        if value is None:
            return {DOWN_PCT: None}
        price = tracker.get_slot(PRICE)
        error = financing.check_down_pct(value, price)
        if error:
            dispatcher.utter_message(text=error)
            return {DOWN_PCT: None, DOWN: None}
        return {DOWN_PCT: float(value), DOWN: _pct_of(price, value) if price is not None else None}

    def validate_financing_term(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        error = financing.check_term(value)
        if error:
            dispatcher.utter_message(text=error)
            return {TERM: None}
        return {TERM: float(value)}

    def validate_financing_rate(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        error = financing.check_rate(value)
        if error:
            dispatcher.utter_message(text=error)
            return {RATE: None}
        return {RATE: float(value)}


def _next_slot(tracker: Tracker) -> Optional[Text]:
    for slot in ASKED:
        if tracker.slots.get(slot) is None:
            return slot
    given = _parsed(tracker)
    for slot, value in ((TERM, given.term), (RATE, given.rate)):
        refused_now = value is not None and tracker.slots.get(slot) is None
        still_waiting = tracker.slots.get(REQUESTED_SLOT) == slot and tracker.slots.get(slot) is None
        if refused_now or still_waiting:
            return slot
    return None


def _acknowledge(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Confirm the values taken from a message that answered something else.

    ("mejor a 60 meses" while the down payment is asked: "Anotado: plazo de 60 meses ✅").
    """
    given, slots, asked = _parsed(tracker), tracker.slots, tracker.slots.get(REQUESTED_SLOT)
    taken = []
    if asked != DOWN:
        if given.down_pct is not None and slots.get(DOWN_PCT) == given.down_pct:
            taken.append(f"enganche de {financing.format_pct(given.down_pct)}")
        elif given.down_payment is not None and slots.get(DOWN) == given.down_payment:
            taken.append(f"enganche de {format_price(given.down_payment)}")
    if asked != TERM and given.term is not None and slots.get(TERM) == given.term:
        taken.append(f"plazo de {int(given.term)} meses")
    if asked != RATE and given.rate is not None and slots.get(RATE) == given.rate:
        taken.append(f"tasa de {financing.format_pct(given.rate)} anual")
    if taken:
        listed = " y ".join([", ".join(taken[:-1]), taken[-1]] if len(taken) > 1 else taken)
        dispatcher.utter_message(response="utter_financing_noted", values=listed)


class ActionAskFinancingDownPayment(Action):
    """Ask for the down payment, with the minimum for this price."""

    def name(self) -> Text:
        return "action_ask_financing_down_payment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        price = tracker.get_slot(PRICE)
        minimum = financing.format_pct(financing.min_down_pct())
        if price:
            car = _car(tracker)
            subject = f"el *{car_title(car)}*" if car and car.price == price else "el auto"
            amount = format_price(financing.minimum_down_payment(price))
            dispatcher.utter_message(
                response="utter_ask_down_payment_for_price",
                subject=subject,
                price=format_price(price),
                minimum=minimum,
                amount=amount,
            )
        else:
            dispatcher.utter_message(response="utter_ask_down_payment_any_price", minimum=minimum)
        return []


def _plan_inputs(tracker: Tracker):
    price, down = tracker.get_slot(PRICE), tracker.get_slot(DOWN)
    if price is None or down is None:
        return None
    car = _car(tracker)
    label = car_title(car) if car and car.price == financing.to_pesos(price) else None
    return price, down, tracker.get_slot(RATE), label


def _say(dispatcher: CollectingDispatcher, text: str) -> None:
    for chunk in split_message(text):
        dispatcher.utter_message(text=chunk)


class ActionShowFinancingPlan(Action):
    """The plan for the chosen term, or the 36/48/60/72-month plans side by side."""

    def name(self) -> Text:
        return "action_show_financing_plan"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        inputs = _plan_inputs(tracker)
        if inputs is None:
            dispatcher.utter_message(response="utter_financing_nothing_yet")
            return []
        price, down, rate, label = inputs
        term = tracker.get_slot(TERM)
        if term:
            _say(dispatcher, financing.describe_plan(financing.make_plan(price, down, int(term), rate), label))
        else:
            plans = [financing.make_plan(price, down, months, rate) for months in financing.TERMS]
            _say(dispatcher, financing.describe_plans(plans, label))
        return [SlotSet("visit_booked_for_car", _visit_booked(tracker))]


def _visit_booked(tracker: Tracker) -> bool:
    """Whether the customer already has a visit booked to see the car in focus (the offer
    of a visit after the plan then says so instead)."""
    focus = tracker.get_slot("car_in_focus")
    if not focus:
        return False
    with session_scope() as session:
        visits = upcoming(session, tracker.sender_id, datetime.now(timezone.utc))
        return any(visit.stock_id == focus for visit in visits)


class ActionShowAmortizationTable(Action):
    """The schedule of the current plan summarised by year (48 months when no term was chosen)."""

    def name(self) -> Text:
        return "action_show_amortization_table"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        inputs = _plan_inputs(tracker)
        if inputs is None:
            dispatcher.utter_message(response="utter_financing_nothing_yet")
            return []
        price, down, rate, _ = inputs
        events: List[EventType] = []
        term = financing.parse_message(tracker.latest_message.get("text") or "").term
        if term is not None:
            error = financing.check_term(term)
            if error:
                dispatcher.utter_message(text=error)
                return []
            events.append(SlotSet(TERM, float(term)))
        months = int(term or tracker.get_slot(TERM) or 48)
        _say(dispatcher, financing.describe_yearly_table(financing.make_plan(price, down, months, rate)))
        if not (term or tracker.get_slot(TERM)):
            dispatcher.utter_message(response="utter_amortization_other_term")
        return events
