"""The Rasa layer of answers beyond the catalog: FAQ sections and the LLM fallback."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.financing.plan import describe_minimum_down
from actions.formatting import split_message
from actions.knowledge import base as knowledge
from actions.knowledge import llm
from actions.knowledge.base import faq_answer
from actions.knowledge.llm import (
    PASSAGES_IN_PROMPT,
    ROUTED_INTENTS,
    Settings,
    build_messages,
    describe_car,
    describe_filters,
    focus_price,
    offline_answer,
    recent_turns,
    safe_answer,
)
from actions.texts import say
from understanding.cues import MIN_DOWN_ASKED, is_manipulation
from understanding.text import normalize

logger = logging.getLogger(__name__)


class ActionAnswerFaq(Action):
    """Answer a FAQ intent with its knowledge-base section; inside a form, the form re-asks."""

    def name(self) -> str:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = faq_answer(intent)
        if intent == "faq_financing_requirements" and MIN_DOWN_ASKED.search(
            normalize(tracker.latest_message.get("text") or "")
        ):
            answer = describe_minimum_down(tracker.get_slot("financing_price"))
        if answer is None:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(text=answer)
        if not tracker.active_loop:
            dispatcher.utter_message(response="utter_faq_followup")
        return []


def misunderstood_last_time(events: List[Dict[str, Any]]) -> bool:
    """Whether the assistant's answer to the message before this one was "no te entendí"."""
    users = 0
    for event in reversed(events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                return False
        elif users == 1 and event.get("event") == "bot" and event.get("text") == say("utter_default"):
            return True
    return False


class ActionLLMFallback(Action):
    """Answer what the rules don't cover: LLM when available, knowledge base otherwise."""

    def name(self) -> str:
        return "action_llm_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        # Like Rasa's default fallback, a core fallback leaves no trace in the dialogue.
        events = [] if intent in ROUTED_INTENTS else [UserUtteranceReverted()]
        question = (tracker.latest_message.get("text") or "").strip()
        if not question:
            dispatcher.utter_message(response="utter_default")
            return events
        if is_manipulation(question):
            dispatcher.utter_message(response="utter_refuse_manipulation")
            return events

        settings = Settings.from_env()
        question = question[: settings.max_question_chars]
        hits = await _in_thread(knowledge.retrieve, question, PASSAGES_IN_PROMPT, default=[])
        answer = await self._ask_model(question, hits, tracker, settings)
        if answer is not None:  # the model already steers back (rule 5 of the prompt)
            for chunk in split_message(answer):
                dispatcher.utter_message(text=chunk)
            return events
        passage = offline_answer(hits)
        if passage is None and intent == "nlu_fallback" and misunderstood_last_time(tracker.events):
            return events + [FollowupAction("action_offer_handoff")]  # a person, after two in a row
        if passage is None:
            dispatcher.utter_message(
                response="utter_default" if intent == "nlu_fallback" else "utter_knowledge_unknown"
            )
            return events
        dispatcher.utter_message(text=passage)
        if not tracker.active_loop:
            dispatcher.utter_message(response="utter_faq_followup")
        return events

    @staticmethod
    async def _ask_model(
        question: str, hits: List[knowledge.Hit], tracker: Tracker, settings: Settings
    ) -> Optional[str]:
        if not settings.api_key:
            return None
        car = await _in_thread(describe_car, tracker.get_slot("car_in_focus"), default=None)
        messages = build_messages(
            question,
            [hit.passage for hit in hits],
            car=car,
            filters=describe_filters(tracker.get_slot("search_filters")),
            turns=recent_turns(tracker.events),
        )
        answer = await llm.client.complete(messages, settings, tracker.sender_id)
        if answer is None:
            return None
        # Only the car in focus's own price may be quoted; without one, no price at all.
        price = await _in_thread(focus_price, tracker.get_slot("car_in_focus"), default=None)
        return safe_answer(answer, {price} if price else set())


async def _in_thread(function, *args, default):
    """Run blocking work (embeddings, database) off the event loop; `default` if it fails."""
    try:
        return await asyncio.to_thread(function, *args)
    except Exception:  # the conversation goes on without this piece of context
        logger.exception("%s failed in the LLM fallback", function.__name__)
        return default
