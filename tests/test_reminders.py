"""Reminders: when they are due, sending through the real twilio client to a local
fake of Twilio's Messages API, and a restart of the reminder process."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time as clock
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from actions import db
from actions.appointments.reminders import (
    CLAIM_EXPIRES,
    ReminderSettings,
    due,
    send_due,
)
from actions.appointments.store import BOOKED, CANCELLED, MOVED
from actions.appointments.times import Settings
from actions.db import Appointment, session_scope
from actions.whatsapp_out import LogSender, TwilioSender, sender_from_env, whatsapp_address
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.test_appointments import MX, new_car
from understanding.text import mask_phone

ROOT = Path(__file__).resolve().parents[1]
VISIT = datetime(2025, 11, 26, 11, 0, tzinfo=MX)  # Wednesday 11:00 in Mexico City
SENDER = "whatsapp:+5215512345678"


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'reminders.db'}"
    db.upgrade(url)
    return url


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake


def settings(day_before: bool = True, hours: float = 2) -> ReminderSettings:
    env = {"REMINDER_DAY_BEFORE": "true" if day_before else "false", "REMINDER_HOURS_BEFORE": str(hours)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return ReminderSettings.from_env()
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)


def add(
    url: str,
    stock_id: str,
    start: datetime,
    created: datetime,
    status: str = BOOKED,
    sender: str = SENDER,
    name: str = "Juan Pérez",
) -> int:
    with session_scope(url) as session:
        appointment = Appointment(
            sender_id=sender,
            customer_name=name,
            stock_id=stock_id,
            scheduled_at=start.astimezone(timezone.utc),
            status=status,
            created_at=created.astimezone(timezone.utc),
        )
        session.add(appointment)
        session.flush()
        return appointment.id


def twilio_sender(fake: FakeTwilio) -> TwilioSender:
    return TwilioSender(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, base_url=fake.url)


def send(fake, url, now, config=None) -> int:
    return send_due(
        twilio_sender(fake), now=now, url=url, settings=config or settings(), appointment_settings=Settings.from_env()
    )


def test_the_day_before_and_two_hours_before(url, twilio):
    car = new_car(url)
    add(url, car.stock_id, VISIT, created=VISIT - timedelta(days=3))

    assert send(twilio, url, VISIT - timedelta(hours=24, minutes=1)) == 0
    assert send(twilio, url, VISIT - timedelta(hours=23, minutes=59)) == 1
    assert send(twilio, url, VISIT - timedelta(hours=23)) == 0  # not twice
    [day_before] = twilio.messages
    assert day_before["To"] == SENDER and day_before["From"] == FROM_NUMBER
    assert "Hola Juan, te esperamos mañana miércoles 26 de noviembre a las 11:00" in day_before["Body"]
    assert "*Nissan Versa 2021*" in day_before["Body"]

    assert send(twilio, url, VISIT - timedelta(hours=2, minutes=1)) == 0
    assert send(twilio, url, VISIT - timedelta(hours=1, minutes=59)) == 1
    assert "te esperamos hoy a las 11:00" in twilio.messages[1]["Body"]
    assert send(twilio, url, VISIT - timedelta(minutes=5)) == 0
    with session_scope(url) as session:
        row = session.scalars(select(Appointment)).one()
        assert row.reminder_day_before_sent_at and row.reminder_hours_before_sent_at


def test_offsets_are_configurable(url, twilio):
    car = new_car(url)
    add(url, car.stock_id, VISIT, created=VISIT - timedelta(days=3))
    only_three_hours = settings(day_before=False, hours=3)
    assert [k.name for k in only_three_hours.kinds] == ["hours_before"]
    assert send(twilio, url, VISIT - timedelta(hours=20), only_three_hours) == 0
    assert send(twilio, url, VISIT - timedelta(hours=2, minutes=59), only_three_hours) == 1
    assert settings(day_before=False, hours=0).kinds == ()


def test_no_reminder_for_cancelled_or_moved_visits(url, twilio):
    car = new_car(url)
    created = VISIT - timedelta(days=3)
    add(url, car.stock_id, VISIT, created, status=CANCELLED, sender="whatsapp:+5215500000001")
    add(url, car.stock_id, VISIT, created, status=MOVED, sender="whatsapp:+5215500000002")
    kept = add(url, car.stock_id, VISIT + timedelta(hours=3), created, sender="whatsapp:+5215500000003")
    now = VISIT - timedelta(hours=1)
    with session_scope(url) as session:
        assert [(a.id, k.name) for a, k in due(session, now, settings())] == [(kept, "day_before")]
    send(twilio, url, now)
    assert [m["To"] for m in twilio.messages] == ["whatsapp:+5215500000003"]


def test_a_visit_booked_after_a_reminder_was_due_skips_it(url, twilio):
    car = new_car(url)
    add(url, car.stock_id, VISIT, created=VISIT - timedelta(hours=5))
    assert send(twilio, url, VISIT - timedelta(hours=4, minutes=59)) == 0  # no "day before"
    assert send(twilio, url, VISIT - timedelta(hours=1, minutes=30)) == 1
    assert "hoy a las 11:00" in twilio.messages[0]["Body"]


def test_after_downtime_only_the_latest_reminder_goes_out(url, twilio):
    car = new_car(url)
    add(url, car.stock_id, VISIT, created=VISIT - timedelta(days=3))
    # the sender was down from two days before until an hour before the visit
    assert send(twilio, url, VISIT - timedelta(hours=1)) == 1
    assert len(twilio.messages) == 1 and "hoy a las 11:00" in twilio.messages[0]["Body"]
    assert send(twilio, url, VISIT + timedelta(minutes=1)) == 0


def test_a_failed_send_is_retried_on_the_next_poll(url, twilio, caplog):
    car = new_car(url)
    add(url, car.stock_id, VISIT, created=VISIT - timedelta(days=3))
    twilio.fail_next = 1
    now = VISIT - timedelta(hours=20)
    with caplog.at_level(logging.ERROR, logger="actions.appointments.reminders"):
        assert send(twilio, url, now) == 0
    assert "se reintentará" in caplog.text
    assert send(twilio, url, now + timedelta(minutes=1)) == 1
    assert len(twilio.messages) == 1


def test_without_credentials_reminders_are_logged(url, monkeypatch, caplog):
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER"):
        monkeypatch.setenv(key, "")
    sender = sender_from_env()
    assert isinstance(sender, LogSender)
    car = new_car(url)
    add(url, car.stock_id, VISIT, created=VISIT - timedelta(days=3))
    add(url, car.stock_id, VISIT + timedelta(hours=2), created=VISIT - timedelta(days=3), sender="rest-user-42")
    with caplog.at_level(logging.INFO):
        assert send_due(sender, now=VISIT - timedelta(hours=20), url=url, settings=settings()) == 2
    assert "sin credenciales de Twilio" in caplog.text and "whatsapp:+52*******5678" in caplog.text
    assert "no es una dirección de WhatsApp" in caplog.text and "rest-user-42" not in caplog.text
    assert SENDER not in caplog.text  # the number is masked
    assert "Juan" not in caplog.text  # names are never logged


def test_twilio_sender_from_environment(monkeypatch, twilio):
    for key, value in twilio.env().items():
        monkeypatch.setenv(key, value)
    sender = sender_from_env()
    assert isinstance(sender, TwilioSender)
    assert sender.send("whatsapp:+5215512345678", "hola").startswith("SM")
    assert twilio.messages[0]["Body"] == "hola"


def test_reminders_go_only_to_whatsapp_addresses_and_numbers_are_masked_one_way():
    assert whatsapp_address("whatsapp:+5215512345678") == "whatsapp:+5215512345678"
    for other in ("+5215512345678", "5215512345678", "default", "whatsapp:5215512345678", "whatsapp:+52 155"):
        assert whatsapp_address(other) is None
    assert mask_phone("whatsapp:+5215512345678") == "whatsapp:+52*******5678"


# --------------------------------------------------------------------------- restart


def start_process(url: str, twilio: FakeTwilio, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        **twilio.env(),
        "DATABASE_URL": url,
        "REMINDER_POLL_SECONDS": "0.2",
        "REMINDER_DAY_BEFORE": "true",
        "REMINDER_HOURS_BEFORE": "2",
    }
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "actions.appointments.reminders"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition, timeout: float = 30) -> None:
    deadline = clock.monotonic() + timeout
    while not condition():
        assert clock.monotonic() < deadline, "timed out"
        clock.sleep(0.1)


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=15)


def test_reminders_survive_a_restart_of_the_sender(url, twilio, tmp_path):
    car = new_car(url)
    now = datetime.now(timezone.utc)
    yesterday = now - timedelta(days=1)
    first = add(url, car.stock_id, now + timedelta(minutes=90), yesterday, sender="whatsapp:+5215500000011")
    add(url, car.stock_id, now + timedelta(minutes=95), yesterday, status=CANCELLED, sender="whatsapp:+5215500000012")
    log = tmp_path / "reminders.log"

    process = start_process(url, twilio, log)
    wait_for(lambda: len(twilio.messages) == 1)
    assert twilio.messages[0]["To"] == "whatsapp:+5215500000011"
    assert stop(process) == 0 and "Recordatorios detenidos" in log.read_text()

    # while the sender is down, a visit is booked whose reminder is already due
    second = add(url, car.stock_id, now + timedelta(minutes=100), yesterday, sender="whatsapp:+5215500000013")
    process = start_process(url, twilio, log)
    try:
        wait_for(lambda: len(twilio.messages) == 2)
        clock.sleep(1)  # several more polls: nothing is sent twice
    finally:
        assert stop(process) == 0
    assert [m["To"] for m in twilio.messages] == ["whatsapp:+5215500000011", "whatsapp:+5215500000013"]
    with session_scope(url) as session:
        sent = {a.id: a.reminder_hours_before_sent_at for a in session.scalars(select(Appointment))}
    assert sent[first] and sent[second]


def test_a_visit_booked_in_conversation_is_reminded_on_whatsapp(servers, database_url, twilio):
    from tests.test_appointments import set_car, spoken, visit_day

    car = new_car(database_url, make="Chevrolet", model="Aveo", year=2020)
    sender = "whatsapp:+5215544440001"
    set_car(servers, sender, car.stock_id)
    day = visit_day()
    servers.say(sender, "quiero agendar una cita")
    servers.say(sender, f"{spoken(day)} a las 11")
    assert "agendada" in servers.say_text(sender, "Laura Jiménez")

    visit = datetime.combine(day, datetime.min.time().replace(hour=11), MX)
    send(twilio, database_url, visit - timedelta(hours=1, minutes=59))
    [reminder] = [m for m in twilio.messages if m["To"] == sender]
    assert "Hola Laura, te esperamos hoy a las 11:00 para ver el *Chevrolet Aveo 2020*" in reminder["Body"]
    assert reminder["From"] == FROM_NUMBER


def test_a_sender_killed_mid_send_neither_loses_nor_repeats_the_reminder(url, twilio, tmp_path):
    """SIGKILL while Twilio has the request: the claim expires and the restarted loop sends it,
    once; a reminder that went out before a kill is not sent again."""
    car = new_car(url)
    now = datetime.now(timezone.utc)
    yesterday = now - timedelta(days=1)
    add(url, car.stock_id, now + timedelta(minutes=90), yesterday, sender="whatsapp:+5215500000021")
    log = tmp_path / "reminders.log"
    process = start_process(url, twilio, log)
    wait_for(lambda: len(twilio.messages) == 1)  # sent and recorded before the kill
    twilio.hold_next = 1
    cut_off = add(url, car.stock_id, now + timedelta(minutes=95), yesterday, sender="whatsapp:+5215500000022")
    assert twilio.held.wait(30)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    with session_scope(url) as session:
        row = session.get(Appointment, cut_off)
        assert row.reminder_claimed_at and not row.reminder_hours_before_sent_at  # claimed, not sent

    process = start_process(url, twilio, log)
    try:
        clock.sleep(3)  # the claim may still be a live send: nothing yet
        assert len(twilio.messages) == 1
        wait_for(lambda: len(twilio.messages) == 2, timeout=CLAIM_EXPIRES.total_seconds() + 15)
        clock.sleep(1)
    finally:
        assert stop(process) == 0
    assert [m["To"] for m in twilio.messages] == ["whatsapp:+5215500000021", "whatsapp:+5215500000022"]
    with session_scope(url) as session:
        row = session.get(Appointment, cut_off)
        assert row.reminder_hours_before_sent_at and row.reminder_claimed_at is None
