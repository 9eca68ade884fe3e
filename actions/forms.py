"""What a form's own stretch of the conversation holds (rasa_sdk tracker events)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker


def since_opened(tracker: Tracker, form: str) -> List[Dict[str, Any]]:
    """The events after `form` last opened (its latest `active_loop` event); all of them if it never did."""
    events = tracker.events
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "active_loop" and events[index].get("name") == form:
            return events[index + 1 :]
    return list(events)
