"""A small chat-completions server on 127.0.0.1 that records requests (tests and benchmarks).

It speaks enough of the OpenAI API for the openai library: POST
/v1/chat/completions answers with `reply`, after `delay` seconds, or with HTTP
`status` when that is not 200.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List


class FakeOpenAI:
    """Start with `.start()`, point OPENAI_BASE_URL at `.base_url`, read `.requests`."""

    def __init__(self) -> None:
        self.reply = "¡Claro! Te ayudo con gusto."
        self.delay = 0.0
        self.status = 200
        self.requests: List[Dict] = []
        self.headers: List[Dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(body)
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                if fake.delay:
                    time.sleep(fake.delay)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found"}})
                if fake.status != 200:
                    return self._send(fake.status, {"error": {"message": "boom", "type": "server_error"}})
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", ""),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": fake.reply},
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

            def _send(self, status: int, payload: Dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> "FakeOpenAI":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self, reply: str = "¡Claro! Te ayudo con gusto.") -> None:
        self.reply, self.delay, self.status = reply, 0.0, 200
        self.requests.clear()
        self.headers.clear()

    def system_prompt(self, index: int = -1) -> str:
        """The system message of a recorded request."""
        return next(m["content"] for m in self.requests[index]["messages"] if m["role"] == "system")
