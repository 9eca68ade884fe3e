"""When a visit can be: settings, opening hours, Spanish dates and times, day and time rules.

Settings (environment):
    APPOINTMENT_TIMEZONE        America/Mexico_City
    APPOINTMENT_HOURS           "lun-vie 09:00-18:00; sab 09:00-14:00" (days not listed: closed)
    APPOINTMENT_MAX_DAYS        30   (how far ahead a visit may be booked)
    APPOINTMENT_MIN_NOTICE_MIN  60   (minutes between now and the earliest bookable visit)

A visit lasts an hour (VISIT): the last one starts an hour before closing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import dateparser
from dateparser.search import search_dates

from actions.texts import say
from settings import current as current_settings
from understanding.text import normalize, number_words

VISIT = timedelta(hours=1)
WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]
_DAY_KEYS = {"lun": 0, "mar": 1, "mie": 2, "jue": 3, "vie": 4, "sab": 5, "dom": 6}
_DAY_LETTERS = ["L", "M", "Mi", "J", "V", "S", "D"]
_DAY_NAMES = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
_DAY_PLURALS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábados", "domingos"]


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
        given = current_settings()
        return cls(
            tz=ZoneInfo(given.appointment_timezone),
            hours=parse_hours(given.appointment_hours),
            max_days=given.appointment_max_days,
            min_notice=timedelta(minutes=given.appointment_min_notice_min),
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

    def is_open(self, at: datetime) -> bool:
        """Whether `at` (aware) falls within the opening hours."""
        local = at.astimezone(self.tz)
        hours = self.hours.get(local.weekday())
        return bool(hours) and hours[0] <= local.time() < hours[1]

    def next_opening(self, after: datetime) -> Optional[datetime]:
        """The first opening time after `after` (aware, in the time zone); None when never open."""
        local = after.astimezone(self.tz)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            hours = self.hours.get(day.weekday())
            if hours and datetime.combine(day, hours[0], self.tz) > local:
                return datetime.combine(day, hours[0], self.tz)
        return None

    def _groups(self) -> List[Tuple[List[int], Tuple[time, time]]]:
        """Runs of consecutive days with the same hours."""
        groups: List[Tuple[List[int], Tuple[time, time]]] = []
        for day in range(7):
            if day not in self.hours:
                continue
            if groups and groups[-1][1] == self.hours[day] and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], self.hours[day]))
        return groups

    def spoken(self) -> str:
        """The hours in a sentence: '*lunes a viernes de 9:00 a 18:00* y *sábados de 9:00 a 14:00*'."""
        parts = []
        for days, (opens, closes) in self._groups():
            label = _DAY_PLURALS[days[0]] if len(days) == 1 else f"{_DAY_NAMES[days[0]]} a {_DAY_NAMES[days[-1]]}"
            parts.append(f"*{label} de {hhmm(opens)} a {hhmm(closes)}*")
        return " y ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)

    def closed(self) -> str:
        """'Los domingos no hay citas.', or '' when open every day."""
        days = [_DAY_PLURALS[day] for day in range(7) if day not in self.hours]
        if not days:
            return ""
        listed = " y ".join([", ".join(days[:-1]), days[-1]] if len(days) > 1 else days)
        return say("utter_appointment_closed_days", days=listed)

    def summary(self) -> str:
        """Opening hours the way the original wrote them: 'L-V 9:00-18:00, S 9:00-14:00'."""
        parts = []
        for days, (opens, closes) in self._groups():
            label = _DAY_LETTERS[days[0]]
            if len(days) > 1:
                label += "-" + _DAY_LETTERS[days[-1]]
            parts.append(f"{label} {hhmm(opens)}-{hhmm(closes)}")
        return ", ".join(parts)


def parse_hours(spec: str) -> Dict[int, Tuple[time, time]]:
    """'lun-vie 09:00-18:00; sab 09:00-14:00' -> {0: (9:00, 18:00), ..., 5: (9:00, 14:00)}."""
    hours: Dict[int, Tuple[time, time]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        match = re.fullmatch(r"([a-z,\-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", normalize(part))
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


# --------------------------------------------------------------------------- parsing

_HOUR_WORDS = number_words(1, 12, skip={"un", "uno"})  # "a la una", never "a las uno"
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
_WEEKDAY_AND_DAY = re.compile(
    r"\b(?:%s)\s+(\d{1,2})\b(?!\s*(?:de\s+)?(?:%s)\b)" % ("|".join(_WEEKDAY_NAMES), "|".join(_MONTH_NAMES))
)
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
            match.group("prefix"),
            match.group("minute"),
            match.group("frac"),
            match.group("suffix"),
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
            past = dateparser.parse(phrase, languages=["es"], settings={**settings, "PREFER_DATES_FROM": "past"})
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


_CLEAR_DATE = re.compile(r"\d|\b(?:hoy|manana)\b|\b(?:el|este|proximo|para el)\s+(?:%s)\b" % "|".join(_WEEKDAY_NAMES))


def changes_date(text: str, when: When) -> bool:
    """A date unmistakably meant as one, even while a name is asked ("Domingo López" is not)."""
    return when.day is not None and (when.at is not None or bool(_CLEAR_DATE.search(normalize(text))))


# --------------------------------------------------------------------------- rules


def check_day(day: date, now: datetime, settings: Settings) -> Optional[str]:
    """Why a visit cannot be that day (Spanish, for the customer), or None."""
    today = now.date()
    if day < today:
        return say("utter_appointment_day_past")
    if day > today + timedelta(days=settings.max_days):
        limit = format_day(today + timedelta(days=settings.max_days), today)
        return say("utter_appointment_day_too_far", max_days=settings.max_days, limit=limit)
    last = settings.last_start(day.weekday())
    if last is None:
        return say("utter_appointment_day_closed", weekdays=_DAY_PLURALS[day.weekday()], hours=settings.summary())
    if day == today and datetime.combine(day, last, now.tzinfo) < now + settings.min_notice:
        return say("utter_appointment_today_too_late", closes=hhmm(settings.hours[day.weekday()][1]))
    return None


def check_time(day: date, at: time, now: datetime, settings: Settings) -> Optional[str]:
    """Why a visit cannot start at that time of a (valid) day, or None."""
    opens, closes = settings.hours[day.weekday()]
    last = settings.last_start(day.weekday())
    if not opens <= at <= last:
        label = "Hoy" if day == now.date() else f"El {format_day(day, now.date())}"
        return say(
            "utter_appointment_time_outside_hours", day=label, opens=hhmm(opens), closes=hhmm(closes), last=hhmm(last)
        )
    start = datetime.combine(day, at, now.tzinfo)
    if start < now:
        return say("utter_appointment_time_past")
    if start < now + settings.min_notice:
        minutes = int(settings.min_notice.total_seconds() // 60)
        return say("utter_appointment_time_short_notice", minutes=minutes)
    return None
