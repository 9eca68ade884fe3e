"""Messages the business starts on WhatsApp (reminders, staff notices, staff replies), through
Twilio's REST API with the real twilio client; without credentials they go to the log.

    TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER
    TWILIO_API_BASE_URL      empty = https://api.twilio.com (tests point it at a local fake)
"""

from __future__ import annotations

import logging
import re
from typing import Optional, Protocol

from settings import current as current_settings
from understanding.text import mask_phone

logger = logging.getLogger(__name__)

SEND_TIMEOUT_S = 15  # Twilio's HTTP client gives up after this


def whatsapp_address(sender_id: str) -> Optional[str]:
    """The sender id when it is a WhatsApp address ('whatsapp:+52...'), else None: reminders go
    to WhatsApp customers only (a REST tester or a forged id gets none)."""
    return sender_id if re.fullmatch(r"whatsapp:\+\d{8,15}", sender_id or "") else None


class Sender(Protocol):
    def send(self, to: str, body: str) -> str: ...


class TwilioSender:
    """Sends WhatsApp messages with twilio's REST client (base URL settable for tests)."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str, base_url: Optional[str] = None):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=SEND_TIMEOUT_S))
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.from_ = from_number if from_number.startswith("whatsapp:") else f"whatsapp:{from_number}"

    def send(self, to: str, body: str) -> str:
        return self.client.messages.create(to=to, from_=self.from_, body=body).sid


class LogSender:
    """No Twilio credentials: the message goes to the log."""

    def send(self, to: str, body: str) -> str:
        logger.info(
            "Mensaje para %s: sin credenciales de Twilio, no se envía (%d caracteres)", mask_phone(to), len(body)
        )
        return "logged"


def sender_from_env() -> Sender:
    given = current_settings()
    sid, token, number = given.twilio_account_sid, given.twilio_auth_token, given.twilio_whatsapp_number
    if sid and token and number:
        return TwilioSender(sid, token, number, given.twilio_api_base_url or None)
    return LogSender()
