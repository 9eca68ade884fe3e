"""The Rasa layer of actions/privacy/rights.py: BAJA / ALTA, "¿qué datos tienen de mí?" and
"borra mis datos" (asked to confirm first; data/rules/privacy.yml). Each leaves any form."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, Restarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.appointments.times import Settings
from actions.db import session_scope
from actions.forms import leave_form
from actions.knowledge.base import kept_for
from actions.privacy import DELETE_MY_DATA_ACTION
from actions.privacy.rights import delete_customer, kept_about, kept_lines, opt_in, opt_out
from settings import current as current_settings


class ActionOptOut(Action):
    """BAJA: no more messages started by the business (reminders); the chat still answers."""

    def name(self) -> Text:
        return "action_opt_out"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = leave_form(tracker, dispatcher)
        with session_scope() as session:
            opt_out(session, tracker.sender_id)
        dispatcher.utter_message(response="utter_opted_out")
        return events


class ActionOptIn(Action):
    """ALTA: messages started by the business again."""

    def name(self) -> Text:
        return "action_opt_in"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = leave_form(tracker, dispatcher)
        with session_scope() as session:
            opt_in(session, tracker.sender_id)
        dispatcher.utter_message(response="utter_opted_in")
        return events


class ActionMyData(Action):
    """What is stored for this number, and for how long."""

    def name(self) -> Text:
        return "action_my_data"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = leave_form(tracker, dispatcher)
        with session_scope() as session:
            kept = kept_about(session, tracker.sender_id, Settings.from_env())
        given = current_settings()
        dispatcher.utter_message(
            response="utter_my_data",
            details="\n".join(kept_lines(kept)),
            kept=kept_for(given.data_retention_days),
            url=given.privacy_notice_url,
        )
        return events


class ActionConfirmDataDeletion(Action):
    """ "borra mis datos": say what goes and ask for a yes first."""

    def name(self) -> Text:
        return "action_confirm_data_deletion"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = leave_form(tracker, dispatcher)
        dispatcher.utter_message(response="utter_confirm_data_deletion")
        return events


class ActionDeleteMyData(Action):
    """The yes: delete in one transaction, then start the conversation over (slots included)."""

    def name(self) -> Text:
        return DELETE_MY_DATA_ACTION

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        with session_scope() as session:
            delete_customer(session, tracker.sender_id)
        dispatcher.utter_message(response="utter_data_deleted")
        return [Restarted()]
