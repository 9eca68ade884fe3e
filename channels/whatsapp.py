"""WhatsApp through Twilio: a signed, idempotent webhook that answers in its own TwiML.

Registered in credentials.yml as `channels.whatsapp.WhatsAppInput`; serves
POST /webhooks/twilio/webhook. For each message Twilio posts:

1. A body over MAX_BODY_BYTES (16 KB; Twilio's forms are a few hundred bytes) gets 413
   unread; `X-Twilio-Signature` must match (RequestValidator with TWILIO_AUTH_TOKEN,
   against TWILIO_WEBHOOK_URL, which production must set, or else the request URL):
   otherwise 403, nothing processed. The MessageSid must have Twilio's form
   (SM/MM + 32 hex digits) and, when TWILIO_ACCOUNT_SID is set, the AccountSid must be it:
   a signed form replayed with its fields run together gets 400/403.
2. The MessageSid is claimed in `processed_messages`: a retry gets an empty TwiML.
3. A sender over WHATSAPP_RATE_LIMIT messages a minute is told once to slow down.
4. Media-only messages and locations get a polite request for text.
5. "1", "2"... after a turn with buttons becomes that button's payload; a text over
   MESSAGE_MAX_CHARS is not processed, the customer is asked for a shorter one.
6. The bot's messages come back as one <Message> each, split to 1600 characters.

The conversation id is the WhatsApp address (`whatsapp:+52...`); logs mask it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from channels.holds import Holds
from channels.message_log import MessageLog
from channels.turns import answered
from channels.whatsapp_text import (
    ERROR_REPLY,
    LONG_MESSAGE_REPLY,
    MEDIA_REPLY,
    RATE_LIMIT_REPLY,
    UNAVAILABLE_REPLY,
    choice_payload,
    message_buttons,
    message_max_chars,
    option_number,
    render,
)
from settings import current as current_settings
from understanding.text import mask_phone

logger = logging.getLogger(__name__)

RATE_WINDOW = timedelta(minutes=1)
MAX_BODY_BYTES = 16 * 1024
MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}")


def _form(request: Request) -> RequestParameters:
    """Twilio's form fields with the blank ones kept: they are signed too (a photo has an empty Body)."""
    if not hasattr(request.ctx, "twilio_form"):
        request.ctx.twilio_form = RequestParameters(
            parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        )
    return request.ctx.twilio_form


class WhatsAppCollector(OutputChannel):
    """Keeps the bot's messages of one turn whole (text, buttons, image) for the TwiML reply."""

    def __init__(self) -> None:
        self.messages: List[Dict[Text, Any]] = []

    @classmethod
    def name(cls) -> Text:
        """Also the `channel:` of WhatsApp-only response variations in the domain."""
        return "whatsapp"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.messages.append(dict(message))


class WhatsAppInput(InputChannel):
    """Twilio WhatsApp webhook: signature check, retries, rate limit, TwiML replies."""

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    def url_prefix(self) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        given = current_settings()  # settings.py: credentials.yml names the channel only
        return cls(
            auth_token=given.twilio_auth_token,
            webhook_url=given.twilio_webhook_url,
            validate_signature=given.twilio_validate_signature,
            rate_limit=given.whatsapp_rate_limit,
            database_url=given.database_url,
            account_sid=given.twilio_account_sid,
        )

    def __init__(
        self,
        auth_token: Text,
        webhook_url: Text,
        validate_signature: bool,
        rate_limit: int,
        database_url: Text,
        account_sid: Text = "",
    ) -> None:
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.account_sid = account_sid
        self.webhook_url = webhook_url
        self.validate_signature = validate_signature
        self.rate_limit = rate_limit
        # A claim its process never answered, past any turn's deadline, is a crash's.
        stale = timedelta(seconds=current_settings().turn_deadline_seconds + 10)
        self.log = MessageLog(database_url, stale_after=stale)
        self.holds = Holds(database_url, timedelta(minutes=current_settings().handoff_timeout_minutes))
        if not validate_signature:
            logger.warning(
                "!!! TWILIO_VALIDATE_SIGNATURE=false: the WhatsApp webhook accepts UNSIGNED "
                "requests. Anyone who finds the URL can talk as any customer. "
                "Local development only; never in production. !!!"
            )
        elif not auth_token:
            logger.error(
                "TWILIO_AUTH_TOKEN is empty: every request to /webhooks/twilio/webhook "
                "will be rejected with 403 until it is set."
            )
        elif not webhook_url:
            logger.warning(
                "!!! TWILIO_WEBHOOK_URL is not set: signatures are checked against the URL each "
                "request names (its Host header). In production set it to the exact public URL "
                "configured in Twilio. !!!"
            )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("whatsapp_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.text("Request too large", status=413)
            if not self._is_signed(request):
                logger.warning("WhatsApp webhook: missing or invalid X-Twilio-Signature, rejected (403)")
                return response.text("Invalid Twilio signature", status=403)
            form = _form(request)
            sender = form.get("From")
            message_sid = form.get("MessageSid") or form.get("SmsMessageSid")
            if not sender or not message_sid:
                return response.text("From and MessageSid are required", status=400)
            if not MESSAGE_SID.fullmatch(message_sid):
                logger.warning("WhatsApp webhook: MessageSid not in Twilio's form, rejected (400)")
                return response.text("Invalid MessageSid", status=400)
            if self.account_sid and not hmac.compare_digest(form.get("AccountSid") or "", self.account_sid):
                logger.warning("WhatsApp webhook: AccountSid of another account, rejected (403)")
                return response.text("Wrong account", status=403)
            masked = mask_phone(sender)
            try:
                recent = await asyncio.to_thread(self.log.claim, message_sid, sender, RATE_WINDOW)
            except SQLAlchemyError:  # the database is unreachable: no turn can run or be kept
                logger.exception("WhatsApp %s from %s: message log unreachable, 'un momento'", message_sid, masked)
                return _twiml([{"body": UNAVAILABLE_REPLY, "media": None}])
            if recent is None:
                logger.info("WhatsApp %s from %s: retry, already handled", message_sid, masked)
                return _twiml([])
            try:
                replies = await self._handle(request, sender, message_sid, recent, on_new_message)
            except Exception:
                logger.exception("WhatsApp %s from %s: failed, answered with an apology", message_sid, masked)
                with contextlib.suppress(SQLAlchemyError):  # else the claim goes stale: a retry is answered
                    await asyncio.to_thread(self.log.release, message_sid)
                return _twiml([{"body": ERROR_REPLY, "media": None}])
            try:
                await asyncio.to_thread(self.log.answered, message_sid)
            except SQLAlchemyError:  # the replies go out all the same; Twilio does not retry a 200
                logger.exception("WhatsApp %s from %s: could not record the answer", message_sid, masked)
            return _twiml(replies)

        return webhook

    def _is_signed(self, request: Request) -> bool:
        if not self.validate_signature:
            logger.warning("WhatsApp webhook: signature NOT checked (TWILIO_VALIDATE_SIGNATURE=false)")
            return True
        signature = request.headers.get("X-Twilio-Signature")
        if not signature or self.validator is None:
            return False
        return self.validator.validate(self.webhook_url or request.url, _form(request), signature)

    async def _handle(
        self,
        request: Request,
        sender: Text,
        message_sid: Text,
        recent: int,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> List[Dict[Text, Optional[Text]]]:
        """The WhatsApp messages answering one claimed message, the sender's `recent`-th in a minute."""
        masked = mask_phone(sender)
        if self.rate_limit and recent > self.rate_limit:
            logger.warning("WhatsApp %s from %s: rate limited (%d in a minute)", message_sid, masked, recent)
            # One polite notice per burst; further excess is acknowledged silently.
            return [{"body": RATE_LIMIT_REPLY, "media": None}] if recent == self.rate_limit + 1 else []

        form = _form(request)
        text = (form.get("ButtonPayload") or form.get("Body") or "").strip()
        shown = text or ("(ubicación)" if form.get("Latitude") else "(foto o archivo, sin texto)")
        hold = await asyncio.to_thread(self.holds.check, sender, shown)
        said = [{"body": hold.reply, "media": None}] if hold.reply else []
        if hold.held:  # a person answers this customer (channels/holds.py)
            logger.info("WhatsApp %s from %s: held for staff", message_sid, masked)
            return said
        if not text or form.get("Latitude"):
            logger.info("WhatsApp %s from %s: media or location only, asked for text", message_sid, masked)
            return [{"body": MEDIA_REPLY, "media": None}]

        if len(text) > message_max_chars():
            logger.info(
                "WhatsApp %s from %s: %d characters, asked for a shorter message", message_sid, masked, len(text)
            )
            return [{"body": LONG_MESSAGE_REPLY, "media": None}]

        number = option_number(text)
        if number is not None:
            text = choice_payload(number, await self._last_turn_buttons(request, sender)) or text

        collector = WhatsAppCollector()
        message = UserMessage(text, collector, sender, input_channel=self.name(), metadata=self.get_metadata(request))
        if not await answered(request.app.ctx.agent, on_new_message, message, collector.messages):
            return [{"body": UNAVAILABLE_REPLY, "media": None}]
        logger.info("WhatsApp %s from %s: %d bot messages", message_sid, masked, len(collector.messages))
        return said + render(collector.messages)

    @staticmethod
    async def _last_turn_buttons(request: Request, sender: Text) -> List[Dict[Text, Any]]:
        """The buttons the bot offered since the customer's last message, in the order shown."""
        tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
        buttons: List[Dict[Text, Any]] = []
        for event in reversed(tracker.events if tracker else []):
            if isinstance(event, UserUttered):
                break
            if isinstance(event, BotUttered):
                buttons[:0] = message_buttons(event.data)
        return buttons

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        """Twilio's message id and the customer's WhatsApp profile name, kept on the user event."""
        form = _form(request)
        return {
            "whatsapp": {
                "message_sid": form.get("MessageSid") or form.get("SmsMessageSid"),
                "profile_name": form.get("ProfileName"),
            }
        }


def _twiml(replies: List[Dict[Text, Optional[Text]]]) -> HTTPResponse:
    """A TwiML <Response> with one <Message> per reply (an empty one acknowledges only)."""
    twiml = MessagingResponse()
    for reply in replies:
        if reply.get("media"):
            message = twiml.message()
            message.body(reply["body"])
            message.media(reply["media"])
        else:
            twiml.message(reply["body"])
    return response.text(str(twiml), content_type="text/xml; charset=utf-8")
