"""The REST channel for testers and tools, closed unless it is given a token.

Registered in credentials.yml as `channels.rest.TokenRestInput`; serves
POST /webhooks/rest/webhook {"sender": "...", "message": "..."} as Rasa's own REST
channel does, with what a public server needs:

- `Authorization: Bearer <REST_API_TOKEN>` on every request; without REST_API_TOKEN
  the channel answers 403 to everyone (customers come through WhatsApp only);
- sender ids that look like a WhatsApp address or a phone number are refused (400):
  nobody can speak as a WhatsApp customer through REST;
- the caller's `input_channel` and `metadata` are ignored;
- a message longer than MESSAGE_MAX_CHARS is not processed: the reply says so;
- at most REST_RATE_LIMIT messages a minute per sender (429 beyond).
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections import OrderedDict, deque
from typing import Any, Awaitable, Callable, Deque, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.turns import answered
from channels.whatsapp_text import LONG_MESSAGE_REPLY, UNAVAILABLE_REPLY, message_max_chars
from settings import current as current_settings

logger = logging.getLogger(__name__)

_SENDER = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{7,}")


def looks_like_a_customer(sender: str) -> bool:
    """A WhatsApp address or a phone number: only Twilio may speak as those."""
    return "whatsapp" in sender.lower() or bool(_PHONE_LIKE.fullmatch(sender)) or sender.lstrip("+").isdigit()


class RateLimiter:
    """At most `limit` events a minute per key, in memory, for the last `keys` keys."""

    def __init__(self, limit: int, keys: int = 10_000) -> None:
        self.limit, self.keys = limit, keys
        self.seen: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def allow(self, key: str, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        times = self.seen.pop(key, deque())
        while times and now - times[0] > 60:
            times.popleft()
        self.seen[key] = times
        while len(self.seen) > self.keys:
            self.seen.popitem(last=False)
        if self.limit and len(times) >= self.limit:
            return False
        times.append(now)
        return True


class TokenRestInput(InputChannel):
    """Rasa's REST channel behind a bearer token, for `make shell`-like tools, tests and benchmarks."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        given = current_settings()  # settings.py: credentials.yml names the channel only
        return cls(given.rest_api_token, given.rest_rate_limit)

    def __init__(self, token: Text, rate_limit: int) -> None:
        self.token = token
        self.limiter = RateLimiter(rate_limit)
        if not token:
            logger.info("REST channel closed: set REST_API_TOKEN to use /webhooks/rest/webhook")

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("Authorization", "")
        return bool(self.token) and hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("token_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.token:
                return response.json({"error": "REST channel closed"}, status=403)
            if not self._authorised(request):
                return response.json({"error": "missing or wrong bearer token"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not _SENDER.fullmatch(sender) or looks_like_a_customer(sender):
                return response.json(
                    {"error": "sender must be 1-64 letters, digits or _.@- and not a phone"}, status=400
                )
            if not isinstance(text, str):
                return response.json({"error": "message must be text"}, status=400)
            if not self.limiter.allow(sender):
                return response.json({"error": "too many messages from this sender"}, status=429)
            if len(text) > message_max_chars():
                return response.json([{"recipient_id": sender, "text": LONG_MESSAGE_REPLY}])
            collector = CollectingOutputChannel()
            # The caller's input_channel and metadata are never trusted.
            message = UserMessage(text, collector, sender, input_channel=self.name(), metadata=None)
            if not await answered(request.app.ctx.agent, on_new_message, message, collector.messages):
                return response.json([{"recipient_id": sender, "text": UNAVAILABLE_REPLY}])
            return response.json(collector.messages)

        return webhook
