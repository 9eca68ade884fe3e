"""Start the real action server and Rasa server on free ports (tests and benchmarks)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, Optional
from uuid import uuid4

import requests
from twilio.request_validator import RequestValidator

from settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RASA_BIN = ROOT / ".venv" / "rasa" / "bin" / "rasa"
ACTIONS_PYTHON = ROOT / ".venv" / "actions" / "bin" / "python"
MODEL = ROOT / "models" / "kavak.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-4000:]}")


class Servers:
    """An action server plus a Rasa server (REST, Twilio, HTTP API) on one database."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        env: Optional[Dict[str, str]] = None,
        endpoints: str = "endpoints.yml",
    ):
        self.workdir = workdir
        self.endpoints = endpoints
        self.actions_port = free_port()
        self.rasa_port = free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.actions_url = f"http://127.0.0.1:{self.actions_port}"
        self.inbox_port = free_port()
        self.inbox_url = f"http://127.0.0.1:{self.inbox_port}"
        # The defaults of settings.py, with none of the caller's settings (no real keys
        # reach a test), and what each run needs of its own.
        self.env = {
            **{key: value for key, value in os.environ.items() if key not in Settings.names()},
            "DATABASE_URL": database_url,
            "ACTION_SERVER_URL": f"{self.actions_url}/webhook",
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),  # WhatsApp senders are signed with it (say)
            "ACTION_SERVER_TOKEN": secrets.token_hex(16),
            "REST_API_TOKEN": secrets.token_hex(16),
            "API_AUTH_TOKEN": secrets.token_hex(16),
            "STAFF_TOKEN": secrets.token_hex(16),
            "STAFF_INBOX_PORT": str(self.inbox_port),
            # Slow first turns on a busy test machine must not read as a stuck action server.
            "TURN_DEADLINE_SECONDS": "60",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SETUPTOOLS_USE_DISTUTILS": "stdlib",  # keeps Rasa's INFO logs (Makefile)
            "TF_INTER_OP_PARALLELISM_THREADS": os.environ.get("TF_INTER_OP_PARALLELISM_THREADS", "1"),
            "TF_INTRA_OP_PARALLELISM_THREADS": os.environ.get("TF_INTRA_OP_PARALLELISM_THREADS", "1"),
            "PYTHONWARNINGS": "ignore",
            **(env or {}),
        }
        self.rest_headers = {"Authorization": f"Bearer {self.env['REST_API_TOKEN']}"}
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None
        self.inbox: Optional[subprocess.Popen] = None

    def _spawn(self, name: str, argv: list) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        with open(log, "ab") as out:
            # Through settings.py, which puts every setting in the environment Rasa's YAML files read.
            argv = [str(ACTIONS_PYTHON), "-m", "settings", *argv]
            return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def start_actions(self) -> None:
        self.actions = self._spawn(
            "actions",
            [str(ACTIONS_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "-p", str(self.actions_port)],
        )
        _wait(f"{self.actions_url}/health", self.actions, self.workdir / "actions.log")

    def start_inbox(self) -> None:
        """The staff inbox (actions/handoff/inbox.py) on this run's database and Twilio."""
        self.inbox = self._spawn("inbox", [str(ACTIONS_PYTHON), "-m", "actions.handoff.inbox"])
        _wait(f"{self.inbox_url}/health", self.inbox, self.workdir / "inbox.log")

    def start_rasa(self) -> None:
        self.rasa = self._spawn(
            "rasa",
            [
                str(RASA_BIN),
                "run",
                "-m",
                str(MODEL),
                "--enable-api",
                "--auth-token",
                self.env["API_AUTH_TOKEN"],
                "--port",
                str(self.rasa_port),
                "--endpoints",
                self.endpoints,
                "--credentials",
                "credentials.yml",
            ],
        )
        _wait(f"{self.url}/status?token={self.env['API_AUTH_TOKEN']}", self.rasa, self.workdir / "rasa.log")

    def start(self) -> "Servers":
        self.start_actions()
        self.start_rasa()
        return self

    @staticmethod
    def _stop(process: Optional[subprocess.Popen]) -> None:
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def stop_rasa(self) -> None:
        self._stop(self.rasa)

    def stop_actions(self) -> None:
        self._stop(self.actions)

    def stop(self) -> None:
        self._stop(self.inbox)
        self._stop(self.rasa)
        self._stop(self.actions)

    def sharing_actions(self, workdir: Path, env: Optional[Dict[str, str]] = None) -> "Servers":
        """Another Rasa server (not started) on this one's action server and database."""
        shared = {key: self.env[key] for key in ("ACTION_SERVER_TOKEN", "REST_API_TOKEN", "API_AUTH_TOKEN")}
        return Servers(
            workdir,
            self.env["DATABASE_URL"],
            env={
                "ACTION_SERVER_URL": f"{self.actions_url}/webhook",
                **shared,
                **(env or {}),
            },
            endpoints=self.endpoints,
        )

    def say(self, sender: str, message: str) -> list:
        """Send a message as a customer would; return the bot's messages as [{"text": ...}].

        A `whatsapp:+…` sender speaks through the Twilio webhook, signed like Twilio
        signs (REST refuses WhatsApp senders); any other through the REST channel.
        """
        if sender.startswith("whatsapp:"):
            return self.whatsapp(sender, message)
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers=self.rest_headers,
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def whatsapp(self, sender: str, message: str) -> list:
        """POST a signed Twilio form for an incoming WhatsApp text; the TwiML reply's messages."""
        return self.post_twilio_messages(self.twilio_form(sender, message))

    @staticmethod
    def twilio_form(sender: str, message: str) -> Dict[str, str]:
        """The form Twilio posts for an incoming WhatsApp text, with a new MessageSid."""
        sid = "SM" + uuid4().hex
        return {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": "whatsapp:+14155238886",
            "Body": message,
            "NumMedia": "0",
            "ProfileName": "Cliente",
        }

    def post_twilio_messages(self, form: Dict[str, str]) -> list:
        """POST `form` signed as Twilio signs it; the TwiML reply's messages as [{"text": ...}]."""
        url = f"{self.url}/webhooks/twilio/webhook"
        signature = RequestValidator(self.env["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
        response = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=60)
        response.raise_for_status()
        return [{"text": m.findtext("Body") or m.text or ""} for m in ET.fromstring(response.content).iter("Message")]

    def post_twilio(self, form: Dict[str, str]) -> str:
        """The reply texts of a signed Twilio POST of `form`, joined by blank lines ("" for none)."""
        return "\n\n".join(m["text"] for m in self.post_twilio_messages(form))

    def say_text(self, sender: str, message: str) -> str:
        """The bot's reply texts joined by blank lines."""
        return "\n\n".join(m.get("text", "") for m in self.say(sender, message))

    def tracker(self, sender: str) -> dict:
        """The conversation's tracker, through Rasa's HTTP API (with its auth token)."""
        response = requests.get(
            f"{self.url}/conversations/{sender}/tracker", params={"token": self.env["API_AUTH_TOKEN"]}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def add_event(self, sender: str, event: dict) -> None:
        """Append an event to the conversation through Rasa's HTTP API.

        The timestamp matters: the SQL tracker store replays the latest session, chosen by timestamp.
        """
        response = requests.post(
            f"{self.url}/conversations/{sender}/tracker/events",
            params={"token": self.env["API_AUTH_TOKEN"]},
            json={"timestamp": time.time(), **event},
            timeout=30,
        )
        response.raise_for_status()
