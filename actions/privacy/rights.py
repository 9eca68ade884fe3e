"""Opt-out, access and deletion for one customer (the conversation's sender id), in plain Python.

>>> kept_lines(Kept(names=["Andrea López"], upcoming=["lunes 7 de diciembre, 10:30"], past=1,
...                 ratings=1, messages=12, opted_out=False))[:2]
['👤 Nombre: Andrea López', '📅 Citas por venir: lunes 7 de diciembre, 10:30']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import List

from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.orm import Session

from actions.appointments.store import BOOKED, CANCELLED, to_utc
from actions.appointments.times import Settings, format_day, hhmm
from actions.db import Appointment, Car, DataDeletion, Handoff, HandoffMessage, OptOut, ProcessedMessage, Rating
from actions.formatting import car_title
from actions.purge import EVENTS


def opt_out(session: Session, sender_id: str) -> bool:
    """Stop every message the business starts to this sender; False when it was already so."""
    if session.get(OptOut, sender_id) is not None:
        return False
    session.add(OptOut(sender_id=sender_id, created_at=datetime.now(timezone.utc)))
    return True


def opt_in(session: Session, sender_id: str) -> bool:
    """Undo `opt_out`; False when the sender had not opted out."""
    return bool(session.execute(delete(OptOut).where(OptOut.sender_id == sender_id)).rowcount)


@dataclass
class Kept:
    """What is stored about one sender."""

    names: List[str] = field(default_factory=list)
    upcoming: List[str] = field(default_factory=list)
    past: int = 0
    ratings: int = 0
    messages: int = 0
    opted_out: bool = False


def kept_about(session: Session, sender_id: str, settings: Settings) -> Kept:
    """Everything stored for `sender_id`, as the customer is told it."""
    now = settings.now()
    visits = session.scalars(
        select(Appointment).where(Appointment.sender_id == sender_id).order_by(Appointment.scheduled_at)
    ).all()
    kept = Kept(names=sorted({v.customer_name for v in visits if v.customer_name}))
    for visit in visits:
        local = to_utc(visit.scheduled_at).astimezone(settings.tz)
        if visit.status == BOOKED and local > now:
            car = session.get(Car, visit.stock_id)
            seen = f" ({car_title(car)})" if car else ""
            kept.upcoming.append(f"{format_day(local.date(), now.date())}, {hhmm(local.time())}{seen}")
        else:
            kept.past += 1
    kept.ratings = session.scalar(select(func.count()).select_from(Rating).where(Rating.sender_id == sender_id))
    if inspect(session.connection()).has_table("events"):
        mine = (EVENTS.c.sender_id == sender_id) & (EVENTS.c.type_name == "user")
        kept.messages = session.scalar(select(func.count()).select_from(EVENTS).where(mine))
    kept.opted_out = session.get(OptOut, sender_id) is not None
    return kept


def kept_lines(kept: Kept) -> List[str]:
    """The lines of the answer to "¿qué datos tienen de mí?"."""
    lines = [f"👤 Nombre: {', '.join(kept.names)}" if kept.names else "👤 Nombre: no lo tenemos"]
    if kept.upcoming:
        lines.append(f"📅 Citas por venir: {'; '.join(kept.upcoming)}")
    if kept.past:
        lines.append(f"🗂️ Citas pasadas o canceladas: {kept.past}")
    lines.append(f"⭐ Calificaciones: {kept.ratings}")
    lines.append(f"💬 Mensajes tuyos guardados en esta conversación: {kept.messages}")
    if kept.opted_out:
        lines.append("🔕 Pediste no recibir mensajes nuestros (BAJA)")
    return lines


@dataclass(frozen=True)
class Deleted:
    events: int
    appointments: int
    ratings: int


def delete_customer(session: Session, sender_id: str) -> Deleted:
    """Remove the sender's conversation, the personal fields of their visits (future ones are
    cancelled) and the link of their ratings to them; record that it was done, without the data.
    One transaction: the caller's session commits all of it or none."""
    now = datetime.now(timezone.utc)
    events = 0
    if inspect(session.connection()).has_table("events"):
        events = session.execute(delete(EVENTS).where(EVENTS.c.sender_id == sender_id)).rowcount
    session.execute(
        update(Appointment)
        .where(Appointment.sender_id == sender_id, Appointment.status == BOOKED, Appointment.scheduled_at > now)
        .values(status=CANCELLED, updated_at=now)
    )
    appointments = session.execute(
        update(Appointment).where(Appointment.sender_id == sender_id).values(sender_id="", customer_name="")
    ).rowcount
    ratings = session.execute(update(Rating).where(Rating.sender_id == sender_id).values(sender_id="")).rowcount
    handoffs = select(Handoff.id).where(Handoff.sender_id == sender_id)
    session.execute(delete(HandoffMessage).where(HandoffMessage.handoff_id.in_(handoffs)))
    session.execute(
        update(Handoff)
        .where(Handoff.sender_id == sender_id)
        .values(sender_id="", summary="", status="closed", closed_at=now, closed_reason="deleted")
    )
    session.execute(delete(ProcessedMessage).where(ProcessedMessage.sender_id == sender_id))
    session.add(DataDeletion(created_at=now, events=events, appointments=appointments, ratings=ratings))
    return Deleted(events, appointments, ratings)
