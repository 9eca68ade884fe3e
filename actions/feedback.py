"""MSAT: the 1-5 satisfaction score asked when the customer closes the conversation.

Plain Python (parse a score, store it, pick the thanks) and a thin Rasa layer:
the form `feedback_form` with its single slot `msat_score` (its validation asks
the question), and the actions that save the score and answer the offer of a
human follow-up after a low score.

Settings (environment):
    MSAT_COOLDOWN_HOURS  24  (a sender who rated within this time is not asked again)
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.db import Rating, session_scope
from actions.forms import since_opened
from actions.report import topics_of
from settings import current as current_settings
from understanding.text import normalize, number_words

LOW_SCORE = 2  # scores up to this one get the apology and the follow-up offer
MAX_TRIES = 3  # answers that are not a score before the survey gives up

_WORDS = number_words(0, 10, skip={"un", "una"})  # "una estrella" is read on its own
_OUT_OF = re.compile(r"\s*(?:/|\bde\b|\bsobre\b)\s*(?:5|cinco)\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?|\b(?:%s)\b|\b(?:un|una)\s+(?:estrella|punto)\b" % "|".join(_WORDS))


def parse_score(text: str) -> Optional[int]:
    """1-5 from '5', 'cinco', '5 estrellas', '4/5', '⭐⭐⭐⭐'; None for '7', '4.5' or '3 o 4'."""
    norm = normalize(text)
    numbers = set()
    for match in _NUMBER.finditer(_OUT_OF.sub(" ", norm)):
        token = match.group(0)
        if token in _WORDS:
            numbers.add(float(_WORDS[token]))
        elif token[0].isdigit():
            numbers.add(float(token.replace(",", ".")))
        else:
            numbers.add(1.0)
    if not numbers:
        stars = text.count("⭐") + text.count("★")
        return stars if 1 <= stars <= 5 else None
    if len(numbers) != 1:
        return None
    value = numbers.pop()
    return int(value) if value.is_integer() and 1 <= value <= 5 else None


def recently_rated(session: Session, sender_id: str, now: datetime, hours: float) -> bool:
    """True when the sender gave a score within the last `hours`."""
    since = (now - timedelta(hours=hours)).astimezone(timezone.utc)
    return (
        session.execute(
            select(Rating.id).where(Rating.sender_id == sender_id, Rating.created_at >= since).limit(1)
        ).first()
        is not None
    )


def save_rating(session: Session, sender_id: str, score: int, topics: List[str]) -> Rating:
    """Store a 1-5 score with what the conversation was about (anything else is refused)."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ValueError(f"a score is 1 to 5, not {score!r}")
    rating = Rating(sender_id=sender_id, score=score, topics=",".join(topics)[:200])
    session.add(rating)
    session.flush()
    return rating


def thanks_for(score: int) -> str:
    """The response that answers a score (domain/feedback.yml): thanks, or for a low
    score an apology and an offer of a human follow-up."""
    return "utter_msat_low" if score <= LOW_SCORE else f"utter_msat_thanks_{score}"


def conversation_topics(events: List[Dict[str, Any]]) -> List[str]:
    """What a conversation was about, from its tracker events."""
    names = [
        (e.get("parse_data") or {}).get("intent", {}).get("name") if e.get("event") == "user" else e.get("name")
        for e in events
        if e.get("event") in ("user", "action")
    ]
    return topics_of(n for n in names if n)


# --------------------------------------------------------------------------- Rasa layer

FORM = "feedback_form"
# Besides anything with a number in it, these intents are taken as an answer.
# Other intents are left to the rules (a question gets its answer and the survey
# asks again).
ANSWER_INTENTS = {
    "give_rating",
    "inform_appointment",
    "nlu_fallback",
    "affirm",
    "deny",
    "goodbye",
    "thank",
}
DECLINE_INTENTS = {"deny", "goodbye", "thank"}


def _cooldown_hours() -> float:
    return current_settings().msat_cooldown_hours


def _tries(tracker: Tracker) -> int:
    """User messages since the survey started."""
    return sum(event.get("event") == "user" for event in since_opened(tracker, FORM))


class ValidateFeedbackForm(FormValidationAction):
    """Reads the score; 'no' or 'adiós' ends the survey without one."""

    def name(self) -> Text:
        return "validate_feedback_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        if tracker.get_slot("msat_score") is None:
            with session_scope() as session:
                if recently_rated(session, tracker.sender_id, datetime.now(timezone.utc), _cooldown_hours()):
                    return []
        return domain_slots

    async def extract_msat_score(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "msat_score":
            return {}
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if _NUMBER.search(normalize(text)) or "⭐" in text or intent in ANSWER_INTENTS:
            return {"msat_score": text}
        return {}

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[EventType]:
        """Asks for the score itself: the original's question when the survey opens, a
        shorter reminder of the scale after an answer that was not a score.

        Rasa lets the validation action ask (no `action_ask_msat_score` to call).
        """
        if "requested_slot" in tracker.slots_to_validate():
            return None  # validate_msat_score ended the survey (a "no", or too many tries)
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        missing = next((slot for slot in required if tracker.slots.get(slot) is None), None)
        if missing:
            dispatcher.utter_message(response="utter_ask_msat" if _tries(tracker) == 0 else "utter_ask_msat_again")
        return SlotSet("requested_slot", missing)

    def validate_msat_score(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        score = parse_score(str(value or ""))
        if score is not None:
            return {"msat_score": score}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if (intent in DECLINE_INTENTS and not _NUMBER.search(normalize(str(value)))) or (_tries(tracker) >= MAX_TRIES):
            return {"msat_score": None, "requested_slot": None}
        dispatcher.utter_message(response="utter_msat_invalid")
        return {"msat_score": None}


class ActionSaveRating(Action):
    """Stores the score and thanks; without a score it just says goodbye."""

    def name(self) -> Text:
        return "action_save_rating"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        score = tracker.get_slot("msat_score")
        if score is not None and parse_score(str(score)) is None:
            score = None  # not a 1-5 score (the form only sets those): nothing is stored
        if score is None:
            dispatcher.utter_message(response="utter_goodbye")
            return [SlotSet("msat_follow_up", None)]
        with session_scope() as session:
            rating = save_rating(session, tracker.sender_id, int(score), conversation_topics(tracker.events))
            rating_id = rating.id
        dispatcher.utter_message(response=thanks_for(int(score)))
        return [
            SlotSet("msat_score", None),
            SlotSet("msat_follow_up", float(rating_id) if int(score) <= LOW_SCORE else None),
        ]


class ActionAnswerFollowUp(Action):
    """'sí'/'no' after the survey: registers the follow-up a low score was offered."""

    def name(self) -> Text:
        return "action_answer_follow_up"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        rating_id = tracker.get_slot("msat_follow_up")
        accepted = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        if rating_id and accepted:
            with session_scope() as session:
                rating = session.get(Rating, int(rating_id))
                if rating is not None:
                    rating.follow_up_requested = True
            dispatcher.utter_message(
                text="¡Gracias! Un asesor de Kavak te escribirá por este medio en horario de atención para ayudarte 🙏"
            )
        elif rating_id:
            dispatcher.utter_message(response="utter_msat_no_follow_up")
        elif accepted:
            dispatcher.utter_message(response="utter_help")
        else:
            dispatcher.utter_message(response="utter_goodbye")
        return [SlotSet("msat_follow_up", None)]
