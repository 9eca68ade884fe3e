"""`make report`: MSAT, appointments and the funnel read from the tracker store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text

from actions import db
from actions.db import Appointment, Rating, get_engine, session_scope
from actions.feedback.msat import topics_of
from actions.report import build, render
from tests.test_appointments import new_car

ROOT = Path(__file__).resolve().parents[1]

# The columns of Rasa's SQLTrackerStore table, as `rasa run` creates it.
EVENTS = """CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),
action_name VARCHAR(255), data TEXT)"""


def test_topics_mapping_matches_name_patterns():
    assert topics_of(["search_cars", "action_show_financing_plan", "book_appointment", "faq_warranty"]) == [
        "busqueda",
        "financiamiento",
        "cita",
        "preguntas",
    ]
    assert topics_of(["greet", "utter_greet", None]) == []


def test_report_figures(tmp_path):
    url = f"sqlite:///{tmp_path / 'report.db'}"
    db.upgrade(url)
    assert "sin calificaciones" in render(build(url))  # works before Rasa made its table

    car = new_car(url)
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        for sender, score, follow_up in (("a", 5, False), ("b", 4, False), ("c", 1, True), ("d", 5, False)):
            session.add(Rating(sender_id=sender, score=score, topics="", follow_up_requested=follow_up))
        for sender, status in (("a", "booked"), ("b", "cancelled"), ("c", "moved"), ("c", "booked")):
            session.add(
                Appointment(
                    sender_id=sender, customer_name="Juan Pérez", stock_id=car.stock_id, scheduled_at=now, status=status
                )
            )
    events = [
        ("a", "user", "greet", None),
        ("a", "user", "search_cars", None),
        ("a", "action", None, "action_search_cars"),
        ("a", "user", "ask_financing", None),
        ("a", "action", None, "action_show_financing_plan"),
        ("b", "user", "search_cars", None),
        ("b", "action", None, "action_search_cars"),
        ("c", "user", "greet", None),
        ("d", "user", "ask_financing", None),
        ("d", "action", None, "action_show_financing_plan"),
        ("bot-only", "action", None, "action_session_start"),
    ]
    with get_engine(url).begin() as connection:
        connection.execute(text(EVENTS))
        for sender, kind, intent, action in events:
            connection.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                    "VALUES (:s, :k, :t, :i, :a, :d)"
                ),
                {"s": sender, "k": kind, "t": now.timestamp(), "i": intent, "a": action, "d": json.dumps({})},
            )

    report = build(url)
    assert report.msat_average == 3.75 and report.ratings == {5: 2, 4: 1, 1: 1}
    assert report.follow_ups == 1
    assert report.appointments == {"booked": 2, "cancelled": 1, "moved": 1}
    assert report.conversations == 4
    assert report.funnel == {"búsquedas": 2, "planes de financiamiento": 2}
    assert report.booked_conversations == 3
    assert build(url, since=now + timedelta(hours=1)).conversations == 0

    env = {**os.environ, "DATABASE_URL": url}
    output = subprocess.run(
        [sys.executable, "-m", "actions.report"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "promedio: 3.75 de 5 (4 calificaciones)" in output
    assert "canceladas" in output and "conversaciones" in output and "búsquedas" in output


def test_report_reads_real_conversations(servers, database_url):
    servers.say("report-5215533330001", "quiero agendar una cita")
    report = build(database_url)
    assert report.conversations >= 1
    assert "Embudo" in render(report)


def test_report_counts_handoffs_their_reasons_and_the_wait_for_a_first_reply(tmp_path):
    url = f"sqlite:///{tmp_path / 'handoffs.db'}"
    db.upgrade(url)
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        for reason, waited_min, ending in (("asked", 4, "staff"), ("asked", 10, None), ("offered", None, "timeout")):
            session.add(
                db.Handoff(
                    sender_id=f"h-{reason}-{waited_min}",
                    reason=reason,
                    status="closed" if ending else "open",
                    created_at=now - timedelta(hours=1),
                    first_reply_at=now - timedelta(hours=1) + timedelta(minutes=waited_min) if waited_min else None,
                    closed_reason=ending,
                )
            )
        session.add(db.OptOut(sender_id="whatsapp:+5215500000001"))
    report = build(url)
    assert report.handoffs == {"asked": 2, "offered": 1}
    assert report.handoff_endings == {"staff": 1, "open": 1, "timeout": 1}
    assert sorted(round(m) for m in report.first_replies_min) == [4, 10]
    output = render(report)
    assert "primera respuesta del asesor: mediana 7 min, máx. 10 min (2 respondidas)" in output
    assert "aceptó la oferta del asistente" in output and "números dados de baja (BAJA)" in output
