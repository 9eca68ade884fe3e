"""Cost of the WhatsApp webhook: the same conversation through REST and through signed Twilio webhooks.

Starts the real action server and Rasa server on a fresh SQLite database with a
test Twilio auth token and no rate limit, then prints p50/p95/p99 turn latency and
throughput for both channels (1 user, then N concurrent users), the latency of a
retried MessageSid and of a forged request (both answered without the bot), and
the Rasa server's resident memory.

    .venv/actions/bin/python bench/whatsapp.py [--users 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from turns import (  # noqa: E402  (bench/ is on sys.path)
    CONVERSATION,
    Connection,
    LeastConnections,
    play,
    report,
    run,
)

from actions import db  # noqa: E402
from tests.servers import Servers  # noqa: E402

TOKEN = "bench-auth-token"
PATH = "/webhooks/twilio/webhook"


def form(sender: str, body: str, sid: Optional[str] = None) -> Dict[str, str]:
    sid = sid or "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "From": sender,
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
        "ProfileName": "Bench",
        "AccountSid": "AC" + "0" * 32,
    }


def post(connection: Connection, data: Dict[str, str], token: str = TOKEN) -> Tuple[int, bytes]:
    """A webhook signed with `token` as Twilio signs it; status and body."""
    signature = RequestValidator(token).compute_signature(connection.url + PATH, data)
    return connection.post(
        PATH, urlencode(data).encode(), "application/x-www-form-urlencoded", {"X-Twilio-Signature": signature}
    )


def whatsapp_turn(connection: Connection, sender: str, message: str) -> Optional[str]:
    """One message as a signed Twilio webhook; what went wrong, or None."""
    status, reply = post(connection, form(sender, message))
    if status != 200:
        return f"status {status} for {message!r}"
    try:
        return None if ET.fromstring(reply).findall("Message") else f"no reply to {message!r}"
    except ET.ParseError as error:
        return repr(error)


# The conversations of turns.play as new WhatsApp customers, each turn a signed webhook.
play_whatsapp = functools.partial(
    play,
    turn=whatsapp_turn,
    new_sender=lambda: f"whatsapp:+52155{random.randint(10**7, 10**8 - 1)}",
)


def answered_without_the_bot(url: str, count: int, token: str, expect: int) -> Tuple[List[float], List[str], float]:
    """`count` retries of one MessageSid (token=TOKEN) or forged requests (another token)."""
    connection = Connection(url)
    data = form("whatsapp:+5215500000000", "Hola")
    post(connection, data)
    latencies: List[float] = []
    errors: List[str] = []
    start = time.perf_counter()
    for _ in range(count):
        begin = time.perf_counter()
        status, _ = post(connection, data, token)
        latencies.append((time.perf_counter() - begin) * 1000)
        if status != expect:
            errors.append(f"status {status}")
    return latencies, errors, time.perf_counter() - start


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="conversations per user")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-whatsapp-"))
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    db.upgrade(database_url)
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "WHATSAPP_RATE_LIMIT": "0"}
    servers = Servers(workdir, database_url, env=env).start()
    url = servers.url
    target = LeastConnections([url])
    try:
        print(f"Conversation of {len(CONVERSATION)} turns against {url}")
        play(target, 1, [], [])
        play_whatsapp(target, 1, [], [])  # warm-up
        report("REST, 1 user", *run(target, 1, args.rounds * 4, play))
        report("WhatsApp, 1 user", *run(target, 1, args.rounds * 4, play_whatsapp))
        report(f"REST, {args.users} users", *run(target, args.users, args.rounds, play))
        report(f"WhatsApp, {args.users} users", *run(target, args.users, args.rounds, play_whatsapp))
        report("WhatsApp retry", *answered_without_the_bot(url, 200, TOKEN, 200))
        report("WhatsApp forged", *answered_without_the_bot(url, 200, "forged", 403))
        print(f"Rasa server resident memory: {rss_mb(servers.rasa.pid):.0f} MB")
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
