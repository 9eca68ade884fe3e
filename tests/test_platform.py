"""The platform end to end: real Rasa server over HTTP, real action server, SQL tracker store."""

from __future__ import annotations

import requests
from sqlalchemy import create_engine, text


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
