"""The Rasa layer of MSAT: the feedback form's validation, saving the score, the follow-up."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.db import Rating, session_scope
from actions.feedback.msat import (
    _NUMBER,
    LOW_SCORE,
    MAX_TRIES,
    conversation_topics,
    parse_score,
    recently_rated,
    save_rating,
    thanks_for,
)
from actions.forms import since_opened
from settings import current as current_settings
from understanding.text import normalize

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
