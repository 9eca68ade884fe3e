"""MSAT: the closing survey, its scores and what is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.db import Rating, session_scope
from actions.feedback.msat import conversation_topics, parse_score, thanks_for
from actions.texts import responses

RESPONSES = responses()
ASK, ASK_AGAIN = RESPONSES["utter_ask_msat"], RESPONSES["utter_ask_msat_again"]
INVALID, LOW = RESPONSES["utter_msat_invalid"], RESPONSES["utter_msat_low"]

SCALE = (
    "¿Podrías calificar tu experiencia con nuestro asistente del 1 al 5, donde:\n"
    "1 = Muy insatisfecho\n2 = Insatisfecho\n3 = Neutral\n4 = Satisfecho\n5 = Muy satisfecho\n\n"
    "Responde solo con el número de tu calificación."
)


@pytest.mark.parametrize(
    "text, score",
    [
        ("5", 5),
        ("cinco", 5),
        ("Cinco!", 5),
        ("5 estrellas", 5),
        ("le doy un 4", 4),
        ("4/5", 4),
        ("3 de 5", 3),
        ("⭐⭐", 2),
        ("una estrella", 1),
        ("1", 1),
        ("7", None),
        ("10", None),
        ("0", None),
        ("4.5", None),
        ("3 o 4", None),
        ("no", None),
        ("excelente", None),
    ],
)
def test_scores(text, score):
    assert parse_score(text) == score


def test_the_question_is_the_original_one():
    assert SCALE in ASK and ASK.startswith("¡Gracias por tu interés!")
    assert RESPONSES[thanks_for(5)].startswith("¡Gracias por tu excelente calificación! 🙏")
    assert thanks_for(3) == "utter_msat_thanks_3" and thanks_for(2) == "utter_msat_low" == thanks_for(1)
    assert "asesor" in LOW and "Lamentamos" in LOW


def test_topics_come_from_the_conversation_events():
    events = [
        {"event": "user", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "action", "name": "action_search_cars"},
        {"event": "user", "parse_data": {"intent": {"name": "book_appointment"}}},
        {"event": "action", "name": "appointment_form"},
    ]
    assert conversation_topics(events) == ["busqueda", "cita"]
    assert conversation_topics([{"event": "user", "parse_data": {"intent": {"name": "greet"}}}]) == []


def ratings_of(url: str, sender: str) -> list:
    with session_scope(url) as session:
        return list(session.scalars(select(Rating).where(Rating.sender_id == sender)))


def test_no_thanks_asks_for_the_score_and_a_valid_one_is_stored(servers, database_url):
    sender = "msat-5215522220001"
    servers.say(sender, "quiero agendar una cita")
    servers.say(sender, "no")  # gives up booking
    reply = servers.say_text(sender, "No, gracias")
    assert reply.startswith("¡Gracias por tu interés!") and SCALE in reply

    reply = servers.say_text(sender, "7")
    assert INVALID in reply and ASK_AGAIN in reply and ratings_of(database_url, sender) == []

    reply = servers.say_text(sender, "cinco")
    assert "¡Gracias por tu excelente calificación! 🙏" in reply
    assert "gran experiencia con nuestro asistente" in reply
    [rating] = ratings_of(database_url, sender)
    assert (rating.score, rating.topics, rating.follow_up_requested) == (5, "cita", False)
    assert rating.created_at is not None

    # already rated: a later goodbye does not ask again
    reply = servers.say_text(sender, "adiós")
    assert "Gracias por escribirnos" in reply and "calificar" not in reply
    assert len(ratings_of(database_url, sender)) == 1


@pytest.mark.parametrize(
    "closing, answer, score",
    [
        ("eso es todo", "5 estrellas", 5),
        ("adiós", "4", 4),
    ],
)
def test_other_closings_and_answers(servers, database_url, closing, answer, score):
    sender = f"msat-52155222200{score}9"
    servers.say(sender, "Hola")
    assert SCALE in servers.say_text(sender, closing)
    assert "Gracias por tu" in servers.say_text(sender, answer)
    assert [r.score for r in ratings_of(database_url, sender)] == [score]


def test_a_low_score_gets_an_apology_and_a_human_follow_up(servers, database_url):
    sender = "msat-5215522220002"
    servers.say(sender, "Hola")
    servers.say(sender, "adiós")
    reply = servers.say_text(sender, "1")
    assert "Lamentamos" in reply and "asesor" in reply
    assert "te escribirá" in servers.say_text(sender, "sí")
    [rating] = ratings_of(database_url, sender)
    assert rating.score == 1 and rating.follow_up_requested is True


def test_declining_the_survey_just_says_goodbye(servers, database_url):
    sender = "msat-5215522220003"
    servers.say(sender, "Hola")
    assert SCALE in servers.say_text(sender, "eso es todo")
    assert "Gracias por escribirnos" in servers.say_text(sender, "no")
    assert ratings_of(database_url, sender) == []
    assert servers.tracker(sender)["slots"]["msat_score"] is None


def test_a_question_during_the_survey_is_answered_and_the_survey_goes_on(servers, database_url):
    sender = "msat-5215522220004"
    servers.say(sender, "Hola")
    assert SCALE in servers.say_text(sender, "adiós")
    reply = servers.say_text(sender, "¿eres un robot?")
    assert "asistente virtual" in reply and ASK_AGAIN in reply and INVALID not in reply
    assert "Gracias por tu calificación" in servers.say_text(sender, "3")
    assert [r.score for r in ratings_of(database_url, sender)] == [3]
