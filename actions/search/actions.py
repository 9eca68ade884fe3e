"""Rasa actions of the car search: a thin layer over `actions.search`.

Each action reads the search slots, calls the matching `*_turn` function with
the raw text of the last message, sends the reply and sets the slots it returns.
A search run while a form asks for something leaves that form (`actions.forms`);
details and questions about a car are answered and the form asks again.
"""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from typing import Any, Callable, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog.index import CatalogIndex, catalog
from actions.forms import leave_form
from actions.search import turn as search

logger = logging.getLogger(__name__)

Turn = Callable[[str, search.State, CatalogIndex], search.Reply]


def state_from(tracker: Tracker) -> search.State:
    """The search state kept in the conversation's slots."""
    filters = tracker.get_slot("search_filters")
    return search.State(
        filters=filters if isinstance(filters, dict) else {},
        shown=list(tracker.get_slot("search_shown") or []),
        page=list(tracker.get_slot("search_page") or []),
        relax=tracker.get_slot("search_relax"),
        focus=tracker.get_slot("car_in_focus"),
    )


class _SearchAction(Action, metaclass=ABCMeta):
    """Run one turn function and relay its reply; never let an error end the conversation.

    Abstract, so rasa-sdk registers only the concrete actions below.
    """

    action_name = ""
    leaves_forms = False  # a switch to search, not a question the form can resume after

    @staticmethod
    @abstractmethod
    def turn(text: str, state: search.State, index: CatalogIndex) -> search.Reply:
        """The search function this action runs."""

    def name(self) -> Text:
        return self.action_name

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        text = tracker.latest_message.get("text") or ""
        try:
            reply = type(self).turn(text, state_from(tracker), catalog())
        except Exception:  # a broken catalog must not break the conversation
            logger.exception("%s falló (mensaje de %d caracteres)", self.action_name, len(text))
            dispatcher.utter_message(response="utter_search_unavailable")
            return []
        left = leave_form(tracker, dispatcher) if self.leaves_forms else []
        for message in reply.messages:
            dispatcher.utter_message(text=message)
        return left + [SlotSet(slot, value) for slot, value in reply.slots.items()]


def _search_action(action_name: str, turn: Turn, leaves_forms: bool = True) -> type:
    """The concrete action `action_name` that runs `turn` ("action_car_details" -> ActionCarDetails)."""
    class_name = "".join(part.title() for part in action_name.split("_"))
    namespace = {
        "action_name": action_name,
        "turn": staticmethod(turn),
        "leaves_forms": leaves_forms,
        "__module__": __name__,
    }
    return type(class_name, (_SearchAction,), namespace)


ActionSearchCars = _search_action("action_search_cars", search.search_turn)
ActionMoreResults = _search_action("action_more_results", search.more_turn)
ActionCarDetails = _search_action("action_car_details", search.details_turn, leaves_forms=False)
ActionCarFeature = _search_action("action_car_feature", search.feature_turn, leaves_forms=False)
ActionCompareCars = _search_action("action_compare_cars", search.compare_turn)
ActionResetFilters = _search_action("action_reset_filters", lambda text, state, index: search.reset_turn())
ActionSearchAffirm = _search_action("action_search_affirm", lambda text, state, index: search.affirm_turn(state, index))
