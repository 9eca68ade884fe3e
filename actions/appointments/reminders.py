"""WhatsApp reminders of booked visits, sent through Twilio's REST API.

Reminders are driven by the stored appointments: every poll looks for booked
visits whose reminder is due and not yet sent, claims it in the database, sends
it, then marks it sent. A restart loses nothing (a sender killed mid-send leaves
a claim that expires after the send timeout; the next sender sends it then), a
cancelled or moved visit is never reminded, and a reminder that became due while
the sender was down still goes out (unless the visit has started or a later
reminder is already due). Without Twilio
credentials the reminder is written to the log instead of sent.

    python -m actions.appointments.reminders [--once]      (`make reminders`; `make run` starts it)

Settings (environment):
    REMINDER_DAY_BEFORE      true  (remind 24 h before the visit)
    REMINDER_HOURS_BEFORE    2     (remind N h before; 0 turns it off)
    REMINDER_POLL_SECONDS    60
    TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER
    TWILIO_API_BASE_URL      empty = https://api.twilio.com (tests point it at a local fake)
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import List, Optional, Tuple

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from actions.appointments.store import BOOKED, to_utc
from actions.appointments.times import Settings, format_day, hhmm
from actions.db import Appointment, Car, OptOut, session_scope
from actions.formatting import car_title
from actions.texts import say
from actions.whatsapp_out import SEND_TIMEOUT_S, LogSender, Sender, sender_from_env, whatsapp_address
from settings import current as current_settings
from understanding.text import mask_phone

logger = logging.getLogger("actions.appointments.reminders")

CLAIM_EXPIRES = timedelta(seconds=SEND_TIMEOUT_S + 5)  # no send still runs under an older claim


@dataclass(frozen=True)
class Kind:
    """One reminder of a visit: how long before it, and the column that records it."""

    name: str
    before: timedelta
    column: str


@dataclass(frozen=True)
class ReminderSettings:
    kinds: Tuple[Kind, ...]  # largest offset first
    poll_seconds: float = 60

    @classmethod
    def from_env(cls) -> "ReminderSettings":
        given = current_settings()
        kinds = []
        if given.reminder_day_before:
            kinds.append(Kind("day_before", timedelta(hours=24), "reminder_day_before_sent_at"))
        hours = given.reminder_hours_before
        if hours > 0:
            kinds.append(Kind("hours_before", timedelta(hours=hours), "reminder_hours_before_sent_at"))
        kinds.sort(key=lambda k: k.before, reverse=True)
        return cls(tuple(kinds), given.reminder_poll_seconds)


def due(session: Session, now: datetime, settings: ReminderSettings) -> List[Tuple[Appointment, Kind]]:
    """Reminders to send now: due, unsent, booked before they were due, not overtaken, to a
    customer who did not opt out."""
    if not settings.kinds:
        return []
    now = to_utc(now)
    horizon = max(k.before for k in settings.kinds)
    candidates = session.scalars(
        select(Appointment)
        .where(
            Appointment.status == BOOKED,
            Appointment.scheduled_at > now,
            Appointment.scheduled_at <= now + horizon,
            Appointment.sender_id.not_in(select(OptOut.sender_id)),  # BAJA (actions/privacy/)
        )
        .order_by(Appointment.scheduled_at)
    )
    found = []
    for appointment in candidates:
        start = to_utc(appointment.scheduled_at)
        for i, kind in enumerate(settings.kinds):
            due_at = start - kind.before
            overtaken = any(start - later.before <= now for later in settings.kinds[i + 1 :])
            if (
                getattr(appointment, kind.column) is None
                and due_at <= now
                and to_utc(appointment.created_at) <= due_at
                and not overtaken
            ):
                found.append((appointment, kind))
    return found


def message(session: Session, appointment: Appointment, now: datetime, tz) -> str:
    """The reminder text, in the customer's words ("mañana a las 11:00")."""
    local = to_utc(appointment.scheduled_at).astimezone(tz)
    today = to_utc(now).astimezone(tz).date()
    if local.date() == today:
        when = "hoy"
    elif local.date() == today + timedelta(days=1):
        when = f"mañana {format_day(local.date(), today)}"
    else:
        when = f"el {format_day(local.date(), today)}"
    car = session.get(Car, appointment.stock_id)
    first_name = appointment.customer_name.split()[0]
    return say(
        "utter_appointment_reminder",
        first_name=first_name,
        when=when,
        time=hhmm(local.time()),
        car=car_title(car) if car else appointment.stock_id,
    )


def send_due(
    sender: Sender,
    now: Optional[datetime] = None,
    url: Optional[str] = None,
    settings: Optional[ReminderSettings] = None,
    appointment_settings: Optional[Settings] = None,
) -> int:
    """Send every reminder due at `now`; returns how many went out (or were logged)."""
    now = now or datetime.now(timezone.utc)
    settings = settings or ReminderSettings.from_env()
    tz = (appointment_settings or Settings.from_env()).tz
    sent = 0
    with session_scope(url) as session:
        batch = [(a.id, k, a.sender_id, message(session, a, now, tz)) for a, k in due(session, now, settings)]
    for appointment_id, kind, sender_id, body in batch:
        claimed_at = to_utc(now)
        with session_scope(url) as session:
            claimed = session.execute(
                update(Appointment)
                .where(
                    Appointment.id == appointment_id,
                    Appointment.status == BOOKED,
                    getattr(Appointment, kind.column).is_(None),
                    or_(
                        Appointment.reminder_claimed_at.is_(None),
                        Appointment.reminder_claimed_at < claimed_at - CLAIM_EXPIRES,
                    ),
                )
                .values(reminder_claimed_at=claimed_at)
            ).rowcount
        if not claimed:
            continue  # cancelled meanwhile, or another sender is sending it
        to = whatsapp_address(sender_id)
        try:
            if to is None:
                logger.info(
                    "Cita %s: el cliente no es una dirección de WhatsApp; no se envía recordatorio", appointment_id
                )
            else:
                result = sender.send(to, body)
                logger.info(
                    "Recordatorio %s de la cita %s enviado a %s (%s)", kind.name, appointment_id, mask_phone(to), result
                )
            sent += 1
            done = {kind.column: claimed_at, "reminder_claimed_at": None}
        except Exception:  # noqa: BLE001 - any failure: release the claim, retry next poll
            logger.exception("No se pudo enviar el recordatorio de la cita %s; se reintentará", appointment_id)
            done = {"reminder_claimed_at": None}
        with session_scope(url) as session:
            session.execute(
                update(Appointment)
                .where(Appointment.id == appointment_id, Appointment.reminder_claimed_at == claimed_at)
                .values(done)
            )
    return sent


def run_forever(sender: Sender, settings: ReminderSettings, stop: threading.Event) -> None:
    """Poll until `stop` is set; a failing poll is logged and retried."""
    names = ", ".join(f"{k.name} ({k.before.total_seconds() / 3600:g} h antes)" for k in settings.kinds) or "ninguno"
    logger.info("Recordatorios activos: %s; revisando cada %ss", names, settings.poll_seconds)
    while not stop.is_set():
        try:
            send_due(sender, settings=settings)
        except Exception:  # noqa: BLE001 - e.g. the database is briefly locked
            logger.exception("Falló la revisión de recordatorios; se reintentará")
        stop.wait(settings.poll_seconds)
    logger.info("Recordatorios detenidos")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="send what is due now and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sender = sender_from_env()
    if isinstance(sender, LogSender):
        logger.warning(
            "Sin TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN/TWILIO_WHATSAPP_NUMBER: "
            "los recordatorios se escriben en el log en lugar de enviarse"
        )
    settings = ReminderSettings.from_env()
    if args.once:
        print(f"Recordatorios enviados: {send_due(sender, settings=settings)}")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    run_forever(sender, settings, stop)


if __name__ == "__main__":
    main()
