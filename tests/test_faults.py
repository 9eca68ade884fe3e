"""Parts that fail mid-conversation: the customer still gets a short Spanish answer at once,
and when the part is back the conversation goes on with its slots."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from channels.whatsapp_text import UNAVAILABLE_REPLY
from tests.servers import Servers, free_port

MOMENT = UNAVAILABLE_REPLY.split("\n")[0]


@pytest.fixture
def own_servers(tmp_path, database_url):
    (tmp_path / "own").mkdir()
    running = Servers(tmp_path / "own", database_url).start()
    yield running
    running.stop()


def test_the_action_server_down_gets_a_moment_please_and_the_list_survives(own_servers):
    sender = "fault-down"
    assert "Encontré" in own_servers.say_text(sender, "busco un nissan versa")
    own_servers.stop_actions()
    started = time.monotonic()
    assert MOMENT in own_servers.say_text(sender, "el 1")
    assert time.monotonic() - started < 5
    own_servers.start_actions()
    details = own_servers.say_text(sender, "el 1")
    assert "Nissan Versa" in details and "Precio" in details  # the list of before the failure


class _Hanging:
    """A TCP server that accepts connections and never answers, like a stuck action server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for connection in self.held:
            connection.close()


def test_a_hanging_action_server_gets_a_moment_please_within_the_deadline(own_servers, tmp_path):
    hanging = _Hanging()
    (tmp_path / "stuck").mkdir()
    stuck = own_servers.sharing_actions(
        tmp_path / "stuck",
        {"ACTION_SERVER_URL": f"http://127.0.0.1:{hanging.port}/webhook", "TURN_DEADLINE_SECONDS": "3"},
    )
    stuck.start_rasa()
    try:
        started = time.monotonic()
        assert MOMENT in stuck.say_text("fault-hang", "busco un nissan versa")
        assert 2.5 < time.monotonic() - started < 6
        assert stuck.say("whatsapp:+5215500001111", "busco un nissan versa")[0]["text"].startswith(MOMENT)
    finally:
        stuck.stop_rasa()
        hanging.close()
