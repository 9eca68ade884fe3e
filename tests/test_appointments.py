"""Appointments: Spanish dates, opening hours, booking rules, storage and the form in conversation."""

from __future__ import annotations

import itertools
import random
import re
import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from actions import db
from actions.appointments.store import (
    BOOKED,
    CANCELLED,
    MOVED,
    SlotTaken,
    book,
    cancel,
    check_name,
    check_slot,
    clean_name,
    find_cars,
    pick,
    upcoming,
)
from actions.appointments.times import (
    MONTHS,
    WEEKDAYS,
    Settings,
    changes_date,
    check_day,
    check_time,
    parse_hours,
    parse_when,
)
from actions.db import Appointment, Car, session_scope

MX = ZoneInfo("America/Mexico_City")
NOW = datetime(2025, 11, 25, 10, 0, tzinfo=MX)  # a Tuesday, 10:00 in Mexico City
SETTINGS = Settings(tz=MX, hours=parse_hours("lun-vie 09:00-18:00; sab 09:00-14:00"))
_ids = itertools.count(random.randint(10_000, 90_000) * 100)


def new_car(url: str, make: str = "Nissan", model: str = "Versa", year: int = 2021, available: bool = True) -> Car:
    """Insert a car with a fresh stockId into the database at `url`."""
    car = Car(
        stock_id=str(next(_ids)),
        make=make,
        model=model,
        version="SENSE MT",
        year=year,
        price=340000,
        km=41000,
        available=available,
        description="",
    )
    with session_scope(url) as session:
        session.add(car)
    return car


@pytest.fixture
def fresh_url(tmp_path) -> str:
    """An empty migrated database of its own (for searches that must see only our cars)."""
    url = f"sqlite:///{tmp_path / 'appointments.db'}"
    db.upgrade(url)
    return url


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, day, at",
    [
        ("mañana a las 11", date(2025, 11, 26), time(11)),
        ("Manana a las 11", date(2025, 11, 26), time(11)),
        ("el próximo martes a las 4 de la tarde", date(2025, 12, 2), time(16)),
        ("el proximo martes a las 4pm", date(2025, 12, 2), time(16)),
        ("15 de diciembre 10am", date(2025, 12, 15), time(10)),
        ("15 de diciembre a las 10", date(2025, 12, 15), time(10)),
        ("15/12 a las 10:30", date(2025, 12, 15), time(10, 30)),
        ("el sábado a las 3 de la tarde", date(2025, 11, 29), time(15)),
        ("pasado mañana a las 10", date(2025, 11, 27), time(10)),
        ("el jueves a mediodía", date(2025, 11, 27), time(12)),
        ("mañana a las 10 de la mañana", date(2025, 11, 26), time(10)),
        ("mañana 11 y media", date(2025, 11, 26), time(11, 30)),
        ("el martes 2 a las 11", date(2025, 12, 2), time(11)),
        ("el 1ro de diciembre a las 12", date(2025, 12, 1), time(12)),
        ("el 3 de enero a las 10 am", date(2026, 1, 3), time(10)),
        ("en 3 días a las 12", date(2025, 11, 28), time(12)),
        ("el viernes a la 1", date(2025, 11, 28), time(13)),
        ("a las 16 hrs", None, time(16)),
        ("el domingo", date(2025, 11, 30), None),
        ("mañana en la mañana", date(2025, 11, 26), None),
        ("ayer a las 10", date(2025, 11, 24), time(10)),
        ("el 20 de noviembre", date(2025, 11, 20), None),  # already past, not next year
        ("quiero agendar una cita", None, None),
        ("cancelar mi cita", None, None),
        ("Nissan Versa 2021", None, None),
    ],
)
def test_spanish_dates_and_times(text, day, at):
    when = parse_when(text, NOW)
    assert (when.day, when.at) == (day, at)


def test_a_bare_number_is_an_hour_or_a_day_depending_on_the_question():
    assert parse_when("11", NOW, "appointment_time").at == time(11)
    assert parse_when("4", NOW, "appointment_time").at == time(16)
    assert parse_when("15", NOW, "appointment_date").day == date(2025, 12, 15)
    assert parse_when("11", NOW) == parse_when("11", NOW, "customer_name")
    assert parse_when("11", NOW).at is None and parse_when("11", NOW).day is None


def test_names_that_look_like_dates_are_names():
    for name in ("Domingo López", "Abril Martínez", "Mercedes Sosa"):
        assert not changes_date(name, parse_when(name, NOW, "customer_name"))
    assert changes_date("mejor el viernes", parse_when("mejor el viernes", NOW, "customer_name"))
    assert changes_date("mejor a las 12 el lunes", parse_when("mejor a las 12 el lunes", NOW))


def test_full_names():
    assert clean_name("me llamo juan pérez") == "Juan Pérez"
    assert clean_name("Mi nombre es María de la Luz Hernández.") == "María de la Luz Hernández"
    assert check_name("Juan Pérez") is None
    assert check_name("O'Connor Smith") is None
    for bad in ("Ana", "Juan 123", "¿tienen garantía?", "quiero cancelar", "J P"):
        assert "nombre completo" in check_name(clean_name(bad))


def test_a_name_after_ok_or_si_is_the_name():
    assert clean_name("ok, juan perez") == "Juan Perez"
    assert clean_name("si claro, me llamo Ana Ruiz") == "Ana Ruiz"
    assert clean_name("sale pues soy Pedro Páramo") == "Pedro Páramo"
    assert clean_name("Valeria Sánchez") == "Valeria Sánchez"  # "va" starts a name, not a lead-in
    assert "nombre completo" in check_name(clean_name("va"))


# --------------------------------------------------------------------------- rules


def test_today_after_hours_is_refused_for_the_whole_day():
    evening = datetime(2025, 11, 25, 17, 30, tzinfo=MX)
    problem = check_day(parse_when("hoy a las 11", evening).day, evening, SETTINGS)
    assert "Hoy ya no alcanzamos" in problem and "18:00" in problem
    assert check_day(date(2025, 11, 26), evening, SETTINGS) is None


def test_saturday_afternoon_is_outside_saturday_hours():
    when = parse_when("el sábado a las 4 de la tarde", NOW)
    assert check_day(when.day, NOW, SETTINGS) is None
    problem = check_time(when.day, when.at, NOW, SETTINGS)
    assert "sábado 29 de noviembre atendemos de 9:00 a 14:00" in problem
    assert "13:00" in problem  # the last visit of the day
    assert check_time(when.day, time(13), NOW, SETTINGS) is None


def test_sunday_is_closed():
    problem = check_day(parse_when("el domingo a las 11", NOW).day, NOW, SETTINGS)
    assert "Los domingos no abrimos" in problem and "L-V 9:00-18:00, S 9:00-14:00" in problem


def test_past_dates_and_times_are_refused():
    assert "ya pasó" in check_day(parse_when("ayer a las 10", NOW).day, NOW, SETTINGS)
    assert "ya pasó" in check_day(parse_when("el 20 de noviembre", NOW).day, NOW, SETTINGS)
    when = parse_when("hoy a las 9", NOW)
    assert "ya pasó" in check_time(when.day, when.at, NOW, SETTINGS)
    soon = parse_when("hoy a las 10:30", NOW)
    assert "anticipación" in check_time(soon.day, soon.at, NOW, SETTINGS)
    assert check_time(NOW.date(), time(11), NOW, SETTINGS) is None


def test_at_most_thirty_days_ahead_and_weekday_hours():
    assert "30 días" in check_day(parse_when("15 de enero", NOW).day, NOW, SETTINGS)
    assert check_day(date(2025, 12, 24), NOW, SETTINGS) is None
    assert "9:00 a 18:00" in check_time(date(2025, 11, 26), time(8), NOW, SETTINGS)
    assert "17:00" in check_time(date(2025, 11, 26), time(17, 30), NOW, SETTINGS)
    assert check_time(date(2025, 11, 26), time(17), NOW, SETTINGS) is None


def test_opening_hours_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("APPOINTMENT_HOURS", "lun,mie,vie 10:00-16:00; dom 10:00-13:00")
    monkeypatch.setenv("APPOINTMENT_MAX_DAYS", "7")
    settings = Settings.from_env()
    assert settings.summary() == "L 10:00-16:00, Mi 10:00-16:00, V 10:00-16:00, D 10:00-13:00"
    assert "no abrimos" in check_day(date(2025, 11, 29), NOW, settings)  # Saturday now closed
    assert check_day(date(2025, 11, 30), NOW, settings) is None  # Sunday now open
    assert "7 días" in check_day(date(2025, 12, 5), NOW, settings)
    with pytest.raises(ValueError):
        parse_hours("lunes a viernes de 9 a 6")
    with pytest.raises(ValueError):
        parse_hours("lun 18:00-09:00")


def test_double_booking_of_a_car_in_the_same_hour(fresh_url):
    versa, other = new_car(fresh_url), new_car(fresh_url, model="Sentra")
    eleven = datetime(2025, 11, 26, 11, 0, tzinfo=MX)
    with session_scope(fresh_url) as session:
        first = book(session, "whatsapp:+5215500000001", "Juan Pérez", versa.stock_id, eleven)
    with session_scope(fresh_url) as session:
        problem = check_slot(session, versa.stock_id, eleven.date(), time(11, 30), NOW, SETTINGS)
        assert "ya está apartado" in problem and "12:00" in problem and "11:00" not in problem
        assert check_slot(session, versa.stock_id, eleven.date(), time(12), NOW, SETTINGS) is None
        assert check_slot(session, other.stock_id, eleven.date(), time(11), NOW, SETTINGS) is None
        # moving the visit itself half an hour is no clash with itself
        assert (
            check_slot(session, versa.stock_id, eleven.date(), time(11, 30), NOW, SETTINGS, exclude_id=first.id) is None
        )
        with pytest.raises(SlotTaken):
            book(session, "whatsapp:+5215500000002", "Ana López", versa.stock_id, eleven)
    with session_scope(fresh_url) as session:
        cancel(session, first.id, "whatsapp:+5215500000001")
    with session_scope(fresh_url) as session:
        assert check_slot(session, versa.stock_id, eleven.date(), time(11), NOW, SETTINGS) is None


def test_booking_moving_and_cancelling_are_stored(fresh_url):
    car = new_car(fresh_url)
    sender = "appt-5215500000003"
    with session_scope(fresh_url) as session:
        first = book(session, sender, "Juan Pérez", car.stock_id, datetime(2025, 11, 26, 11, 0, tzinfo=MX))
        moved = book(
            session, sender, "Juan Pérez", car.stock_id, datetime(2025, 11, 28, 16, 0, tzinfo=MX), replaces=first.id
        )
    with session_scope(fresh_url) as session:
        rows = {a.id: a for a in session.scalars(select(Appointment))}
        assert rows[first.id].status == MOVED
        assert rows[moved.id].status == BOOKED
        # stored in UTC: 16:00 in Mexico City is 22:00 UTC
        assert rows[moved.id].scheduled_at.replace(tzinfo=None) == datetime(2025, 11, 28, 22, 0)
        assert [a.id for a in upcoming(session, sender, NOW)] == [moved.id]
        assert upcoming(session, sender, datetime(2025, 11, 29, tzinfo=MX)) == []
        assert cancel(session, moved.id, "someone-else") is None  # only the sender's own visit
        assert cancel(session, moved.id, sender).status == CANCELLED
        assert cancel(session, moved.id, sender) is None
        assert upcoming(session, sender, NOW) == []
        other = book(
            session,
            "someone-else",
            "Ana López",
            car.stock_id,
            datetime(2025, 11, 27, 12, 0, tzinfo=MX),
            replaces=first.id,
        )
        assert session.get(Appointment, first.id).status == MOVED and other.status == BOOKED


def test_finding_the_car_by_stock_id_make_model_typos_and_year(fresh_url):
    versa21, versa19 = new_car(fresh_url, year=2021), new_car(fresh_url, year=2019)
    attitude = new_car(fresh_url, make="Dodge", model="Attitude", year=2018)
    sold = new_car(fresh_url, make="Mazda", model="CX-5", available=False)
    aveo = new_car(fresh_url, make="Chevrolet", model="Aveo", year=2020)
    vocho = new_car(fresh_url, make="Volkswagen", model="Sedan", year=2003)
    with session_scope(fresh_url) as session:
        ids = lambda text: {c.stock_id for c in find_cars(session, text)}  # noqa: E731
        assert ids(f"el {versa19.stock_id}") == {versa19.stock_id}
        assert ids("quiero ver el Versa") == {versa21.stock_id, versa19.stock_id}
        assert ids("el nisan versa 2021") == {versa21.stock_id}
        assert ids("el atitude") == {attitude.stock_id}
        assert ids("el nissan") == {versa21.stock_id, versa19.stock_id}
        assert ids("la CX-5") == set() and ids(sold.stock_id) == set()
        assert ids("mañana a las 11") == set()
        # the slang search understands: "chevy" is Chevrolet, "vocho" the Volkswagen Sedan
        assert ids("el nisan versa 2019") == {versa19.stock_id}
        assert ids("quiero ver el vocho") == {vocho.stock_id} and ids("la chevy") == {aveo.stock_id}
        # a named car picks that appointment, else the soonest
        sender = "appt-5215500000004"
        a = book(session, sender, "Juan Pérez", versa21.stock_id, datetime(2025, 11, 26, 11, tzinfo=MX))
        b = book(session, sender, "Juan Pérez", attitude.stock_id, datetime(2025, 11, 27, 11, tzinfo=MX))
        assert pick(session, [a, b], "cancela la del attitude") is b
        assert pick(session, [a, b], "cancela mi cita") is a


# --------------------------------------------------------------------------- conversation


def visit_day(min_days: int = 2) -> date:
    """A weekday at least `min_days` ahead in Mexico City, always bookable."""
    day = datetime.now(MX).date() + timedelta(days=min_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def spoken(day: date) -> str:
    return f"el {day.day} de {MONTHS[day.month - 1]}"


def set_car(servers, sender: str, stock_id: str) -> None:
    """What the search capability does: put a car in focus (Rasa's HTTP API).

    The conversation is started first: an event posted before the session starts
    would be older than it and left out of the session. Rasa takes the sender id
    in the path as it is (no URL decoding), and ':' and '+' are fine there.
    """
    servers.say(sender, "Hola")
    servers.add_event(sender, {"event": "slot", "name": "car_in_focus", "value": stock_id})


def appointments_of(url: str, sender: str) -> list:
    with session_scope(url) as session:
        return list(
            session.scalars(select(Appointment).where(Appointment.sender_id == sender).order_by(Appointment.id))
        )


def slots(servers, sender: str) -> dict:
    return servers.tracker(sender)["slots"]


def test_booking_the_car_in_focus_as_in_the_original(servers, database_url):
    car = new_car(database_url)
    sender = "appt-5215511110001"
    set_car(servers, sender, car.stock_id)
    day = visit_day()

    reply = servers.say_text(sender, "Quiero agendar una cita")
    assert "para ver el *Nissan Versa 2021*" in reply
    assert "1️⃣ ¿Qué día te gustaría visitarnos? (L-V 9:00-18:00, S 9:00-14:00)" in reply
    assert "2️⃣ ¿A qué hora te acomoda?" in reply and "3️⃣ ¿Cuál es tu nombre completo?" in reply

    reply = servers.say_text(sender, f"{spoken(day)} a las 11")
    assert "necesito tu nombre completo" in reply

    reply = servers.say_text(sender, "Juan Pérez")
    assert "¡Perfecto! Tu cita ha sido agendada:" in reply
    assert "📅 Fecha: " in reply and f"{day.day} de {MONTHS[day.month - 1]}" in reply
    assert "⏰ Hora: 11:00" in reply and "🚗 Auto: Nissan Versa 2021" in reply
    assert "👤 Nombre: Juan Pérez" in reply and "recordatorio" in reply

    [row] = appointments_of(database_url, sender)
    assert (row.customer_name, row.stock_id, row.status) == ("Juan Pérez", car.stock_id, BOOKED)
    expected = datetime.combine(day, time(11), MX).astimezone(timezone.utc).replace(tzinfo=None)
    assert row.scheduled_at.replace(tzinfo=None) == expected
    state = slots(servers, sender)
    assert state["appointment_date"] is None and state["appointment_time"] is None
    assert state["customer_name"] == "Juan Pérez"


def test_a_plan_for_a_car_already_booked_does_not_offer_another_visit(servers, database_url):
    car = new_car(database_url)
    sender = "appt-5215511110013"
    set_car(servers, sender, car.stock_id)
    reply = servers.say_text(sender, "cuanto me quedaria la mensualidad con 80 mil de enganche?")
    assert "¿Te gustaría agendar una cita para ver el auto?" in reply
    servers.say_text(sender, "Quiero agendar una cita")
    servers.say_text(sender, f"{spoken(visit_day())} a las 11")
    assert "Tu cita ha sido agendada" in servers.say_text(sender, "Juan Pérez")
    reply = servers.say_text(sender, "y a 60 meses?")
    assert "60 meses" in reply and "¿Te gustaría agendar" not in reply
    assert "Tu visita para ver este auto ya está agendada" in reply


def test_see_a_model_then_a_visit_on_a_weekday_as_customers_say_it(servers, database_url):
    """ "quiero ver el sentra" searches; its only match is the car the visit is for, and
    "me das cita el <día>" keeps the day, so the form only asks the time and the name."""
    sender = "appt-5215511110009"
    day = visit_day()
    weekday = WEEKDAYS[day.weekday()]

    reply = servers.say_text(sender, "quiero ver el sentra")
    assert "Encontré *1* auto" in reply and "Nissan Sentra" in reply
    focus = slots(servers, sender)["car_in_focus"]
    assert focus

    reply = servers.say_text(sender, f"me das cita el {weekday}")
    assert "¿Qué auto" not in reply
    assert f"¿A qué hora te acomoda el {weekday} {day.day} de {MONTHS[day.month - 1]}?" in reply

    assert "nombre completo" in servers.say_text(sender, "a las 11")
    reply = servers.say_text(sender, "Juan Pérez")
    assert "Tu cita ha sido agendada" in reply and "🚗 Auto: Nissan Sentra" in reply
    [row] = appointments_of(database_url, sender)
    assert (row.stock_id, row.status) == (focus, BOOKED)


@pytest.mark.parametrize("answer", ["la segunda", "2"])
def test_the_car_to_see_can_be_a_number_of_the_list_just_shown(servers, answer):
    """After a list, "la quiero ver" asks for its number; "la segunda" or "2" is the second car."""
    sender = f"appt-5215511110010-{answer.replace(' ', '-')}"
    assert "Encontré" in servers.say_text(sender, "tienen camionetas?")
    second = slots(servers, sender)["search_page"][1]
    reply = servers.say_text(sender, "la quiero ver")
    assert "¿Cuál te gustaría ver?" in reply and "número en la lista" in reply
    reply = servers.say_text(sender, answer)
    assert "para agendar tu cita para ver el" in reply and "¿Qué día te gustaría visitarnos?" in reply
    assert slots(servers, sender)["car_in_focus"] == second


def test_a_time_given_when_the_car_is_asked_is_kept_and_the_car_asked_again(servers):
    """ "la puedo ver mañana?" with no car in focus, then "a las 10": that is the hour, not a car."""
    sender = "appt-5215511110012"
    assert "Encontré" in servers.say_text(sender, "tienen camionetas?")
    second = slots(servers, sender)["search_page"][1]
    day = spoken(visit_day())
    assert "¿Cuál te gustaría ver?" in servers.say_text(sender, f"chido, y la puedo ver {day} en la mañana?")
    reply = servers.say_text(sender, "a las 10")
    assert "No encontré ese auto" not in reply and "¿Cuál te gustaría ver?" in reply
    assert slots(servers, sender)["appointment_time"] == "10:00"
    reply = servers.say_text(sender, "la segunda")
    assert "nombre completo" in reply  # the day and the hour were already given
    assert slots(servers, sender)["car_in_focus"] == second


def test_the_form_s_own_list_of_matches_is_the_list_a_number_points_at(servers):
    """Two Golfs match: the form lists them, and "el 2" is the second of that list."""
    sender = "appt-5215511110011"
    assert "¿Qué auto te gustaría ver?" in servers.say_text(sender, "quiero agendar una cita")
    reply = servers.say_text(sender, "un golf")
    assert "Encontré varios" in reply and "número en la lista" in reply
    second = re.search(r"^2️⃣ .* stockId (\S+)$", reply, re.M).group(1)
    reply = servers.say_text(sender, "el 2")
    assert "¿Qué día te gustaría visitarnos?" in reply
    assert slots(servers, sender)["car_in_focus"] == second


def test_the_form_asks_which_car_and_re_asks_bad_answers(servers, database_url):
    car = new_car(database_url, make="Dodge", model="Attitude", year=2019)
    older = new_car(database_url, make="Dodge", model="Attitude", year=2017)
    sender = "appt-5215511110002"
    day = visit_day()

    assert "¿Qué auto te gustaría ver?" in servers.say_text(sender, "quiero agendar una cita")
    reply = servers.say_text(sender, "el atitude")
    assert "Encontré varios" in reply and car.stock_id in reply and older.stock_id in reply
    assert "¿Cuál te gustaría ver?" in reply
    reply = servers.say_text(sender, "el atitude 2019")
    assert "¿Qué día te gustaría visitarnos?" in reply and "Dodge Attitude 2019" in reply
    assert slots(servers, sender)["car_in_focus"] == car.stock_id

    reply = servers.say_text(sender, "el domingo a las 11")
    assert "Los domingos no abrimos" in reply and "¿Qué día te gustaría visitarnos?" in reply

    reply = servers.say_text(sender, f"{spoken(day)} a las 7 de la noche")
    assert "atendemos de 9:00 a 18:00" in reply and "¿A qué hora te acomoda" in reply
    assert slots(servers, sender)["appointment_date"] == day.isoformat()

    reply = servers.say_text(sender, "a las 12")
    assert "nombre completo" in reply
    # a correction while the name is asked
    reply = servers.say_text(sender, "mejor a las 4 de la tarde")
    assert "nombre completo" in reply and slots(servers, sender)["appointment_time"] == "16:00"

    assert "nombre completo" in servers.say_text(sender, "Ana")
    reply = servers.say_text(sender, "Ana López")
    assert "⏰ Hora: 16:00" in reply and "👤 Nombre: Ana López" in reply
    [row] = appointments_of(database_url, sender)
    assert row.stock_id == car.stock_id and row.customer_name == "Ana López"


def test_a_car_cannot_be_booked_twice_in_the_same_hour(servers, database_url):
    car = new_car(database_url)
    day = visit_day(3)
    first, second = "appt-5215511110003", "appt-5215511110004"
    for sender in (first, second):
        set_car(servers, sender, car.stock_id)
        servers.say(sender, "agendar cita")
    servers.say(first, f"{spoken(day)} a las 10")
    servers.say(first, "Luis Hernández")

    reply = servers.say_text(second, f"{spoken(day)} a las 10:30")
    assert "ya está apartado" in reply and "11:00" in reply
    reply = servers.say_text(second, "a las 11")
    assert "nombre completo" in reply
    servers.say(second, "Rosa Vargas")
    times = sorted(a.scheduled_at for a in appointments_of(database_url, first) + appointments_of(database_url, second))
    assert times[1] - times[0] == timedelta(hours=1)


def test_show_move_and_cancel_an_appointment(servers, database_url):
    car = new_car(database_url, model="Sentra", year=2020)
    sender = "appt-5215511110005"
    day, later = visit_day(2), visit_day(4)
    assert "No tienes citas" in servers.say_text(sender, "¿cuándo es mi cita?")

    set_car(servers, sender, car.stock_id)
    servers.say(sender, "quiero agendar una cita")
    servers.say(sender, f"{spoken(day)} a las 11")
    servers.say(sender, "Carlos Ramírez")
    reply = servers.say_text(sender, "¿cuándo es mi cita?")
    assert "⏰ Hora: 11:00" in reply and "Nissan Sentra 2020" in reply

    reply = servers.say_text(sender, "quiero cambiar mi cita")
    assert "cambiemos tu cita" in reply and "¿Para qué día la cambiamos?" in reply
    reply = servers.say_text(sender, f"{spoken(later)} a las 5 de la tarde")
    assert "Tu cita quedó cambiada" in reply and "⏰ Hora: 17:00" in reply
    old, new = appointments_of(database_url, sender)
    assert (old.status, new.status) == (MOVED, BOOKED)
    assert new.customer_name == "Carlos Ramírez" and new.stock_id == car.stock_id

    # after booking, a new day and time alone moves it too
    reply = servers.say_text(sender, f"mejor {spoken(day)} a las 12")
    assert "Tu cita quedó cambiada" in reply and "⏰ Hora: 12:00" in reply

    reply = servers.say_text(sender, "cancela mi cita")
    assert "¿Confirmas que cancelo esta cita?" in reply and "12:00" in reply
    assert "sigue en pie" in servers.say_text(sender, "no")
    assert appointments_of(database_url, sender)[-1].status == BOOKED
    servers.say(sender, "quiero cancelar mi cita")
    assert "cancelé tu cita" in servers.say_text(sender, "sí")
    assert [a.status for a in appointments_of(database_url, sender)] == [MOVED, MOVED, CANCELLED]
    assert "No tienes citas" in servers.say_text(sender, "¿cuándo es mi cita?")


def test_saying_no_while_booking_stops_the_form(servers, database_url):
    car = new_car(database_url)
    sender = "appt-5215511110006"
    set_car(servers, sender, car.stock_id)
    servers.say(sender, "agendar cita")
    servers.say(sender, "el sábado")
    assert "no agendé nada" in servers.say_text(sender, "no, mejor no")
    state = servers.tracker(sender)
    assert state["active_loop"] == {} or state["active_loop"].get("name") is None
    assert state["slots"]["appointment_date"] is None
    assert appointments_of(database_url, sender) == []


def test_yes_to_the_visit_offered_after_a_financing_plan_starts_the_form(servers, database_url):
    car = new_car(database_url, model="Kicks", year=2022)
    sender = "appt-5215511110007"
    set_car(servers, sender, car.stock_id)
    reply = servers.say_text(sender, "¿Cuánto sería la mensualidad con 20% de enganche?")
    assert "¿Te gustaría agendar una cita para ver el auto?" in reply
    reply = servers.say_text(sender, "Sí, me interesa")
    assert "para ver el *Nissan Kicks 2022*" in reply and "¿Qué día te gustaría visitarnos?" in reply


def test_a_frequent_question_mid_form_is_answered_and_the_form_asks_again(servers, database_url):
    car = new_car(database_url)
    sender = "appt-5215511110008"
    set_car(servers, sender, car.stock_id)
    servers.say(sender, "quiero agendar una cita")
    reply = servers.say_text(sender, "¿tienen garantía?")
    assert "garantía de 3 meses" in reply and "¿Qué día te gustaría visitarnos?" in reply
    reply = servers.say_text(sender, f"{spoken(visit_day())} a las 10")
    assert "nombre completo" in reply


def test_two_customers_booking_the_same_car_and_hour_at_once_get_one_visit(database_url):
    """On PostgreSQL two action-server processes book in transactions of their own: the second
    waits for the first (the car's row lock) and is then told the hour is taken."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL pass (make test-postgres) runs it")
    car = new_car(database_url, model="Sentra")
    start = datetime(2031, 3, 3, 11, tzinfo=MX)
    outcome = {}

    def second_customer():
        try:
            with session_scope(database_url) as session:
                book(session, "race-b", "Beto Ruiz", car.stock_id, start)
            outcome["second"] = "booked"
        except SlotTaken:
            outcome["second"] = "taken"

    with session_scope(database_url) as session:
        book(session, "race-a", "Ana López", car.stock_id, start)  # not committed until the block ends
        other = threading.Thread(target=second_customer)
        other.start()
        other.join(2)
        assert outcome == {}, "the second booking did not wait for the first"
    other.join(30)
    assert outcome == {"second": "taken"}
    with session_scope(database_url) as session:
        booked = session.scalars(select(Appointment).where(Appointment.stock_id == car.stock_id)).all()
        assert [a.sender_id for a in booked] == ["race-a"]
