"""Start the real action server and Rasa server on free ports (tests and benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Optional

import requests

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
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "ACTION_SERVER_URL": f"{self.actions_url}/webhook",
            "LOCK_STORE_TYPE": "in_memory",
            "REDIS_HOST": "localhost",
            "OPENAI_API_KEY": "",
            "OPENAI_BASE_URL": "",
            "LLM_MODEL": "gpt-4o-mini",
            "LLM_TIMEOUT_SECONDS": "6",
            "LLM_MAX_TOKENS": "300",
            "LLM_COOLDOWN_SECONDS": "30",
            "TWILIO_ACCOUNT_SID": "",
            "TWILIO_AUTH_TOKEN": "",
            "TWILIO_WHATSAPP_NUMBER": "",
            "FINANCING_ANNUAL_RATE": "10",
            "FINANCING_MIN_DOWN_PCT": "10",
            "TWILIO_API_BASE_URL": "",
            "APPOINTMENT_TIMEZONE": "America/Mexico_City",
            "APPOINTMENT_HOURS": "lun-vie 09:00-18:00; sab 09:00-14:00",
            "APPOINTMENT_MAX_DAYS": "30",
            "APPOINTMENT_MIN_NOTICE_MIN": "60",
            "REMINDER_DAY_BEFORE": "true",
            "REMINDER_HOURS_BEFORE": "2",
            "REMINDER_POLL_SECONDS": "60",
            "MSAT_COOLDOWN_HOURS": "24",
            "TWILIO_WEBHOOK_URL": "",
            "TWILIO_VALIDATE_SIGNATURE": "true",
            "WHATSAPP_RATE_LIMIT": "20",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SETUPTOOLS_USE_DISTUTILS": "stdlib",  # keeps Rasa's INFO logs (Makefile)
            "TF_INTER_OP_PARALLELISM_THREADS": os.environ.get("TF_INTER_OP_PARALLELISM_THREADS", "1"),
            "TF_INTRA_OP_PARALLELISM_THREADS": os.environ.get("TF_INTRA_OP_PARALLELISM_THREADS", "1"),
            "PYTHONWARNINGS": "ignore",
            **(env or {}),
        }
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None

    def _spawn(self, name: str, argv: list) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        with open(log, "ab") as out:
            return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def start_actions(self) -> None:
        self.actions = self._spawn(
            "actions",
            [str(ACTIONS_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "-p", str(self.actions_port)],
        )
        _wait(f"{self.actions_url}/health", self.actions, self.workdir / "actions.log")

    def start_rasa(self) -> None:
        self.rasa = self._spawn(
            "rasa",
            [
                str(RASA_BIN), "run", "-m", str(MODEL), "--enable-api",
                "--port", str(self.rasa_port),
                "--endpoints", self.endpoints, "--credentials", "credentials.yml",
            ],
        )
        _wait(f"{self.url}/status", self.rasa, self.workdir / "rasa.log")

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

    def stop(self) -> None:
        self._stop(self.rasa)
        self._stop(self.actions)

    def say(self, sender: str, message: str) -> list:
        """Send a message through the REST channel; return the bot's messages."""
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def say_text(self, sender: str, message: str) -> str:
        """The bot's reply texts joined by blank lines."""
        return "\n\n".join(m.get("text", "") for m in self.say(sender, message))

    def tracker(self, sender: str) -> dict:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", timeout=30)
        response.raise_for_status()
        return response.json()
