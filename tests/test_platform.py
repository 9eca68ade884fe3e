"""The platform end to end: real Rasa server over HTTP, real action server, SQL tracker store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from settings import Settings
from tests.servers import ROOT


def test_action_server_answers_health(servers):
    assert requests.get(f"{servers.actions_url}/health", timeout=5).json()["status"] == "ok"


def test_greeting_introduces_the_assistant_in_spanish(servers):
    reply = servers.say_text("platform-greet", "Hola")
    assert "Kavak" in reply
    assert "¿Qué tipo de auto estás buscando?" in reply


def test_help_lists_what_the_assistant_does(servers):
    reply = servers.say_text("platform-help", "¿qué puedes hacer?")
    for capability in ("Buscar autos", "Financiamiento", "cita"):
        assert capability in reply


def test_bot_challenge_and_out_of_scope(servers):
    assert "asistente virtual" in servers.say_text("platform-bot", "¿eres un robot?")
    assert "Eso se sale" in servers.say_text("platform-oos", "cuéntame un chiste")


def test_typos_and_missing_accents_are_understood(servers):
    assert "Kavak" in servers.say_text("platform-typo", "buenas tardes")
    assert "Con gusto" in servers.say_text("platform-typo", "muchas grasias")


def test_conversation_survives_a_restart(servers, database_url):
    sender = "platform-restart"
    servers.say(sender, "Hola")
    servers.stop_rasa()

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type_name, intent_name FROM events WHERE sender_id = :s"), {"s": sender}
        ).all()
    assert ("user", "greet") in [tuple(row) for row in rows]

    servers.start_rasa()
    events = servers.tracker(sender)["events"]
    assert any(e["event"] == "user" and e.get("text") == "Hola" for e in events)
    assert "Con gusto" in servers.say_text(sender, "gracias")


def _stored_events(database_url: str, sender: str) -> list:
    with create_engine(database_url).connect() as connection:
        return connection.execute(
            text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).all()


def test_each_event_of_a_conversation_is_stored_once(servers, database_url):
    """The tracker kept in memory between turns (stores/tracker_store.py) saves only what is new."""
    sender = "platform-stored-once"
    messages = [
        "Hola",
        "Busco un auto económico familiar",
        "muéstrame más opciones",
        "dame más detalles del segundo",
        "¿tiene bluetooth?",
        "muchas gracias",
    ]
    replies = [reply["text"] for message in messages for reply in servers.say(sender, message)]

    rows = [(type_name, json.loads(data)) for type_name, data in _stored_events(database_url, sender)]
    assert [event["text"] for type_name, event in rows if type_name == "user"] == messages
    # The REST channel sends a bot message's paragraphs one by one.
    stored_replies = [part for type_name, event in rows if type_name == "bot" for part in event["text"].split("\n\n")]
    assert stored_replies == replies
    assert [type_name for type_name, _ in rows].count("session_started") == 1
    # Each event once: a repeated row (same data, same timestamp) is an event saved twice.
    data = [json.dumps(event, sort_keys=True) for _, event in rows]
    assert len(data) > 6 * 3 and len(set(data)) == len(data)


@pytest.mark.parametrize("turns_before", [1, 2])
def test_a_turn_written_by_another_server_is_not_missed(servers, database_url, turns_before):
    """Another Rasa server on the same database changes the conversation: this one sees it,
    whether it kept the tracker from the conversation's first turn or read it back later."""
    sender = f"platform-other-server-{turns_before}"
    assert "Kavak" in servers.say_text(sender, "Hola")
    if turns_before == 2:
        assert "Con gusto" in servers.say_text(sender, "gracias")
    # What another server would have stored: the customer picked the Versa 501201.
    event = {"event": "slot", "timestamp": time.time(), "name": "car_in_focus", "value": "501201"}
    with create_engine(database_url).begin() as connection:
        connection.execute(
            text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'slot', :t, :d)"),
            {"s": sender, "t": event["timestamp"], "d": json.dumps(event)},
        )
    reply = servers.say_text(sender, "¿cuántos kilómetros tiene?")
    assert "38,500" in reply


def _lock_store(kind: str) -> dict:
    """The settings of a lock store shared by several Rasa processes."""
    if kind == "sql":
        return {"LOCK_STORE_TYPE": "stores.lock_store.SQLLockStore"}
    if not os.environ.get("TEST_REDIS_HOST"):
        pytest.skip("no test Redis (make test-postgres starts one: scripts/services.sh)")
    return {
        "LOCK_STORE_TYPE": "redis",
        "REDIS_HOST": os.environ["TEST_REDIS_HOST"],
        "REDIS_PORT": os.environ.get("TEST_REDIS_PORT", "6379"),
    }


@pytest.mark.parametrize("lock_store", ["sql", "redis"])
def test_two_rasa_processes_serve_a_conversation_one_message_at_a_time(servers, database_url, tmp_path, lock_store):
    """SANIC_WORKERS=2 with a shared lock store (the SQL one of stores/lock_store.py, or Redis):
    a customer who sends several messages at once gets every answer, and each turn is
    processed whole before the next."""
    two = servers.sharing_actions(tmp_path, {"SANIC_WORKERS": "2", **_lock_store(lock_store)})
    two.start_rasa()
    try:
        with open(f"/proc/{two.rasa.pid}/task/{two.rasa.pid}/children") as handle:
            assert len(handle.read().split()) >= 2  # the worker processes
        sender = f"platform-two-workers-{lock_store}"
        assert "Kavak" in two.say_text(sender, "Hola")
        messages = [
            "Busco un auto económico familiar",
            "¿cuánto dura la garantía?",
            "¿eres un robot?",
            "muchas gracias",
        ]
        with ThreadPoolExecutor(len(messages)) as pool:
            replies = list(pool.map(lambda message: two.say_text(sender, message), messages))
        assert all(replies)
    finally:
        two.stop_rasa()

    rows = _stored_events(database_url, sender)
    turns = [json.loads(data) for type_name, data in rows if type_name in ("user", "action")]
    users = [i for i, event in enumerate(turns) if event["event"] == "user"]
    assert sorted(turns[i]["text"] for i in users) == sorted(["Hola", *messages])
    for previous, current in zip(users, users[1:]):  # the previous turn ended before this one began
        assert any(event.get("name") == "action_listen" for event in turns[previous:current])
    if lock_store == "sql":
        with create_engine(database_url).connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM rasa_lock_tickets")).scalar() == 0


# What each of the 20 customers says; every message goes to the other server (no stickiness).
TWO_SERVER_SCRIPT = [
    "Hola",
    "busco una camioneta automatica",
    "dame mas detalles del 1",
    "calcula el financiamiento con enganche de 20%",
    "mejor a 48 meses",
    "muchas gracias",
    "no, gracias",
    "5",
]


def test_twenty_customers_on_two_servers_keep_every_turn_once_and_in_order(servers, database_url, tmp_path):
    """Two Rasa servers on one database and lock store (Redis when there is one), 20 customers
    at once, each message to the other server: every conversation's events are stored complete,
    once, in order, each turn answered and ended before the next began."""
    lock_store = _lock_store("redis" if os.environ.get("TEST_REDIS_HOST") else "sql")
    pair = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        pair.append(servers.sharing_actions(tmp_path / name, lock_store))
        pair[-1].start_rasa()
    senders = [f"two-servers-{n}-{time.time_ns()}" for n in range(20)]

    def converse(number: int) -> list:
        return [
            pair[(number + turn) % 2].say_text(senders[number], message)
            for turn, message in enumerate(TWO_SERVER_SCRIPT)
        ]

    try:
        with ThreadPoolExecutor(len(senders)) as pool:
            conversations = list(pool.map(converse, range(len(senders))))
    finally:
        for server in pair:
            server.stop_rasa()
    assert all(all(replies) for replies in conversations)  # every turn answered
    for sender in senders:
        events = [json.loads(data) for _, data in _stored_events(database_url, sender)]
        users = [i for i, event in enumerate(events) if event["event"] == "user"]
        assert [events[i]["text"] for i in users] == TWO_SERVER_SCRIPT  # none lost or twice, in order
        for start, end in zip(users, [*users[1:], len(events)]):
            turn = events[start:end]
            assert any(event["event"] == "bot" for event in turn)
            assert turn[-1].get("name") == "action_listen"  # ended before the next began
        stamps = [event["timestamp"] for event in events]
        assert stamps == sorted(stamps)


def _run_in_rasa_env(script: str, *args: str) -> str:
    """Run a script with the Rasa server's Python (the stores run there); its last printed line."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "rasa" / "bin" / "python"), "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


# Six conversations' messages arrive at once at one process; prints how many were worked on together.
_MOST_AT_ONCE = """
import asyncio, sys
from stores.lock_store import SQLLockStore

store = SQLLockStore(url=sys.argv[1], turns_at_once=int(sys.argv[2]))
inside = most = 0

async def turn(conversation_id):
    global inside, most
    async with store.lock(conversation_id):
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.05)
        inside -= 1

async def main():
    await asyncio.gather(*(turn(f"conversation-{i}") for i in range(6)))

asyncio.run(main())
print(most)
"""


@pytest.mark.parametrize("turns_at_once", [1, 2])
def test_sql_lock_store_works_on_at_most_turns_at_once_messages_per_process(tmp_path, turns_at_once):
    printed = _run_in_rasa_env(_MOST_AT_ONCE, f"sqlite:///{tmp_path / 'locks.db'}", str(turns_at_once))
    assert int(printed) == turns_at_once


# A ticket left by a process that crashed mid-turn has expired: the next message goes ahead,
# and the end of its turn removes both tickets. Prints the tickets left.
_CRASHED_TICKET = """
import asyncio, sys, time
import sqlalchemy as sa
from stores.lock_store import SQLLockStore, tickets

store = SQLLockStore(url=sys.argv[1])
with store.engine.begin() as connection:
    connection.execute(tickets.insert().values(conversation_id="c", expires=time.time() - 1))
    connection.execute(tickets.insert().values(conversation_id="other", expires=time.time() + 60))

async def main():
    async with store.lock("c", wait_time_in_seconds=5):
        pass

asyncio.run(asyncio.wait_for(main(), 2))
with store.engine.connect() as connection:
    print(sorted(row.conversation_id for row in connection.execute(sa.select(tickets))))
"""


def test_sql_lock_store_goes_past_and_removes_a_crashed_process_ticket(tmp_path):
    assert _run_in_rasa_env(_CRASHED_TICKET, f"sqlite:///{tmp_path / 'locks.db'}") == "['other']"


# --- the configuration table ---------------------------------------------------------------

_PROJECT_CODE = ("actions", "channels", "stores", "understanding", "rasa_sdk_plugins")


def _readme_table() -> dict:
    """{setting: its default cell} of the README's configuration table."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]*) \|", table, flags=re.M))


def _spelled(default) -> str:
    """A default as the README writes it: 6.0 as 6, True as true."""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def test_the_readme_configuration_table_is_the_settings_module_with_its_defaults():
    table = _readme_table()
    assert list(table) == Settings.names(), "README rows and settings.py fields differ (or their order)"
    for name, cell in table.items():
        default = Settings.default_of(name)
        written = re.match(r"`([^`]*)`", cell)
        if default == "":
            assert not written, f"{name}: the README gives a default the code does not have"
        else:
            assert written and written.group(1) == _spelled(default), f"{name}: README says {cell}, code {default}"


def test_only_the_settings_module_reads_the_environment():
    readers = [
        str(path.relative_to(ROOT))
        for folder in _PROJECT_CODE
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"\bos\.environ\b|\bgetenv\(", path.read_text())
    ]
    assert readers == []
    for path in ("endpoints.yml", "credentials.yml"):
        assert set(re.findall(r"\$\{([A-Z0-9_]+)\}", (ROOT / path).read_text())) <= set(Settings.names())


def test_the_makefile_and_compose_do_not_repeat_the_defaults():
    makefile = (ROOT / "Makefile").read_text()
    compose = (ROOT / "docker-compose.yml").read_text()
    for name in Settings.names():
        assert not re.search(rf"^export {name}\b.*=", makefile, flags=re.M), name
        default = _spelled(Settings.default_of(name))
        if default:
            assert f"${{{name}:-{default}}}" not in compose, name
