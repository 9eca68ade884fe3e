"""Every setting of the assistant, typed, with its one default: the only reader of the environment.

Both processes use it: the action server (pydantic 2) and Rasa's own environment
(Rasa 3.6 pins pydantic 1.10), so it is a plain pydantic model filled from the
environment here rather than a pydantic-settings class, which exists for pydantic 2
only. A setting is the upper-case name of its field; an empty value means its
default, and a value that is not valid for it is logged and its default used:

    >>> Settings.load({"FINANCING_ANNUAL_RATE": "12", "LLM_TIMEOUT_SECONDS": "pronto"}).llm_timeout_seconds
    6.0

`python -m settings <command...>` runs a command with every setting in its
environment: Rasa's endpoints.yml and credentials.yml read theirs from there.
"""

import logging
import os
import secrets
import sys
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional

from pydantic import BaseModel, Field, ValidationError

logger = logging.getLogger(__name__)


class Settings(BaseModel):
    """The README's configuration table, row by row (tests/test_platform.py checks both agree)."""

    # Storage
    database_url: str = "sqlite:///var/kavak.db"
    embedding_model: str = ""
    # LLM fallback (actions/fallback.py)
    openai_api_key: str = ""
    openai_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(6.0, gt=0)
    llm_max_tokens: int = Field(300, ge=1)
    llm_cooldown_seconds: float = Field(30.0, ge=0)
    llm_endpoint_failures: int = Field(3, ge=1)
    llm_calls_per_hour: int = Field(20, ge=0)
    llm_max_question_chars: int = Field(500, ge=1)
    # Financing and search by monthly payment
    financing_annual_rate: Decimal = Field(Decimal("10"), ge=0)
    financing_min_down_pct: Decimal = Field(Decimal("10"), ge=0, le=100)
    search_monthly_down_pct: Decimal = Field(Decimal("20"), ge=0, le=100)
    search_monthly_term: int = Field(72, ge=1)
    # Appointments, reminders, MSAT
    appointment_timezone: str = "America/Mexico_City"
    appointment_hours: str = "lun-vie 09:00-18:00; sab 09:00-14:00"
    appointment_max_days: int = Field(30, ge=1)
    appointment_min_notice_min: int = Field(60, ge=0)
    reminder_day_before: bool = True
    reminder_hours_before: float = Field(2.0, ge=0)
    reminder_poll_seconds: float = Field(60.0, gt=0)
    msat_cooldown_hours: float = Field(24.0, ge=0)
    # A person on request (actions/handoff/), privacy
    staff_token: str = ""
    staff_whatsapp_number: str = ""
    handoff_webhook_url: str = ""
    handoff_timeout_minutes: float = Field(30.0, gt=0)
    staff_inbox_port: int = Field(5056, ge=1, le=65535)
    privacy_notice_url: str = "https://www.kavak.com/mx/aviso-de-privacidad"
    # WhatsApp through Twilio
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_whatsapp_number: str = ""
    twilio_webhook_url: str = ""
    twilio_validate_signature: bool = True
    twilio_api_base_url: str = ""
    whatsapp_rate_limit: int = Field(20, ge=0)
    # REST channel and messages
    rest_api_token: str = ""
    rest_rate_limit: int = Field(30, ge=0)
    message_max_chars: int = Field(1000, ge=1)
    turn_deadline_seconds: float = Field(8.0, gt=0)
    # Servers
    actions_port: int = Field(5055, ge=1, le=65535)
    action_server_url: str = ""
    action_server_token: str = ""
    actions_host: str = "127.0.0.1"
    actions_max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    sanic_request_max_size: int = Field(65536, ge=1024)
    sanic_workers: int = Field(1, ge=1)
    tracker_cache_max_mb: float = Field(256.0, gt=0)
    lock_store_type: str = "in_memory"
    redis_host: str = "localhost"
    redis_port: int = Field(6379, ge=1, le=65535)
    turns_at_once: int = Field(2, ge=1)
    # Catalog import and data retention
    catalog_max_bytes: int = Field(20_000_000, ge=1)
    catalog_max_rows: int = Field(50_000, ge=1)
    data_retention_days: int = Field(365, ge=0)

    @classmethod
    def names(cls) -> List[str]:
        """The settings' environment names, in the table's order."""
        return [name.upper() for name in _fields(cls)]

    @classmethod
    def default_of(cls, name: str) -> Any:
        return _fields(cls)[name.lower()].default

    @classmethod
    def load(cls, environ: Optional[Mapping[str, str]] = None) -> "Settings":
        """The settings in `environ` (the process environment by default); bad values give way to defaults."""
        environ = os.environ if environ is None else environ
        given = {name: environ[name.upper()].strip() for name in _fields(cls) if environ.get(name.upper(), "").strip()}
        while True:
            try:
                return cls(**given)
            except ValidationError as error:
                for problem in error.errors():
                    name = str(problem["loc"][0])
                    bad = given.pop(name, None)
                    default = cls.default_of(name)
                    logger.warning("%s=%r is not valid (%s); using %r", name.upper(), bad, problem["msg"], default)

    @property
    def action_endpoint(self) -> str:
        """ACTION_SERVER_URL, or the action server of this machine on ACTIONS_PORT."""
        return self.action_server_url or f"http://127.0.0.1:{self.actions_port}/webhook"

    def environment(self) -> Dict[str, str]:
        """Every setting as an environment variable, as Rasa's YAML files and the scripts read them."""
        values = {name.upper(): str(getattr(self, name)) for name in _fields(type(self))}
        values["ACTION_SERVER_URL"] = self.action_endpoint
        values["ACTION_SERVER_TOKEN"] = self.action_server_token or secrets.token_hex(16)
        values["SANIC_HOST"] = self.actions_host  # where rasa-sdk binds (Rasa takes its own from -i)
        return values


def _fields(cls: type) -> Dict[str, Any]:
    return getattr(cls, "model_fields", None) or cls.__fields__  # pydantic 2, or 1


_NAMES = Settings.names()


_loaded: Dict[tuple, Settings] = {}


def current() -> Settings:
    """The settings of this process now: read again whenever the environment changes (tests do)."""
    key = tuple(os.environ.get(name) for name in _NAMES)
    found = _loaded.get(key)
    if found is None:
        if len(_loaded) > 32:  # a few environments per process; tests make more
            _loaded.clear()
        found = _loaded[key] = Settings.load()
    return found


def main(argv: List[str]) -> None:
    """Run `argv` with the settings in its environment (an empty ACTION_SERVER_TOKEN becomes a random one)."""
    if not argv:
        sys.exit("usage: python -m settings <command...>")
    os.environ.update(current().environment())
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
