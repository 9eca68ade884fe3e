"""Stored visits: booking, double-booking checks, upcoming, cancel, finding the car, names.

A car cannot have two booked visits starting less than an hour (VISIT) apart.
Datetimes go to the database in UTC: SQLite keeps the wall time without the
offset, PostgreSQL the instant, and both compare right.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from typing import List, Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from actions.appointments.times import VISIT, Settings, check_time, format_day, hhmm
from actions.db import Appointment, Car
from actions.formatting import car_title
from actions.texts import say
from understanding.catalog_names import catalog_names
from understanding.names import find_names
from understanding.text import normalize

BOOKED, CANCELLED, MOVED = "booked", "cancelled", "moved"


# --------------------------------------------------------------------------- slots


def to_utc(value: datetime) -> datetime:
    """Aware UTC; naive values (SQLite gives them back so) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def car_taken(session: Session, stock_id: str, start: datetime, exclude_id: Optional[int] = None) -> bool:
    """True when the car already has a visit starting less than an hour from `start`."""
    query = select(Appointment.id).where(
        Appointment.stock_id == stock_id,
        Appointment.status == BOOKED,
        Appointment.scheduled_at > to_utc(start - VISIT),
        Appointment.scheduled_at < to_utc(start + VISIT),
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return session.execute(query.limit(1)).first() is not None


def free_times(
    session: Session,
    stock_id: str,
    day: date,
    now: datetime,
    settings: Settings,
    exclude_id: Optional[int] = None,
) -> List[time]:
    """Start times on the hour that day when the car is still free."""
    last = settings.last_start(day.weekday())
    if last is None:
        return []
    opens = settings.hours[day.weekday()][0]
    hours = range(opens.hour + (opens.minute > 0), last.hour + 1)
    return [
        time(h)
        for h in hours
        if check_time(day, time(h), now, settings) is None
        and not car_taken(session, stock_id, datetime.combine(day, time(h), settings.tz), exclude_id)
    ]


def check_slot(
    session: Session,
    stock_id: Optional[str],
    day: date,
    at: time,
    now: datetime,
    settings: Settings,
    exclude_id: Optional[int] = None,
) -> Optional[str]:
    """Time rules plus double booking of the car, or None when the visit is possible."""
    problem = check_time(day, at, now, settings)
    if problem or not stock_id:
        return problem
    if car_taken(session, stock_id, datetime.combine(day, at, settings.tz), exclude_id):
        options = [hhmm(t) for t in free_times(session, stock_id, day, now, settings, exclude_id)]
        if options:
            return say("utter_appointment_slot_taken", times=", ".join(options[:4]))
        return say("utter_appointment_slot_taken_day_full")
    return None


# --------------------------------------------------------------------------- cars


_STOCK_ID = re.compile(r"\b\d{4,9}\b")
_YEAR = re.compile(r"\b(19[9]\d|20[0-4]\d)\b")


def find_cars(session: Session, text: str, limit: int = 5) -> List[Car]:
    """Available cars the customer may mean: a stockId, or make/model (typos and slang, as search reads
    them: understanding.names) and year."""
    norm = normalize(text)
    for stock_id in _STOCK_ID.findall(norm):
        car = session.get(Car, stock_id)
        if car is not None and car.available:
            return [car]
    # The catalog's names as search reads them, kept up to date (at most CHECK_SECONDS old).
    url = session.get_bind().url.render_as_string(hide_password=False)
    named = find_names(text, catalog_names(url).vocabulary())
    if not named:
        return []
    wanted = [
        Car.model == n.model if not n.make else (Car.make == n.make) & (Car.model == n.model) for n in named if n.model
    ]
    wanted += [Car.make == n.make for n in named if n.make and not n.model]
    query = select(Car).where(Car.available, or_(*wanted))
    year = _YEAR.search(norm)
    if year:
        query = query.where(Car.year == int(year.group(1)))
    return list(session.scalars(query.order_by(Car.price).limit(limit)))


# --------------------------------------------------------------------------- storage


class SlotTaken(Exception):
    """The car got booked at that hour by someone else meanwhile."""


def book(
    session: Session,
    sender_id: str,
    customer_name: str,
    stock_id: str,
    start: datetime,
    replaces: Optional[int] = None,
) -> Appointment:
    """Store a booked visit; moving one (`replaces`, the sender's own) marks the old one as moved."""
    old = session.get(Appointment, replaces) if replaces is not None else None
    if old is not None and old.sender_id != sender_id:
        old, replaces = None, None  # another customer's visit is never touched
    # Bookings of one car wait for each other (a row lock on the car, on PostgreSQL; SQLite
    # has one writer at a time anyway), so two customers at the same moment get one visit.
    session.execute(select(Car.stock_id).where(Car.stock_id == stock_id).with_for_update())
    if car_taken(session, stock_id, start, exclude_id=replaces):
        raise SlotTaken(stock_id)
    if old is not None and old.status == BOOKED:
        old.status = MOVED
        old.updated_at = datetime.now(timezone.utc)
    appointment = Appointment(
        sender_id=sender_id,
        customer_name=customer_name,
        stock_id=stock_id,
        scheduled_at=to_utc(start),
        status=BOOKED,
    )
    session.add(appointment)
    session.flush()
    return appointment


def upcoming(session: Session, sender_id: str, now: datetime) -> List[Appointment]:
    """The sender's booked visits that have not started yet, soonest first."""
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.sender_id == sender_id,
                Appointment.status == BOOKED,
                Appointment.scheduled_at > to_utc(now),
            )
            .order_by(Appointment.scheduled_at)
        )
    )


def cancel(session: Session, appointment_id: int, sender_id: str) -> Optional[Appointment]:
    """Mark the sender's booked visit as cancelled; None when there is nothing of theirs to cancel."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != BOOKED or appointment.sender_id != sender_id:
        return None
    appointment.status = CANCELLED
    appointment.updated_at = datetime.now(timezone.utc)
    return appointment


def pick(session: Session, appointments: List[Appointment], text: str) -> Optional[Appointment]:
    """The appointment a message refers to: the one whose car it names, else the soonest."""
    if not appointments:
        return None
    named = {car.stock_id for car in find_cars(session, text)} if text else set()
    return next((a for a in appointments if a.stock_id in named), appointments[0])


def describe(session: Session, appointment: Appointment, settings: Settings) -> str:
    """'📅 Fecha / ⏰ Hora / 🚗 Auto / 👤 Nombre' lines of an appointment."""
    local = to_utc(appointment.scheduled_at).astimezone(settings.tz)
    car = session.get(Car, appointment.stock_id)
    return (
        f"📅 Fecha: {format_day(local.date(), settings.now().date())}\n"
        f"⏰ Hora: {hhmm(local.time())}\n"
        f"🚗 Auto: {car_title(car) if car else appointment.stock_id}\n"
        f"👤 Nombre: {appointment.customer_name}"
    )


# --------------------------------------------------------------------------- names

_NAME_CUE = re.compile(r"^(?:me llamo|mi nombre es|soy|a nombre de|es)\s+", re.IGNORECASE)
# "ok, juan pérez", "sí claro, me llamo…": the words before the name.
_LEAD_IN = re.compile(
    r"^(?:(?:ok(?:ey|i)?|oka|va|sale|s[ií]|claro|bueno|pues|ya|listo|perfecto|vale|ah+|mmm*)\b[\s,.!]*)+",
    re.IGNORECASE,
)
_NOT_A_NAME = set(
    "que cual cuanto cuanta como donde cuando porque por tienen tiene hay puedo puedes quiero "
    "quisiera busco necesito gracias hola no si ok auto autos carro coche cita precio garantia "
    "credito financiamiento enganche mensualidad mejor otro otra ver cambiar cancelar agendar "
    "horario hora dia manana hoy tarde noche sede sucursal prueba km".split()
)


def clean_name(text: str) -> str:
    """'me llamo juan pérez', 'ok, juan pérez' -> 'Juan Pérez'."""
    name = _NAME_CUE.sub("", _LEAD_IN.sub("", text.strip())).strip(" .,!¡¿?")
    name = re.sub(r"\s+", " ", name)
    if name == name.lower() or name == name.upper():
        name = " ".join(w[:1].upper() + w[1:].lower() for w in name.split(" "))
    return name


def looks_like_name(text: str) -> bool:
    """Letters only, a few words, none of them a question or command word."""
    name = clean_name(text)
    words = normalize(name).split()
    return (
        0 < len(words) <= 6
        and "?" not in text
        and re.fullmatch(r"[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?", name) is not None
        and not _NOT_A_NAME.intersection(words)
    )


def check_name(name: str) -> Optional[str]:
    """Why this is not a full name, or None."""
    words = [w for w in re.split(r"[\s]+", name) if len(re.sub(r"[\W\d_]", "", w)) >= 2]
    if len(words) < 2 or not looks_like_name(name) or len(name) > 120:
        return say("utter_appointment_full_name")
    return None
