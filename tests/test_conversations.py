"""Messy conversations on the real servers, on a catalog the model was never trained on.

The catalog is the real Kavak sample from ../shared (loaded as `make catalog` does);
the tests skip without it. Each test plays what a customer writes and checks the
facts: the cars listed (against the database), the amounts, the slots and rows.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from actions import db
from actions.catalog.index import body_type, gearbox
from actions.catalog.sync import sync
from actions.financing import plan as financing
from actions.search.filters import monthly_payment_of
from tests.conftest import SHARED_CATALOG
from tests.servers import Servers

STOCK = re.compile(r"Stock: (\S+)")
CARD_TITLE = re.compile(r"🚗 \*(.+?) (\d{4})\*")


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not SHARED_CATALOG.exists():
        pytest.skip(f"{SHARED_CATALOG} not found")
    workdir = tmp_path_factory.mktemp("conversations")
    url = f"sqlite:///{workdir / 'real.db'}"
    db.upgrade(url)
    sync(SHARED_CATALOG, url)
    running = Servers(workdir, url).start()
    running.database_url = url
    yield running
    running.stop()


def cars(real):
    with db.session_scope(real.database_url) as session:
        return {car.stock_id: car for car in session.scalars(select(db.Car).where(db.Car.available))}


def page(real, sender):
    return [cars(real)[stock_id] for stock_id in real.tracker(sender)["slots"]["search_page"]]


def slots(real, sender):
    return real.tracker(sender)["slots"]


def test_a_list_number_after_the_results_is_that_car(real):
    sender = "conv-number"
    real.say_text(sender, "hola")
    real.say_text(sender, "camionetas para la familia")
    second = page(real, sender)[1]
    reply = real.say_text(sender, "el 2")
    assert STOCK.search(reply).group(1) == second.stock_id
    assert slots(real, sender)["car_in_focus"] == second.stock_id
    answer = real.say_text(sender, "cuantos km tiene?")
    assert f"{second.km:,} km" in answer


def test_a_make_named_in_passing_lists_only_that_make(real):
    sender = "conv-dodge"
    reply = real.say_text(sender, "¿tienen Dodge?")
    listed = page(real, sender)
    assert listed and {car.make for car in listed} == {"Dodge"}
    assert all(f"${car.price:,}" in reply for car in listed)


def test_a_model_not_in_stock_is_said_and_alternatives_are_labelled(real):
    sender = "conv-mustang"
    real.say_text(sender, "busco un auto")
    reply = real.say_text(sender, "y el Mustang?")
    assert reply.startswith("No tenemos *Ford Mustang* por ahora")
    assert "alternativas" in reply
    listed = page(real, sender)
    assert listed and all(car.model != "Mustang" for car in listed)
    assert "Mustang" not in str(slots(real, sender)["search_filters"])


def test_an_unknown_make_never_becomes_the_results_header(real):
    reply = real.say_text("conv-lambo", "busco un Lamborghini")
    assert reply.startswith("No tenemos *Lamborghini* por ahora")
    assert "lamborghini" not in reply.lower().split("por ahora", 1)[1]


def test_me_late_shows_the_car_and_books_nothing(real):
    sender = "conv-melate"
    real.say_text(sender, "me late la Mazda CX-5")
    listed = page(real, sender)
    assert listed and {car.model for car in listed} == {"CX-5"}
    assert slots(real, sender)["requested_slot"] is None


def test_financing_is_left_for_a_visit_and_never_takes_an_hour_as_a_price(real):
    sender = "conv-trap"
    real.say_text(sender, "busco un BMW Serie 3")
    bmw = page(real, sender)[0]
    real.say_text(sender, "el 1")
    reply = real.say_text(sender, "cuanto quedaria la mensualidad?")
    assert "enganche" in reply and f"${bmw.price:,}" in reply
    reply = real.say_text(sender, "me gustaria verlo el sabado a las 11")
    assert "Dejo el financiamiento aquí" in reply
    state = slots(real, sender)
    assert state["financing_price"] == bmw.price
    assert date.fromisoformat(state["appointment_date"]).weekday() == 5 and state["appointment_time"] == "11:00"
    assert state["car_in_focus"] == bmw.stock_id and state["requested_slot"] == "customer_name"
    reply = real.say_text(sender, "gracias")
    assert "Dejo tu cita pendiente" in reply and "Con gusto" in reply
    assert slots(real, sender)["requested_slot"] is None
    real.say_text(sender, "4")
    assert slots(real, sender)["financing_price"] == bmw.price


def test_a_person_when_asked_is_recorded(real):
    sender = "conv-person"
    reply = real.say_text(sender, "quiero hablar con un asesor")
    assert "asesor" in reply and "horario" in reply
    with db.session_scope(real.database_url) as session:
        handoffs = session.scalars(select(db.Handoff).where(db.Handoff.sender_id == sender)).all()
        assert [(h.reason, h.status) for h in handoffs] == [("asked", "open")]


def test_an_advice_question_with_an_incidental_number_is_no_search(real):
    sender = "conv-advice"
    reply = real.say_text(sender, "manejo 20 km al día, ¿me conviene comprar?")
    assert "Encontré" not in reply and "🚗 *" not in reply
    assert not (slots(real, sender)["search_filters"] or {}).get("km_max")


def test_a_new_make_drops_the_budget_that_hid_it_and_says_so(real):
    sender = "conv-mind"
    real.say_text(sender, "autos de menos de 250 mil")
    reply = real.say_text(sender, "busco un BMW Serie 3")
    assert "Quité el filtro «hasta $250,000»" in reply
    listed = page(real, sender)
    assert listed and all(car.model == "Serie 3" for car in listed) and any(car.price > 250_000 for car in listed)
    assert "price_max" not in slots(real, sender)["search_filters"]
    real.say_text(sender, "otra búsqueda")
    assert not slots(real, sender)["search_filters"]


def test_an_automatic_suv_is_a_filter(real):
    sender = "conv-auto"
    reply = real.say_text(sender, "SUV automática")
    assert "automática" in reply.split("\n")[0]
    listed = page(real, sender)
    assert listed and all(gearbox(car) in ("automatic", "cvt", "dsg") for car in listed)
    assert slots(real, sender)["search_filters"]["transmission"] == "automatic"


def test_a_monthly_budget_lists_cars_whose_plan_fits_with_the_assumption_stated(real):
    sender = "conv-monthly"
    reply = real.say_text(sender, "puedo pagar 6 mil al mes, ¿qué me alcanza?")
    assert "20% de enganche a 72 meses" in reply
    filters = slots(real, sender)["search_filters"]
    assert filters["monthly_max"] == 6000
    for car in page(real, sender):
        payment = financing.make_plan(car.price, financing.to_pesos(car.price * 0.2), 72).monthly_payment
        assert payment == monthly_payment_of(car.price, filters) <= 6000
        assert f"💵 *${payment:,}*/mes" in reply


def test_after_a_comparison_the_first_is_the_first_compared(real):
    sender = "conv-compare"
    real.say_text(sender, "sedanes automaticos")
    first, _, third = page(real, sender)[:3]
    reply = real.say_text(sender, "compara el 1 con el 3")
    assert reply.startswith("⚖️")
    reply = real.say_text(sender, "me interesa el segundo")
    assert STOCK.search(reply).group(1) == third.stock_id


def test_a_list_number_while_the_visit_form_asks_which_car(real):
    sender = "conv-form-number"
    real.say_text(sender, "hatchbacks de menos de 300 mil")
    second = page(real, sender)[1]
    real.say_text(sender, "quiero agendar una cita")
    real.say_text(sender, "el 2")
    state = slots(real, sender)
    assert state["car_in_focus"] == second.stock_id and state["requested_slot"] == "appointment_date"


def test_a_search_while_financing_leaves_the_form(real):
    sender = "conv-fin-search"
    real.say_text(sender, "quiero financiar un auto")
    reply = real.say_text(sender, "mejor enséñame trocas")
    assert reply.startswith("Dejo el financiamiento aquí")
    assert slots(real, sender)["requested_slot"] is None
    listed = page(real, sender)
    assert listed and all(body_type(car) == "pickup" for car in listed)
