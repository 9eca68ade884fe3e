"""Retention: `make purge` forgets conversations, visits and handoffs older than DATA_RETENTION_DAYS."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from actions import purge
from actions.db import Appointment, Car, Handoff, Rating, session_scope, utcnow
from tests.test_appointments import new_car

DAY = 86_400


def copy_of(database_url: str, tmp_path) -> str:
    """A consistent copy of the test database (SQLite's backup API: the WAL included)."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("copies the session's SQLite database (the PostgreSQL pass keeps its own)")
    target = tmp_path / "copy.db"
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return f"sqlite:///{target}"


def senders(url: str) -> set:
    with session_scope(url) as session:
        return set(session.scalars(text("SELECT DISTINCT sender_id FROM events")))


def test_old_conversations_visits_and_handoffs_go_scores_stay_without_sender(servers, database_url, tmp_path):
    servers.say("purge-old", "hola, busco un sentra")
    servers.say("purge-recent", "hola")
    url = copy_of(database_url, tmp_path)
    now = utcnow()
    with session_scope(url) as session:
        session.execute(
            text("UPDATE events SET timestamp = timestamp - :age WHERE sender_id = 'purge-old'"), {"age": 400 * DAY}
        )
    car = new_car(url)
    with session_scope(url) as session:
        session.add_all(
            [
                Appointment(
                    sender_id="purge-old",
                    customer_name="Ana Vieja",
                    stock_id=car.stock_id,
                    scheduled_at=now - timedelta(days=400),
                ),
                Appointment(
                    sender_id="purge-recent",
                    customer_name="Luis Nuevo",
                    stock_id=car.stock_id,
                    scheduled_at=now + timedelta(days=2),
                ),
                Rating(sender_id="purge-old", score=4, topics="purge-prueba", created_at=now - timedelta(days=400)),
                Rating(sender_id="purge-recent", score=5, created_at=now),
                Handoff(sender_id="purge-old", reason="asked", created_at=now - timedelta(days=400)),
            ]
        )
    cars_before = _count(url, Car)

    result = purge.purge(url, days=365, now=now)

    assert "purge-old" not in senders(url) and "purge-recent" in senders(url)
    assert result.conversations >= 1 and result.events > 0
    with session_scope(url) as session:
        ours = Appointment.sender_id.in_(["purge-old", "purge-recent"])
        assert session.scalars(select(Appointment.customer_name).where(ours)).all() == ["Luis Nuevo"]
        assert session.scalars(
            select(Rating.sender_id).where(Rating.topics == "purge-prueba", Rating.score == 4)
        ).all() == [""]
        assert session.scalar(select(func.count()).select_from(Rating).where(Rating.sender_id == "purge-old")) == 0
        assert session.scalar(select(func.count()).select_from(Rating).where(Rating.sender_id == "purge-recent")) == 1
        assert session.scalar(select(func.count()).select_from(Handoff).where(Handoff.sender_id == "purge-old")) == 0
    assert _count(url, Car) == cars_before
    assert purge.purge(url, days=365, now=now).events == 0  # nothing twice


def test_zero_days_keeps_everything(servers, database_url, tmp_path, monkeypatch, capsys):
    servers.say("purge-kept", "hola")
    url = copy_of(database_url, tmp_path)
    with session_scope(url) as session:
        session.execute(text("UPDATE events SET timestamp = timestamp - :age"), {"age": 4000 * DAY})
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_RETENTION_DAYS", "0")
    assert purge.main([]) == 0
    assert "purge-kept" in senders(url) and "se conserva todo" in capsys.readouterr().out
    monkeypatch.setenv("DATA_RETENTION_DAYS", "365")
    assert purge.main([]) == 0
    assert "purge-kept" not in senders(url)


def test_a_bad_retention_setting_falls_back_to_a_year(monkeypatch):
    monkeypatch.setenv("DATA_RETENTION_DAYS", "un año")
    assert purge.retention_days() == 365


def _count(url: str, model) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model))
