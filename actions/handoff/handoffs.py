"""Handoffs to a person: opened by the assistant, announced to staff, answered and handed back.

Lifecycle: `open_handoff` records the request with a `Summary` of the conversation
(name, car in focus, search, financing plan, booked visit, last messages), and
`notify` tells staff: a WhatsApp message to STAFF_WHATSAPP_NUMBER and/or a JSON
POST to HANDOFF_WEBHOOK_URL, each optional. While the handoff is open the channels
hold the customer's messages for staff (channels/holds.py). Staff answer from the
inbox (actions/handoff/inbox.py): `staff_reply` sends over WhatsApp and keeps the
message; `hand_back` closes the handoff and the assistant says it is back. With no
staff reply for HANDOFF_TIMEOUT_MINUTES the hold ends by itself (channels/holds.py).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Dict, List, Optional, Sequence

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.appointments.times import Settings, format_day, hhmm
from actions.db import Handoff, HandoffMessage, session_scope
from actions.texts import say
from actions.whatsapp_out import Sender, sender_from_env, whatsapp_address
from settings import current as current_settings

logger = logging.getLogger(__name__)

OPEN, CLOSED = "open", "closed"
WEBHOOK_TIMEOUT_S = 5
LAST_MESSAGES = 8


@dataclass
class Summary:
    """What staff need to pick the conversation up."""

    sender_id: str
    reason: str  # asked, offered
    name: Optional[str] = None
    car: Optional[str] = None
    search: Optional[str] = None
    plan: Optional[str] = None
    visit: Optional[str] = None
    last_messages: List[Dict[str, str]] = field(default_factory=list)  # {"author": "cliente"|"asistente", "text"}

    def as_text(self) -> str:
        """The WhatsApp notice for staff (plain text, well under 1600 characters)."""
        lines = [f"🙋 *Un cliente pide un asesor* ({self.sender_id.replace('whatsapp:', '')})"]
        for label, value in (
            ("Nombre", self.name),
            ("Auto", self.car),
            ("Búsqueda", self.search),
            ("Plan", self.plan),
            ("Cita", self.visit),
        ):
            if value:
                lines.append(f"{label}: {value}")
        if self.last_messages:
            lines.append("Últimos mensajes:")
            lines += [f"- {m['author']}: {m['text'][:160]}" for m in self.last_messages[-4:]]
        return "\n".join(lines)[:1500]


def shortened(text: str, limit: int = 500) -> str:
    r"""`text` cut at the last whole line within `limit` characters, marked with "…":
    never half a price.

    >>> shortened("💰 $289,999\n🛣️ 38,500 km", limit=15)
    '💰 $289,999\n…'
    """
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return (text[:cut] if cut > 0 else text[:limit].rsplit(" ", 1)[0]) + "\n…"


def last_messages(events: Sequence[dict], limit: int = LAST_MESSAGES) -> List[Dict[str, str]]:
    """The conversation's last user and bot texts, oldest first."""
    said = [
        {"author": "cliente" if event["event"] == "user" else "asistente", "text": shortened(event["text"])}
        for event in events
        if event.get("event") in ("user", "bot") and event.get("text")
    ]
    return said[-limit:]


def open_handoff(session: Session, summary: Summary, now: Optional[datetime] = None) -> tuple:
    """The sender's open handoff, or a new one with `summary`: (handoff, new?). Asking twice opens one."""
    current = session.scalars(
        select(Handoff).where(Handoff.sender_id == summary.sender_id, Handoff.status == OPEN).limit(1)
    ).first()
    if current is not None:
        return current, False
    now = now or datetime.now(timezone.utc)
    handoff = Handoff(
        sender_id=summary.sender_id,
        reason=summary.reason,
        status=OPEN,
        created_at=now,
        last_activity_at=now,
        summary=json.dumps(asdict(summary), ensure_ascii=False),
    )
    session.add(handoff)
    session.flush()
    return handoff, True


def summary_of(handoff: Handoff) -> Summary:
    return Summary(**json.loads(handoff.summary)) if handoff.summary else Summary(handoff.sender_id, handoff.reason)


def when_answered(now: datetime, settings: Settings) -> str:
    """'en unos minutos' inside the opening hours, else 'el lunes 7 de diciembre a partir de las 9:00'."""
    if settings.is_open(now):
        return "en unos minutos"
    opening: Optional[datetime] = settings.next_opening(now)
    if opening is None:
        return "en cuanto abramos"
    today = now.astimezone(settings.tz).date()
    days = (opening.date() - today).days
    day = "hoy" if days == 0 else "mañana" if days == 1 else f"el {format_day(opening.date(), today)}"
    return f"{day} a partir de las {hhmm(opening.time())}"


def notify(handoff_id: int, summary: Summary, sender: Optional[Sender] = None) -> None:
    """Tell staff, by WhatsApp and/or webhook as configured; a failure is logged, never raised."""
    given = current_settings()
    if given.staff_whatsapp_number:
        to = given.staff_whatsapp_number
        to = to if to.startswith("whatsapp:") else f"whatsapp:{to}"
        try:
            (sender or sender_from_env()).send(to, summary.as_text())
        except Exception:  # noqa: BLE001 - Twilio down must not lose the webhook
            logger.exception("Handoff %s: could not notify staff on WhatsApp", handoff_id)
    if given.handoff_webhook_url:
        try:
            requests.post(
                given.handoff_webhook_url,
                json={"event": "handoff", "id": handoff_id, **asdict(summary)},
                timeout=WEBHOOK_TIMEOUT_S,
            ).raise_for_status()
        except requests.RequestException:
            logger.exception("Handoff %s: the webhook did not take the notice", handoff_id)


def notify_in_background(handoff_id: int, summary: Summary) -> threading.Thread:
    """`notify` without keeping the customer's turn waiting on Twilio or the webhook."""
    thread = threading.Thread(target=notify, args=(handoff_id, summary), daemon=True)
    thread.start()
    return thread


def _send(sender: Sender, sender_id: str, text: str) -> bool:
    """Send to the customer on WhatsApp; False when it could not go (a REST tester, Twilio down):
    the message is kept all the same and the inbox shows it was not sent."""
    to = whatsapp_address(sender_id)
    if to is None:
        return False
    try:
        sender.send(to, text)
    except Exception:  # noqa: BLE001 - staff see "no enviado" and can write again
        logger.exception("Could not send a staff message over WhatsApp")
        return False
    return True


def staff_reply(handoff_id: int, text: str, sender: Optional[Sender] = None, url: Optional[str] = None) -> bool:
    """Send staff's `text` to the customer and keep it; False when the handoff is not open."""
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None or handoff.status != OPEN:
            return False
        delivered = _send(sender or sender_from_env(), handoff.sender_id, text)
        session.add(
            HandoffMessage(handoff_id=handoff_id, author="staff", text=text, delivered=delivered, created_at=now)
        )
        handoff.first_reply_at = handoff.first_reply_at or now
        handoff.last_activity_at = now
    return True


def hand_back(handoff_id: int, sender: Optional[Sender] = None, url: Optional[str] = None) -> bool:
    """Close the handoff and tell the customer the assistant is back; False when it was not open."""
    now = datetime.now(timezone.utc)
    text = say("utter_handoff_back")
    with session_scope(url) as session:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None or handoff.status != OPEN:
            return False
        handoff.status, handoff.closed_at, handoff.closed_reason = CLOSED, now, "staff"
        delivered = _send(sender or sender_from_env(), handoff.sender_id, text)
        session.add(
            HandoffMessage(handoff_id=handoff_id, author="assistant", text=text, delivered=delivered, created_at=now)
        )
    return True


@dataclass
class Held:
    """An open handoff as the inbox shows it."""

    id: int
    sender_id: str
    created_at: datetime
    summary: Summary
    messages: List[HandoffMessage]


def open_handoffs(url: Optional[str] = None) -> List[Held]:
    """Every open handoff, oldest first, with its summary and the messages since."""
    with session_scope(url) as session:
        handoffs = session.scalars(select(Handoff).where(Handoff.status == OPEN).order_by(Handoff.id)).all()
        held = []
        for handoff in handoffs:
            messages = session.scalars(
                select(HandoffMessage).where(HandoffMessage.handoff_id == handoff.id).order_by(HandoffMessage.id)
            ).all()
            held.append(Held(handoff.id, handoff.sender_id, handoff.created_at, summary_of(handoff), list(messages)))
        session.expunge_all()
    return held
