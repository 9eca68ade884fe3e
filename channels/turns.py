"""One customer turn through Rasa, bounded in time: the customer always gets an answer.

When the action server is down, a turn ends at once with no bot message; when it
hangs, Rasa waits for it for minutes. Either way the channel answers
UNAVAILABLE_REPLY ("dame un momento") within TURN_DEADLINE_SECONDS; a late turn
goes on in the background and is stored with the conversation as usual, so its
slots are there when the customer writes again. When the database cannot be
reached, the turn fails (it does not go on in an empty conversation kept in memory,
stores/tracker_store.py) and the customer gets the same answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, List

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from settings import current as current_settings
from stores.tracker_store import refuse_memory_fallback

logger = logging.getLogger(__name__)


async def answered(
    agent: Agent, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage, said: List
) -> bool:
    """Run the turn; False when it failed, outlived the deadline or said nothing (`said`: the
    collector's messages)."""
    refuse_memory_fallback(agent.tracker_store)
    turn = asyncio.ensure_future(on_new_message(message))
    try:
        await asyncio.wait_for(asyncio.shield(turn), current_settings().turn_deadline_seconds)
    except asyncio.TimeoutError:
        logger.warning("Turn of %s still running after the deadline: answered 'dame un momento'", message.sender_id)
        turn.add_done_callback(_log_failure)
        return False
    except Exception:  # logged in full, answered without internals
        logger.exception("Turn of %s failed", message.sender_id)
        return False
    if not said:
        logger.warning("Turn of %s said nothing (is the action server up?)", message.sender_id)
    return bool(said)


def _log_failure(turn: asyncio.Future) -> None:
    if not turn.cancelled() and turn.exception() is not None:
        logger.error("A late turn failed: %r", turn.exception())
