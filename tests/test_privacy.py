"""The customer's rights, against the running servers: BAJA honoured by the reminder loop and
undone by ALTA, the privacy notice with the first question for personal data, what is kept,
and deletion checked in the database rows."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from actions import db
from actions.appointments.reminders import ReminderSettings, send_due
from actions.appointments.store import BOOKED, CANCELLED
from actions.appointments.times import Settings
from actions.texts import say
from actions.whatsapp_out import TwilioSender
from settings import current as current_settings
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

NOTICE_URL = current_settings().privacy_notice_url


def whatsapp_customer() -> str:
    return f"whatsapp:+52155{random.randint(10**7, 10**8 - 1)}"


def visit(url: str, sender: str, start: datetime, name: str = "Andrea López Ruiz") -> int:
    with db.session_scope(url) as session:
        row = db.Appointment(
            sender_id=sender,
            customer_name=name,
            stock_id=session.scalars(select(db.Car.stock_id).order_by(db.Car.stock_id).limit(1)).first(),
            scheduled_at=start,
            status=BOOKED,
            created_at=start - timedelta(days=2),
        )
        session.add(row)
        session.flush()
        return row.id


def reminders_to(url: str, sender: str, now: datetime) -> list:
    with FakeTwilio() as twilio:
        send_due(
            TwilioSender(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, base_url=twilio.url),
            now=now,
            url=url,
            settings=ReminderSettings.from_env(),
            appointment_settings=Settings.from_env(),
        )
        return [m for m in twilio.messages if m["To"] == sender]


def test_baja_stops_the_reminders_and_alta_brings_them_back(servers, database_url):
    sender = whatsapp_customer()
    now = datetime.now(timezone.utc)
    visit(database_url, sender, now + timedelta(minutes=90))
    reply = servers.say_text(sender, "BAJA")
    assert reply == say("utter_opted_out")
    assert reminders_to(database_url, sender, now) == []  # the due reminder is held back
    assert "Encontré" in servers.say_text(sender, "busco un nissan versa")  # the chat still answers
    assert servers.say_text(sender, "ALTA") == say("utter_opted_in")
    assert len(reminders_to(database_url, sender, now)) == 1


def test_a_plain_request_to_stop_messages_in_the_middle_of_a_booking(servers):
    sender = "privacy-stop-in-form"
    servers.say_text(sender, "busco un nissan versa")
    servers.say_text(sender, "quiero agendar una cita para ver el 1")
    reply = servers.say_text(sender, "ya no me manden mensajes porfa")
    assert say("utter_opted_out") in reply
    with db.session_scope(servers.env["DATABASE_URL"]) as session:
        assert session.get(db.OptOut, sender) is not None


def test_the_privacy_notice_comes_with_the_first_question_for_the_name_only(servers):
    sender = "privacy-notice"
    servers.say_text(sender, "busco un nissan versa")
    first = servers.say_text(sender, "quiero ir a ver el 1 el lunes a las 11")
    assert "nombre completo" in first and NOTICE_URL in first
    servers.say_text(sender, "olvidalo")
    again = servers.say_text(sender, "quiero ir a ver el 1 el martes a las 12")
    assert "nombre completo" in again and NOTICE_URL not in again


def test_what_is_done_with_the_data_is_answered_from_the_knowledge_base(servers):
    reply = servers.say_text("privacy-faq", "oye y que hacen con mis datos?")
    assert NOTICE_URL in reply and "BAJA" in reply and "borra mis datos" in reply


def test_what_is_kept_lists_name_visits_and_ratings(servers, database_url):
    sender = whatsapp_customer()
    visit(database_url, sender, datetime.now(timezone.utc) + timedelta(days=3))
    with db.session_scope(database_url) as session:
        session.add(db.Rating(sender_id=sender, score=4, topics=""))
    reply = servers.say_text(sender, "que datos tienen de mi?")
    assert "Andrea López Ruiz" in reply and "Citas por venir" in reply and "Calificaciones: 1" in reply
    assert "365 días" in reply and NOTICE_URL in reply


def test_answering_the_list_of_what_is_kept_with_borrenla_asks_to_confirm_and_no_keeps_it(servers, database_url):
    sender = whatsapp_customer()
    assert "borra mis datos" in servers.say_text(sender, "que info tienen guardada de mi")
    assert servers.say_text(sender, "borrenla") == say("utter_confirm_data_deletion")
    assert servers.say_text(sender, "mejor no, dejala") == say("utter_data_deletion_cancelled")
    assert _user_texts(database_url, sender)  # nothing deleted


def test_deletion_asks_first_then_removes_the_data_in_the_database(servers, database_url):
    sender = whatsapp_customer()
    servers.say_text(sender, "busco un nissan versa")
    future = visit(database_url, sender, datetime.now(timezone.utc) + timedelta(days=3))
    with db.session_scope(database_url) as session:
        session.add(db.Rating(sender_id=sender, score=5, topics=""))
    assert servers.say_text(sender, "borra mis datos") == say("utter_confirm_data_deletion")
    assert servers.say_text(sender, "no") == say("utter_data_deletion_cancelled")
    assert _user_texts(database_url, sender)  # nothing deleted on a no

    servers.say_text(sender, "bueno si, borra mis datos")
    assert servers.say_text(sender, "si") == say("utter_data_deleted")
    assert _user_texts(database_url, sender) == []  # not even the "si" that confirmed it
    with db.session_scope(database_url) as session:
        appointment = session.get(db.Appointment, future)
        assert (appointment.sender_id, appointment.customer_name, appointment.status) == ("", "", CANCELLED)
        assert not session.scalars(select(db.Rating).where(db.Rating.sender_id == sender)).all()
        assert not session.scalars(select(db.ProcessedMessage).where(db.ProcessedMessage.sender_id == sender)).all()
        recorded = session.scalars(select(db.DataDeletion).order_by(db.DataDeletion.id.desc())).first()
        assert recorded.appointments == 1 and recorded.ratings == 1 and recorded.events > 0
    after = servers.say_text(sender, "el 1")  # a fresh start: no list to pick from
    assert "Nissan Versa" not in after
    assert "busco un nissan versa" not in [e.get("text") for e in servers.tracker(sender)["events"]]


def _user_texts(database_url: str, sender: str) -> list:
    with db.get_engine(database_url).connect() as connection:
        rows = connection.execute(
            text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"), {"s": sender}
        ).all()
    return [json.loads(row.data).get("text") for row in rows]
