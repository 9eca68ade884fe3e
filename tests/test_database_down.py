"""The database unreachable for a while (PostgreSQL behind a cuttable TCP proxy): turns fail
politely, the servers recover by themselves when it is back, and nothing is written twice."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from sqlalchemy import make_url

from channels.whatsapp_text import ERROR_REPLY, UNAVAILABLE_REPLY
from tests.servers import Servers, free_port

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_POSTGRES_URL"), reason="a database server to cut off (make test-postgres)"
)
POLITE = (UNAVAILABLE_REPLY.split("\n")[0], ERROR_REPLY.split("\n")[0])


class CuttableProxy:
    """Forwards 127.0.0.1:port to the database server until cut: then every connection is
    dropped and new ones are closed at once, as when the database host goes away."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.cut_off = False
        self.pairs: list = []
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off:
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self.pairs.append((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.cut_off = True
        for pair in self.pairs:
            for end in pair:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.pairs.clear()

    def restore(self) -> None:
        self.cut_off = False

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def behind_proxy(tmp_path, database_url):
    url = make_url(database_url)
    proxy = CuttableProxy(url.port)
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    running = Servers(tmp_path, proxied, env={"TURN_DEADLINE_SECONDS": "3"}).start()
    for _ in range(30):  # the first search loads the catalog index: past the short deadline
        if "Encontré" in running.say_text("db-down-warm-up", "busco un nissan versa"):
            break
        time.sleep(2)
    yield running, proxy
    running.stop()
    proxy.close()


def test_the_database_unreachable_for_a_while_gets_polite_answers_then_goes_on(behind_proxy):
    servers, proxy = behind_proxy
    sender, whatsapp = "db-down-customer", "whatsapp:+5215500007777"
    for customer in (sender, whatsapp):
        assert "Encontré" in servers.say_text(customer, "busco un nissan versa")
    proxy.cut()
    for customer, message in ((sender, "el 1"), (sender, "cuanto cuesta el 1"), (whatsapp, "el 1")):
        started = time.monotonic()
        reply = servers.say_text(customer, message)
        assert reply.startswith(POLITE), reply
        assert time.monotonic() - started < 10
    proxy.restore()
    deadline = time.monotonic() + 30
    while True:  # the pools find their dead connections and reconnect, with no restart
        details = servers.say_text(sender, "dame mas detalles del 1")
        if "Precio" in details or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert "Nissan Versa" in details and "Precio" in details  # the list of before the outage
    texts = [e.get("text") for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    assert texts.count("busco un nissan versa") == 1
    assert texts.count("dame mas detalles del 1") == 1
    assert "Nissan Versa" in servers.say_text(whatsapp, "el 1")
