"""Appointments, reminders and report at scale, in plain Python on a fresh SQLite file.

Prints: Spanish date parsing latency (cold and warm), car lookup in a 20,000-car
catalog, slot checks against 10,000 booked visits, one reminder poll, the report
over 50,000 tracker events, and (unless --no-servers) the turn latency of a
booking + MSAT conversation through the real Rasa and action servers.

    .venv/actions/bin/python bench/appointments.py [--cars 20000] [--visits 10000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from actions import db  # noqa: E402
from actions.appointments.reminders import LogSender, ReminderSettings, send_due  # noqa: E402
from actions.appointments.store import check_slot, find_cars  # noqa: E402
from actions.appointments.times import MONTHS, Settings, _parse_when, parse_when  # noqa: E402
from actions.db import Appointment, Car, get_engine, session_scope  # noqa: E402
from actions.report import build  # noqa: E402
from tests.servers import Servers  # noqa: E402

PHRASES = [
    "mañana a las 11",
    "el próximo martes a las 4 de la tarde",
    "15 de diciembre 10am",
    "el sábado a las 3 de la tarde",
    "pasado mañana a las 10",
    "el jueves a mediodía",
    "a las 12",
    "Juan Pérez",
    "quiero agendar una cita",
    "el 20 a las 11",
]
MODELS = [
    ("Nissan", "Versa"),
    ("Nissan", "Sentra"),
    ("KIA", "Rio"),
    ("Mazda", "CX-5"),
    ("Volkswagen", "Jetta"),
    ("Chevrolet", "Aveo"),
    ("Toyota", "Corolla"),
    ("Honda", "CR-V"),
    ("Ford", "Figo"),
    ("Seat", "Ibiza"),
]


def timed(fn: Callable[[], object], repeat: int) -> List[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def line(label: str, times: List[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    print(f"{label:<44} p50={statistics.median(times):7.2f} ms  p95={p95:7.2f} ms  (n={len(times)})")


def conversation(rounds: int) -> None:
    """Turn latency of a whole booking and survey, each round a new customer and car."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-appointments-servers-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    db.upgrade(url)
    with get_engine(url).begin() as connection:
        connection.execute(
            insert(Car),
            [
                {
                    "stock_id": str(700000 + i),
                    "make": "Nissan",
                    "model": "Versa",
                    "version": "",
                    "year": 2021,
                    "price": 340000,
                    "km": 41000,
                    "available": True,
                    "description": "",
                    "description_hash": "",
                    "updated_at": datetime.now(timezone.utc),
                }
                for i in range(rounds + 1)
            ],
        )
    servers = Servers(workdir, url).start()
    day = Settings.from_env().now().date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    script = [
        "quiero agendar una cita",
        f"el {day.day} de {MONTHS[day.month - 1]} a las 11",
        "Juan Pérez",
        "¿cuándo es mi cita?",
        "no, gracias",
        "5",
    ]
    times: List[float] = []
    by_message: dict = {m: [] for m in ["Hola"] + script}
    try:
        for i in range(rounds + 1):  # the first round warms up
            sender = f"bench-appointments-{i:06d}"
            start = time.perf_counter()
            servers.say(sender, "Hola")
            by_message["Hola"].append((time.perf_counter() - start) * 1000)
            servers.add_event(sender, {"event": "slot", "name": "car_in_focus", "value": str(700000 + i)})
            for message in script:
                start = time.perf_counter()
                servers.say(sender, message)
                if i:
                    times.append((time.perf_counter() - start) * 1000)
                    by_message[message].append(times[-1])
    finally:
        servers.stop()
    line(f"booking + MSAT turn, {rounds} customers", times)
    for message, values in by_message.items():
        line(f"  {message[:40]!r}", values)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cars", type=int, default=20_000)
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10, help="conversations through the servers")
    parser.add_argument("--no-servers", action="store_true", help="skip the conversation")
    args = parser.parse_args(argv)
    logging.getLogger("actions.appointments.reminders").setLevel(logging.WARNING)
    random.seed(7)
    settings = Settings.from_env()
    now = settings.now()

    start = time.perf_counter()
    parse_when("mañana a las 11", now)
    print(f"{'first date parse (dateparser warm-up)':<44} {1000 * (time.perf_counter() - start):7.1f} ms")
    uncached = _parse_when.__wrapped__
    line("parse_when, 10 phrases", [t for p in PHRASES for t in timed(lambda p=p: uncached(p, now, None), 20)])

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-appointments-')) / 'bench.db'}"
    db.upgrade(url)
    engine = get_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(Car),
            [
                {
                    "stock_id": str(100000 + i),
                    "make": make,
                    "model": f"{model}{'' if i < 500 else i % 300}",
                    "version": "",
                    "year": 2015 + i % 10,
                    "price": 200000 + i,
                    "km": 1000 * (i % 150),
                    "available": True,
                    "description": "",
                    "description_hash": "",
                    "updated_at": datetime.now(timezone.utc),
                }
                for i, (make, model) in ((i, MODELS[i % len(MODELS)]) for i in range(args.cars))
            ],
        )
        visits = []
        for i in range(args.visits):
            day = now + timedelta(days=random.randint(0, 30), hours=random.randint(-3, 3))
            visits.append(
                {
                    "sender_id": f"whatsapp:+52155{i:08d}",
                    "customer_name": "Juan Pérez",
                    "stock_id": str(100000 + random.randrange(args.cars)),
                    "scheduled_at": day.astimezone(timezone.utc).replace(tzinfo=None),
                    "status": random.choice(["booked"] * 8 + ["cancelled", "moved"]),
                    "created_at": (now - timedelta(days=2)).astimezone(timezone.utc).replace(tzinfo=None),
                    "updated_at": now.astimezone(timezone.utc).replace(tzinfo=None),
                }
            )
        connection.execute(insert(Appointment), visits)
    print(f"catalog of {args.cars} cars, {args.visits} visits in the next 30 days")

    with session_scope(url) as session:
        line("find_cars ('el nisan versa 2021')", timed(lambda: find_cars(session, "el nisan versa 2021"), 30))
        line("find_cars (stockId)", timed(lambda: find_cars(session, "el 100042"), 30))
        day = (now + timedelta(days=3)).date()
        line(
            "check_slot (hours + double booking)",
            timed(
                lambda: check_slot(
                    session,
                    "100042",
                    day,
                    now.time().replace(hour=11, minute=0, second=0, microsecond=0),
                    now,
                    settings,
                ),
                50,
            ),
        )

    reminder_settings = ReminderSettings.from_env()
    start = time.perf_counter()
    sent = send_due(LogSender(), url=url, settings=reminder_settings, appointment_settings=settings)
    elapsed = 1000 * (time.perf_counter() - start)
    print(f"{'reminder poll, first (sends what is due)':<44} {elapsed:7.1f} ms  ({sent} reminders)")
    line(
        "reminder poll, nothing due",
        timed(lambda: send_due(LogSender(), url=url, settings=reminder_settings, appointment_settings=settings), 10),
    )

    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        )
        names = ["greet", "search_cars", "ask_financing", "book_appointment", "thank"]
        connection.execute(
            text(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                "VALUES (:s, :k, :t, :i, :a, :d)"
            ),
            [
                {
                    "s": f"u{i % 5000}",
                    "k": "user" if i % 2 else "action",
                    "t": time.time(),
                    "i": random.choice(names) if i % 2 else None,
                    "a": None if i % 2 else "action_listen",
                    "d": json.dumps({}),
                }
                for i in range(50_000)
            ],
        )
    line("report over 50,000 events", timed(lambda: build(url), 5))
    if not args.no_servers:
        conversation(args.rounds)


if __name__ == "__main__":
    main()
