"""Parts that fail mid-conversation: the customer still gets a short Spanish answer at once,
and when the part is back the conversation goes on with its slots."""

from __future__ import annotations

import random
import signal
import socket
import threading
import time

import pytest
import requests

from channels.whatsapp_text import UNAVAILABLE_REPLY
from tests.servers import Servers, free_port

MOMENT = UNAVAILABLE_REPLY.split("\n")[0]
# The servers' TURN_DEADLINE_SECONDS (2 here) + 10: a claim unanswered that long is a crash's.
STALE_AFTER_S = 12.5


@pytest.fixture
def own_servers(tmp_path, database_url):
    (tmp_path / "own").mkdir()
    running = Servers(tmp_path / "own", database_url, env={"TURN_DEADLINE_SECONDS": "2"}).start()
    for _ in range(30):  # the first search loads the catalog index: past the short deadline
        if "Encontré" in running.say_text("fault-warm-up", "busco un nissan versa"):
            break
        time.sleep(2)
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


def test_a_rasa_server_killed_mid_turn_leaves_twilios_retry_to_be_answered_once(own_servers, tmp_path):
    """SIGKILL during a turn (its action call still running): the retry, on a server that reads
    the conversation from the database, is answered, once."""
    sender = f"whatsapp:+52155{random.randint(10**7, 10**8 - 1)}"
    assert "Encontré" in own_servers.say_text(sender, "busco un nissan versa")
    hanging = _Hanging()  # keeps the doomed turn running until the kill
    (tmp_path / "doomed").mkdir()
    doomed = own_servers.sharing_actions(
        tmp_path / "doomed",
        {
            "ACTION_SERVER_URL": f"http://127.0.0.1:{hanging.port}/webhook",
            "TWILIO_AUTH_TOKEN": own_servers.env["TWILIO_AUTH_TOKEN"],
        },
    )
    doomed.start_rasa()
    try:
        form = own_servers.twilio_form(sender, "dame mas detalles del 1")
        posting = threading.Thread(target=lambda: _post_ignoring_errors(doomed, form))
        posting.start()
        time.sleep(1)  # claimed, and waiting for the action server
        doomed.rasa.send_signal(signal.SIGKILL)
        doomed.rasa.wait(10)
        posting.join(10)
    finally:
        doomed.stop_rasa()
        hanging.close()
    assert own_servers.post_twilio(form) == ""  # a retry right away: that turn may still be running
    time.sleep(STALE_AFTER_S)  # Twilio retries after its own timeout
    retry = own_servers.post_twilio(form)
    assert "Nissan Versa" in retry and "Precio" in retry  # the list of before the crash
    assert own_servers.post_twilio(form) == ""  # the next retry: answered already
    texts = [e.get("text") for e in own_servers.tracker(sender)["events"] if e["event"] == "user"]
    assert texts.count("dame mas detalles del 1") == 1


def _post_ignoring_errors(servers: Servers, form: dict) -> None:
    try:
        servers.post_twilio(form)
    except requests.RequestException:
        pass  # the server died under it
