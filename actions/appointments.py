"""Visits to see a car: Spanish dates, opening hours, booking rules and storage.

Plain Python first (pytest calls it directly), then a thin Rasa layer: the form
`appointment_form` (car, day, time, full name), its validation action, and the
actions that show, cancel and move an appointment. The customer's phone is the
conversation id (the WhatsApp sender, `whatsapp:+52...`).

Settings (environment):
    APPOINTMENT_TIMEZONE        America/Mexico_City
    APPOINTMENT_HOURS           "lun-vie 09:00-18:00; sab 09:00-14:00" (days not listed: closed)
    APPOINTMENT_MAX_DAYS        30   (how far ahead a visit may be booked)
    APPOINTMENT_MIN_NOTICE_MIN  60   (minutes between now and the earliest bookable visit)

A visit lasts an hour: the last one starts an hour before closing, and a car
cannot have two visits starting less than an hour apart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Tuple
from zoneinfo import ZoneInfo

import dateparser
from dateparser.search import search_dates
from rapidfuzz import fuzz, process
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from actions.db import Appointment, Car, session_scope
from actions.formatting import format_price
from actions.parsing import normalize

VISIT = timedelta(hours=1)
BOOKED, CANCELLED, MOVED = "booked", "cancelled", "moved"

WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS = [
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
    "agosto", "septiembre", "octubre", "noviembre", "diciembre",
]
_DAY_KEYS = {"lun": 0, "mar": 1, "mie": 2, "jue": 3, "vie": 4, "sab": 5, "dom": 6}
_DAY_LETTERS = ["L", "M", "Mi", "J", "V", "S", "D"]


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """Where and when visits can be booked."""

    tz: ZoneInfo
    hours: Dict[int, Tuple[time, time]]  # weekday (0 = Monday) -> (opens, closes)
    max_days: int = 30
    min_notice: timedelta = timedelta(hours=1)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            tz=ZoneInfo(os.environ.get("APPOINTMENT_TIMEZONE") or "America/Mexico_City"),
            hours=parse_hours(
                os.environ.get("APPOINTMENT_HOURS") or "lun-vie 09:00-18:00; sab 09:00-14:00"
            ),
            max_days=int(os.environ.get("APPOINTMENT_MAX_DAYS") or 30),
            min_notice=timedelta(minutes=int(os.environ.get("APPOINTMENT_MIN_NOTICE_MIN") or 60)),
        )

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def last_start(self, weekday: int) -> Optional[time]:
        """Latest start time of a visit that day, or None when closed."""
        if weekday not in self.hours:
            return None
        opens, closes = self.hours[weekday]
        last = datetime.combine(date.min, closes) - VISIT
        return last.time() if last.time() >= opens else None

    def summary(self) -> str:
        """Opening hours the way the original wrote them: 'L-V 9:00-18:00, S 9:00-14:00'."""
        groups: List[Tuple[List[int], Tuple[time, time]]] = []
        for day in range(7):
            if day not in self.hours:
                continue
            if groups and groups[-1][1] == self.hours[day] and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], self.hours[day]))
        parts = []
        for days, (opens, closes) in groups:
            label = _DAY_LETTERS[days[0]]
            if len(days) > 1:
                label += "-" + _DAY_LETTERS[days[-1]]
            parts.append(f"{label} {hhmm(opens)}-{hhmm(closes)}")
        return ", ".join(parts)


def parse_hours(spec: str) -> Dict[int, Tuple[time, time]]:
    """'lun-vie 09:00-18:00; sab 09:00-14:00' -> {0: (9:00, 18:00), ..., 5: (9:00, 14:00)}."""
    hours: Dict[int, Tuple[time, time]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        match = re.fullmatch(
            r"([a-z,\-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", normalize(part)
        )
        if not match:
            raise ValueError(f"APPOINTMENT_HOURS: no entiendo {part!r} (ej. 'lun-vie 09:00-18:00')")
        days_spec, h1, m1, h2, m2 = match.groups()
        opens, closes = time(int(h1), int(m1)), time(int(h2), int(m2))
        if opens >= closes:
            raise ValueError(f"APPOINTMENT_HOURS: {part!r} cierra antes de abrir")
        for chunk in days_spec.split(","):
            ends = [_DAY_KEYS.get(key[:3]) for key in chunk.split("-")]
            if None in ends or len(ends) > 2:
                raise ValueError(f"APPOINTMENT_HOURS: días desconocidos en {part!r}")
            for day in range(ends[0], ends[-1] + 1):
                hours[day] = (opens, closes)
    return hours


# --------------------------------------------------------------------------- formatting


def hhmm(value: time) -> str:
    """9:00, 13:30."""
    return f"{value.hour}:{value.minute:02d}"


def format_day(day: date, today: Optional[date] = None) -> str:
    """'miércoles 26 de noviembre' (with the year when it is not this year's)."""
    text = f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]}"
    if today and day.year != today.year:
        text += f" de {day.year}"
    return text


def car_label(car: Car) -> str:
    """'Nissan Versa 2021'."""
    return f"{car.make} {car.model} {car.year}"


# --------------------------------------------------------------------------- parsing

_HOUR_WORDS = {
    "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
}
_TIME = re.compile(
    r"""
    (?:\b(?P<prefix>(?:a\s+eso\s+de\s+|como\s+a\s+|a\s+|para\s+)?las?|tipo)\s+)?
    \b(?P<hour>\d{1,2}|%s)
    (?:\s*(?::|\.|h)\s*(?P<minute>\d{2}))?
    (?:\s+y\s+(?P<frac>media|cuarto))?
    (?:\s*(?P<suffix>a\.?\s?m\b\.?|p\.?\s?m\b\.?|hrs?\b\.?|horas\b|h\b|de\s+la\s+(?:manana|tarde|noche)|del\s+mediodia|en\s+punto))?
    """
    % "|".join(_HOUR_WORDS),
    re.VERBOSE,
)
_NOON = re.compile(r"\b(?:al?\s+)?medio\s?dia\b")
_VAGUE = re.compile(r"\b(?:en|por|de)\s+la\s+(?:manana|tarde|noche)\b|\btemprano\b")
_WEEKDAY_NAMES = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
_MONTH_NAMES = tuple(normalize(m) for m in MONTHS) + ("dic", "ene", "feb", "sep", "sept", "oct", "nov")
_DATE_CUE = re.compile(
    r"\b(?:hoy|manana|ayer|antier|%s)\b|\d{1,2}\s*(?:de\s+)?(?:%s)\b|\b(?:%s)\s+\d{1,2}\b"
    r"|\d{1,2}\s*/\s*\d{1,2}|\b\d+\s+(?:dias?|semanas?)\b|\b(?:un|una|dos|tres)\s+(?:dias?|semanas?)\b"
    % ("|".join(_WEEKDAY_NAMES), "|".join(_MONTH_NAMES), "|".join(_MONTH_NAMES))
)
_WEEKDAY_AND_DAY = re.compile(r"\b(?:%s)\s+(\d{1,2})\b(?!\s*(?:de\s+)?(?:%s)\b)" % (
    "|".join(_WEEKDAY_NAMES), "|".join(_MONTH_NAMES)))
_DAY_ONLY = re.compile(r"^(?:el\s+)?(?:dia\s+)?(\d{1,2})$")


@dataclass(frozen=True)
class When:
    """What a message said about the visit: a day, a time, both or neither."""

    day: Optional[date] = None
    at: Optional[time] = None


def parse_time(text: str, bare_hour: bool = False) -> Tuple[Optional[time], str]:
    """The time of day in a message and the text without it.

    "a las 11" -> 11:00, "4 de la tarde" -> 16:00, "10am", "16:30", "11 y media",
    "mediodía". An hour without am/pm from 1 to 7 is taken as the afternoon (a
    visit at 4 is 16:00). A bare number ("11") counts only when `bare_hour`.
    """
    norm = normalize(text)
    noon = _NOON.search(norm)
    if noon:
        return time(12, 0), (norm[: noon.start()] + " " + norm[noon.end() :]).strip()
    for match in _TIME.finditer(norm):
        prefix, minute, frac, suffix = (
            match.group("prefix"), match.group("minute"), match.group("frac"), match.group("suffix")
        )
        word = match.group("hour")
        if not (prefix or minute or frac or suffix):
            if not (bare_hour and re.fullmatch(r"\d{1,2}", norm)):
                continue
        if word in _HOUR_WORDS and not (prefix or suffix):
            continue
        hour = _HOUR_WORDS.get(word) or int(word)
        mins = int(minute) if minute else {"media": 30, "cuarto": 15}.get(frac or "", 0)
        suffix = re.sub(r"[\s.]", "", suffix or "")
        if suffix in ("pm", "delatarde", "delanoche") and hour < 12:
            hour += 12
        elif suffix in ("am", "delamanana") and hour == 12:
            hour = 0
        elif suffix in ("", "enpunto") and 1 <= hour <= 7:
            hour += 12
        if hour > 23 or mins > 59:
            continue
        rest = (norm[: match.start()] + " " + norm[match.end() :]).strip()
        return time(hour, mins), rest
    return None, norm


def _next_day_numbered(day_number: int, today: date) -> Optional[date]:
    """The next date (today included) whose day of the month is `day_number`."""
    year, month = today.year, today.month
    for _ in range(3):
        try:
            candidate = date(year, month, day_number)
        except ValueError:
            candidate = None
        if candidate and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def parse_day(text: str, now: datetime, bare_day: bool = False) -> Optional[date]:
    """The day of the visit in a (time-free) message, or None.

    dateparser does the work ("mañana", "el próximo martes", "15 de diciembre",
    "15/12", "en 3 días"); only words dateparser gets wrong are handled here:
    "pasado mañana", "en la mañana" (a time of day, not tomorrow), "el martes 2"
    and "el 15" (a day of the month).
    """
    norm = _VAGUE.sub(" ", normalize(text))
    norm = re.sub(r"\bpasado\s+manana\b", "en 2 dias", norm)
    norm = re.sub(r"\b(\d{1,2})\s*(?:ro|ero|o)\b", r"\1", norm)  # "1ro de diciembre"
    norm = re.sub(r"\s+", " ", norm).strip(" ,.!¡?¿")
    today = now.date()
    numbered = _WEEKDAY_AND_DAY.search(norm)
    if numbered:
        return _next_day_numbered(int(numbered.group(1)), today)
    only = _DAY_ONLY.match(norm)
    if only and (bare_day or norm.startswith("el")):
        return _next_day_numbered(int(only.group(1)), today)
    if not _DATE_CUE.search(norm):
        return None
    settings = {
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
    }
    found = search_dates(norm, languages=["es"], settings=settings) or []
    for phrase, value in found:
        if not _DATE_CUE.search(phrase):
            continue
        if value.date() > today + timedelta(days=62) and not re.search(r"\b\d{4}\b", phrase):
            # "20 de noviembre" said on the 25th: dateparser moves it to next year.
            past = dateparser.parse(
                phrase, languages=["es"], settings={**settings, "PREFER_DATES_FROM": "past"}
            )
            if past and today - timedelta(days=62) <= past.date() < today:
                return past.date()
        return value.date()
    return None


def parse_when(text: str, now: datetime, requested: Optional[str] = None) -> When:
    """Day and time of a visit in Spanish: 'mañana a las 11', '15 de diciembre 10am'.

    A bare number is an hour when the time was asked, a day of the month when
    the day was asked (`requested` is the slot the form asked for). Results are
    cached for the minute: a form turn parses the same message several times.
    """
    return _parse_when(text, now.replace(second=0, microsecond=0), requested)


@lru_cache(maxsize=512)
def _parse_when(text: str, now: datetime, requested: Optional[str]) -> When:
    at, rest = parse_time(text, bare_hour=requested == "appointment_time")
    return When(day=parse_day(rest, now, bare_day=requested == "appointment_date"), at=at)


_CLEAR_DATE = re.compile(
    r"\d|\b(?:hoy|manana)\b|\b(?:el|este|proximo|para el)\s+(?:%s)\b" % "|".join(_WEEKDAY_NAMES)
)


def changes_date(text: str, when: When) -> bool:
    """A date unmistakably meant as one, even while a name is asked ("Domingo López" is not)."""
    return when.day is not None and (when.at is not None or bool(_CLEAR_DATE.search(normalize(text))))


# --------------------------------------------------------------------------- rules


def check_day(day: date, now: datetime, settings: Settings) -> Optional[str]:
    """Why a visit cannot be that day (Spanish, for the customer), or None."""
    today = now.date()
    if day < today:
        return "Esa fecha ya pasó 🙈 ¿Qué otro día te acomoda?"
    if day > today + timedelta(days=settings.max_days):
        limit = format_day(today + timedelta(days=settings.max_days), today)
        return (
            f"Solo puedo agendar citas dentro de los próximos {settings.max_days} días "
            f"(hasta el {limit}). ¿Qué día te acomoda?"
        )
    last = settings.last_start(day.weekday())
    if last is None:
        return (
            f"Los {WEEKDAYS[day.weekday()]} no abrimos 😕 Nuestro horario es "
            f"{settings.summary()}. ¿Qué otro día te acomoda?"
        )
    if day == today and datetime.combine(day, last, now.tzinfo) < now + settings.min_notice:
        return (
            f"Hoy ya no alcanzamos a atenderte (cerramos a las "
            f"{hhmm(settings.hours[day.weekday()][1])}). ¿Te acomoda otro día?"
        )
    return None


def check_time(day: date, at: time, now: datetime, settings: Settings) -> Optional[str]:
    """Why a visit cannot start at that time of a (valid) day, or None."""
    opens, closes = settings.hours[day.weekday()]
    last = settings.last_start(day.weekday())
    if not opens <= at <= last:
        label = "Hoy" if day == now.date() else f"El {format_day(day, now.date())}"
        return (
            f"{label} atendemos de {hhmm(opens)} a {hhmm(closes)} "
            f"(la última cita es a las {hhmm(last)}). ¿A qué hora te acomoda?"
        )
    start = datetime.combine(day, at, now.tzinfo)
    if start < now:
        return "Esa hora ya pasó 🙈 ¿A qué otra hora te acomoda?"
    if start < now + settings.min_notice:
        minutes = int(settings.min_notice.total_seconds() // 60)
        return (
            f"Esa hora ya no me da tiempo: agendo con al menos {minutes} minutos de "
            "anticipación. ¿A qué otra hora te acomoda?"
        )
    return None


def to_utc(value: datetime) -> datetime:
    """Aware UTC; naive values (SQLite gives them back so) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _db_time(value: datetime) -> datetime:
    """Datetimes go to the database in UTC: SQLite keeps the wall time without the
    offset, PostgreSQL the instant, and both compare right."""
    return to_utc(value)


def car_taken(
    session: Session, stock_id: str, start: datetime, exclude_id: Optional[int] = None
) -> bool:
    """True when the car already has a visit starting less than an hour from `start`."""
    query = select(Appointment.id).where(
        Appointment.stock_id == stock_id,
        Appointment.status == BOOKED,
        Appointment.scheduled_at > _db_time(start - VISIT),
        Appointment.scheduled_at < _db_time(start + VISIT),
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return session.execute(query.limit(1)).first() is not None


def free_times(
    session: Session, stock_id: str, day: date, now: datetime, settings: Settings,
    exclude_id: Optional[int] = None,
) -> List[time]:
    """Start times on the hour that day when the car is still free."""
    last = settings.last_start(day.weekday())
    if last is None:
        return []
    opens = settings.hours[day.weekday()][0]
    hours = range(opens.hour + (opens.minute > 0), last.hour + 1)
    return [
        time(h) for h in hours
        if check_time(day, time(h), now, settings) is None
        and not car_taken(session, stock_id, datetime.combine(day, time(h), settings.tz), exclude_id)
    ]


def check_slot(
    session: Session, stock_id: Optional[str], day: date, at: time, now: datetime,
    settings: Settings, exclude_id: Optional[int] = None,
) -> Optional[str]:
    """Time rules plus double booking of the car, or None when the visit is possible."""
    problem = check_time(day, at, now, settings)
    if problem or not stock_id:
        return problem
    if car_taken(session, stock_id, datetime.combine(day, at, settings.tz), exclude_id):
        options = [hhmm(t) for t in free_times(session, stock_id, day, now, settings, exclude_id)]
        suggestion = (
            f" Ese día lo tengo libre a las {', '.join(options[:4])}." if options
            else " Ese día ya no tengo horarios libres para este auto."
        )
        return f"Ese horario ya está apartado para este auto 😕{suggestion} ¿Qué otra hora te acomoda?"
    return None


# --------------------------------------------------------------------------- cars

_STOCK_ID = re.compile(r"\b\d{4,9}\b")
_YEAR = re.compile(r"\b(19[9]\d|20[0-4]\d)\b")


def find_cars(session: Session, text: str, limit: int = 5) -> List[Car]:
    """Available cars the customer may mean: a stockId, or make/model with typos and year."""
    norm = normalize(text)
    for stock_id in _STOCK_ID.findall(norm):
        car = session.get(Car, stock_id)
        if car is not None and car.available:
            return [car]
    words = re.findall(r"[a-z0-9\-]+", norm)
    grams = {" ".join(words[i : i + n]) for n in (1, 2, 3) for i in range(len(words) - n + 1)}
    grams = {g for g in grams if len(g) >= 2}
    if not grams:
        return []
    pairs, (models, full_names, makes) = _catalog_names(session)
    if not pairs:
        return []
    grams_list = sorted(grams)

    def best(names: List[str]) -> List[float]:
        return process.cdist(grams_list, names, scorer=fuzz.ratio).max(axis=0).tolist()

    by_model = [max(a, b) for a, b in zip(best(models), best(full_names))]
    by_make = best(makes)
    scores = by_model if max(by_model) >= 85 else by_make
    if max(scores) < 85:
        return []
    chosen = [pair for pair, score in zip(pairs, scores) if score >= max(scores) - 3]
    query = select(Car).where(Car.available, tuple_(Car.make, Car.model).in_(chosen))
    year = _YEAR.search(norm)
    if year:
        query = query.where(Car.year == int(year.group(1)))
    return list(session.scalars(query.order_by(Car.price).limit(limit)))


_NAMES: Dict[str, Tuple[int, Tuple[Tuple[str, str], ...], Tuple[List[str], ...]]] = {}


def _catalog_names(session: Session) -> Tuple[Tuple[Tuple[str, str], ...], Tuple[List[str], ...]]:
    """Every (make, model) of the catalog and their normalized names (model, 'make model',
    make). Cars are never deleted, so the list is rebuilt only when the count changes."""
    count = session.scalar(select(func.count()).select_from(Car)) or 0
    key = str(session.get_bind().url)
    cached = _NAMES.get(key)
    if cached is None or cached[0] != count:
        pairs = tuple(
            (make, model) for make, model in session.execute(
                select(Car.make, Car.model).distinct().order_by(Car.make, Car.model)
            )
        )
        names = (
            [normalize(model) for _, model in pairs],
            [normalize(f"{make} {model}") for make, model in pairs],
            [normalize(make) for make, _ in pairs],
        )
        cached = _NAMES[key] = (count, pairs, names)
    return cached[1], cached[2]


# --------------------------------------------------------------------------- storage


class SlotTaken(Exception):
    """The car got booked at that hour by someone else meanwhile."""


def book(
    session: Session, sender_id: str, customer_name: str, stock_id: str, start: datetime,
    replaces: Optional[int] = None,
) -> Appointment:
    """Store a booked visit; moving one (`replaces`) marks the old one as moved."""
    if car_taken(session, stock_id, start, exclude_id=replaces):
        raise SlotTaken(stock_id)
    if replaces is not None:
        old = session.get(Appointment, replaces)
        if old is not None and old.status == BOOKED:
            old.status = MOVED
            old.updated_at = datetime.now(timezone.utc)
    appointment = Appointment(
        sender_id=sender_id, customer_name=customer_name, stock_id=stock_id,
        scheduled_at=to_utc(start), status=BOOKED,
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
                Appointment.scheduled_at > _db_time(now),
            )
            .order_by(Appointment.scheduled_at)
        )
    )


def cancel(session: Session, appointment_id: int) -> Optional[Appointment]:
    """Mark a booked visit as cancelled; None when there is nothing to cancel."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != BOOKED:
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
        f"🚗 Auto: {car_label(car) if car else appointment.stock_id}\n"
        f"👤 Nombre: {appointment.customer_name}"
    )


# --------------------------------------------------------------------------- names

_NAME_CUE = re.compile(r"^(?:me llamo|mi nombre es|soy|a nombre de|es)\s+", re.IGNORECASE)
_NOT_A_NAME = set(
    "que cual cuanto cuanta como donde cuando porque por tienen tiene hay puedo puedes quiero "
    "quisiera busco necesito gracias hola no si ok auto autos carro coche cita precio garantia "
    "credito financiamiento enganche mensualidad mejor otro otra ver cambiar cancelar agendar "
    "horario hora dia manana hoy tarde noche sede sucursal prueba km".split()
)


def clean_name(text: str) -> str:
    """'me llamo juan pérez' -> 'Juan Pérez'."""
    name = _NAME_CUE.sub("", text.strip()).strip(" .,!¡¿?")
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
        return (
            "Necesito tu *nombre completo* (nombre y apellido) para registrar la cita, "
            "por ejemplo: Juan Pérez."
        )
    return None


# --------------------------------------------------------------------------- Rasa layer

FORM = "appointment_form"
# Intents taken as an answer to the form's question even when nothing in them parses
# (the validation then explains and asks again); any other intent is left to the
# rules, e.g. a FAQ, after which the form asks again.
ANSWER_INTENTS = {
    "inform_appointment", "book_appointment", "reschedule_appointment", "give_rating",
    "nlu_fallback", "affirm",
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
    asked = 0
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            break
        asked += event.get("event") == "slot" and event.get("name") == "requested_slot" and (
            event.get("value") == slot
        )
    return asked <= 1


class ValidateAppointmentForm(FormValidationAction):
    """Fills and checks the car, day, time and name of a visit."""

    def name(self) -> Text:
        return "validate_appointment_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """rasa-sdk's run, keeping extracted slots that are not the form's own
        (appointment_reschedule_id), which it would otherwise drop."""
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
        if requested is None and (intent == "reschedule_appointment" or (
            intent == "inform_appointment" and parse_when(text, _now_and_settings()[0]) != When()
        )):
            # "cambia mi cita" or, after booking, just "mejor el viernes a las 10"
            moved = self._start_reschedule(dispatcher, tracker, explicit=intent != "inform_appointment")
            if moved:
                return moved
        if requested not in ("car_in_focus", None):
            return {}
        with session_scope() as session:
            named = bool(find_cars(session, text))
        if named or (requested == "car_in_focus" and intent in ANSWER_INTENTS):
            return {"car_in_focus": text}
        return {}

    def _start_reschedule(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, explicit: bool
    ) -> Dict[Text, Any]:
        """Prefill the form from the customer's next visit, which the booking will replace."""
        now, settings = _now_and_settings()
        with session_scope() as session:
            target = pick(
                session, upcoming(session, tracker.sender_id, now),
                tracker.latest_message.get("text") or "",
            )
            if target is None:
                if explicit:
                    dispatcher.utter_message(
                        text="No encontré citas activas a tu nombre, así que agendemos una nueva 🙂"
                    )
                return {}
            dispatcher.utter_message(
                text=f"Va, cambiemos tu cita:\n\n{describe(session, target, settings)}"
            )
            return {
                "appointment_reschedule_id": float(target.id),
                "car_in_focus": target.stock_id,
                "customer_name": target.customer_name,
            }

    async def extract_appointment_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        requested = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
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
        if requested in (None, "customer_name") and when.at:
            return {"appointment_time": text}  # "a las 11" at the start, "mejor a las 12" later
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
        with session_scope() as session:
            car = session.get(Car, text.strip())
            if car is not None and car.available:
                return {"car_in_focus": car.stock_id}
            if car is not None:
                dispatcher.utter_message(text=f"El {car_label(car)} ya no está disponible 😕")
                return {"car_in_focus": None}
            matches = find_cars(session, text)
            if len(matches) == 1:
                return {"car_in_focus": matches[0].stock_id}
            if matches:
                lines = [
                    f"{i}. 🚗 {car_label(c)} {c.version} · {format_price(c.price)} · stockId {c.stock_id}"
                    for i, c in enumerate(matches, 1)
                ]
                dispatcher.utter_message(text="Encontré varios:\n" + "\n".join(lines))
                return {"car_in_focus": None}
        dispatcher.utter_message(text="No encontré ese auto entre los disponibles 🤔")
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
                dispatcher.utter_message(
                    text='No entendí qué día 🤔 Escríbelo por ejemplo "mañana", '
                    '"el próximo martes" o "15 de diciembre".'
                )
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
            dispatcher.utter_message(
                text='No entendí la hora 🤔 Escríbela por ejemplo "a las 11" o "4 de la tarde".'
            )
            return {"appointment_time": None}
        day = _iso_day(tracker.get_slot("appointment_date"))
        if day is None:
            return {"appointment_time": _slot_time(at)}
        return self._check(dispatcher, tracker, day, at, now, settings)

    def _check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, day: date, at: Optional[time],
        now: datetime, settings: Settings,
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
                    session, tracker.get_slot("car_in_focus"), day, at, now, settings,
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

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if _first_ask(tracker, "car_in_focus"):
            text = ("¿Qué auto te gustaría ver? 🚗 Dime la marca y el modelo "
                    '(por ejemplo "Nissan Versa 2021") o su stockId.')
        else:
            text = '¿Cuál te gustaría ver? Escríbeme su *stockId*, o modelo y año (por ejemplo "Versa 2019").'
        dispatcher.utter_message(text=text)
        return []


class ActionAskCustomerName(Action):
    """The original's words for the name."""

    def name(self) -> Text:
        return "action_ask_customer_name"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        dispatcher.utter_message(
            text="Para agendar tu cita necesito tu nombre completo para registrarte en el sistema."
        )
        return []


class ActionAskAppointmentDate(Action):
    """First ask lists everything still needed, as in the original; re-asks are short."""

    def name(self) -> Text:
        return "action_ask_appointment_date"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        settings = Settings.from_env()
        question = f"¿Qué día te gustaría visitarnos? ({settings.summary()})"
        if tracker.get_slot("appointment_reschedule_id"):
            question = f"¿Para qué día la cambiamos? ({settings.summary()})"
        if tracker.get_slot("appointment_reschedule_id") or not _first_ask(tracker, "appointment_date"):
            dispatcher.utter_message(text=question)
            return []
        with session_scope() as session:
            car = session.get(Car, tracker.get_slot("car_in_focus") or "")
            label = f" para ver el *{car_label(car)}*" if car else ""
        steps = [question]
        if not tracker.get_slot("appointment_time"):
            steps.append("¿A qué hora te acomoda?")
        if not tracker.get_slot("customer_name"):
            steps.append("¿Cuál es tu nombre completo?")
        numbers = ["1️⃣", "2️⃣", "3️⃣"]
        dispatcher.utter_message(
            text=f"Perfecto, para agendar tu cita{label} necesito algunos datos:\n\n"
            + "\n".join(f"{numbers[i]} {step}" for i, step in enumerate(steps))
        )
        return []


class ActionAskAppointmentTime(Action):
    """Asks the time with that day's opening hours."""

    def name(self) -> Text:
        return "action_ask_appointment_time"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        settings = Settings.from_env()
        day = _iso_day(tracker.get_slot("appointment_date"))
        if day is None or day.weekday() not in settings.hours:
            dispatcher.utter_message(text="¿A qué hora te acomoda?")
            return []
        opens, closes = settings.hours[day.weekday()]
        dispatcher.utter_message(
            text=f"¿A qué hora te acomoda el {format_day(day, settings.now().date())}? "
            f"Ese día atendemos de {hhmm(opens)} a {hhmm(closes)}."
        )
        return []


_RESET = ["appointment_date", "appointment_time", "appointment_reschedule_id"]


class ActionBookAppointment(Action):
    """Stores the visit (or moves the old one) and confirms it."""

    def name(self) -> Text:
        return "action_book_appointment"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        now, settings = _now_and_settings()
        reset = [SlotSet(slot, None) for slot in _RESET]
        day = _iso_day(tracker.get_slot("appointment_date"))
        at = _iso_time(tracker.get_slot("appointment_time"))
        stock_id = tracker.get_slot("car_in_focus")
        name = tracker.get_slot("customer_name")
        if not (day and at and stock_id and name):
            dispatcher.utter_message(text="No alcancé a completar tu cita. Escríbeme *agendar cita* para intentarlo de nuevo.")
            return reset
        reschedule = tracker.get_slot("appointment_reschedule_id")
        try:
            with session_scope() as session:
                appointment = book(
                    session, tracker.sender_id, name, stock_id,
                    datetime.combine(day, at, settings.tz),
                    replaces=int(reschedule) if reschedule else None,
                )
                details = describe(session, appointment, settings)
        except SlotTaken:
            dispatcher.utter_message(
                text="Ese horario se acaba de ocupar para este auto 😕 "
                "Escríbeme *agendar cita* y elegimos otro."
            )
            return reset
        title = "¡Listo! Tu cita quedó cambiada:" if reschedule else "¡Perfecto! Tu cita ha sido agendada:"
        dispatcher.utter_message(
            text=f"{title}\n\n{details}\n\n"
            "Te enviaré un recordatorio por WhatsApp. ¿Hay algo más en lo que pueda ayudarte?"
        )
        return reset


class ActionStopAppointmentForm(Action):
    """The customer gave up booking: forget the half-filled day and time."""

    def name(self) -> Text:
        return "action_stop_appointment_form"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if tracker.get_slot("appointment_reschedule_id"):
            text = "Va, dejé tu cita como estaba ✅ ¿Te ayudo con algo más?"
        else:
            text = "Va, no agendé nada. Cuando quieras, escríbeme *agendar cita* 🙂 ¿Te ayudo con algo más?"
        dispatcher.utter_message(text=text)
        return [SlotSet(slot, None) for slot in _RESET] + [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionShowAppointments(Action):
    """'¿Cuándo es mi cita?'"""

    def name(self) -> Text:
        return "action_show_appointments"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        now, settings = _now_and_settings()
        with session_scope() as session:
            found = upcoming(session, tracker.sender_id, now)
            if not found:
                dispatcher.utter_message(
                    text="No tienes citas agendadas 📅 Si quieres ver un auto en persona, "
                    "escríbeme *agendar cita*."
                )
                return []
            title = "Tu cita:" if len(found) == 1 else "Tus citas:"
            blocks = "\n\n".join(describe(session, a, settings) for a in found)
        dispatcher.utter_message(
            text=f"{title}\n\n{blocks}\n\nSi necesitas cambiarla o cancelarla, solo dímelo."
        )
        return []


class ActionConfirmCancelAppointment(Action):
    """Asks before cancelling (the soonest visit, or the one whose car is named)."""

    def name(self) -> Text:
        return "action_confirm_cancel_appointment"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        now, settings = _now_and_settings()
        with session_scope() as session:
            target = pick(session, upcoming(session, tracker.sender_id, now),
                          tracker.latest_message.get("text") or "")
            if target is None:
                dispatcher.utter_message(text="No tienes citas agendadas que cancelar 📅")
                return [SlotSet("appointment_to_cancel", None)]
            details = describe(session, target, settings)
        dispatcher.utter_message(
            text=f"¿Confirmas que cancelo esta cita?\n\n{details}\n\nResponde *sí* o *no*."
        )
        return [SlotSet("appointment_to_cancel", float(target.id))]


class ActionCancelAppointment(Action):
    """The answer to the cancel confirmation: yes cancels, no keeps the visit."""

    def name(self) -> Text:
        return "action_cancel_appointment"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        target = tracker.get_slot("appointment_to_cancel")
        if not target:
            dispatcher.utter_message(text="¿Te ayudo con algo más?")
        elif _intent(tracker) != "affirm":
            dispatcher.utter_message(text="Perfecto, tu cita sigue en pie ✅ ¿Te ayudo con algo más?")
        else:
            with session_scope() as session:
                cancelled = cancel(session, int(target))
            dispatcher.utter_message(
                text="Listo, cancelé tu cita ❌ Si quieres agendar otra, escríbeme *agendar cita*."
                if cancelled else "Esa cita ya no estaba activa, así que no hubo nada que cancelar."
            )
        return [SlotSet("appointment_to_cancel", None)]
