"""A local stand-in for Twilio's Messages API (POST .../Accounts/{sid}/Messages.json).

It checks HTTP basic auth, records every message and answers like Twilio does,
so the real twilio client can be pointed at it with TWILIO_API_BASE_URL.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-token"
FROM_NUMBER = "whatsapp:+14155238886"


class FakeTwilio:
    """Run with `with FakeTwilio() as twilio:`; messages land in `twilio.messages`."""

    def __init__(self) -> None:
        self.messages: List[Dict[str, str]] = []
        self.fail_next = 0  # answer this many requests with a 500
        self.hold_next = 0  # never answer this many requests (a send cut off mid-way)
        self.held = threading.Event()  # set when a request is being held
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", self.path)
                expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                if not match or match.group(1) != ACCOUNT_SID:
                    return self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if fake.hold_next:
                    fake.hold_next -= 1
                    fake.held.set()
                    fake.release.wait(60)
                    return None  # not delivered
                if fake.fail_next:
                    fake.fail_next -= 1
                    return self._answer(500, {"code": 20500, "message": "Internal error", "status": 500})
                message = {key: values[0] for key, values in form.items()}
                message["sid"] = "SM" + uuid.uuid4().hex
                fake.messages.append(message)
                self._answer(
                    201,
                    {
                        "sid": message["sid"],
                        "account_sid": ACCOUNT_SID,
                        "to": message.get("To"),
                        "from": message.get("From"),
                        "body": message.get("Body"),
                        "status": "queued",
                        "num_segments": "1",
                        "direction": "outbound-api",
                        "api_version": "2010-04-01",
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def env(self) -> Dict[str, str]:
        """Environment that points the reminder sender at this server."""
        return {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE_URL": self.url,
        }

    def __enter__(self) -> "FakeTwilio":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
