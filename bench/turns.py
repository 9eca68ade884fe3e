"""Turn latency and throughput of the whole assistant through the REST channel.

Starts the real action server and Rasa server on a fresh SQLite database (or
uses --url of a running server), plays a scripted multi-turn conversation with
one user, then with N concurrent users, and prints p50/p95/p99 latency per
turn, turns per second and errors.

    .venv/actions/bin/python bench/turns.py [--users 20] [--rounds 5] [--url URL]
    .venv/actions/bin/python bench/turns.py --workers 2   # one Rasa server, 2 processes
    .venv/actions/bin/python bench/turns.py --servers 2   # 2 Rasa servers, least connections
    .venv/actions/bin/python bench/turns.py --servers 2 --database postgresql+psycopg2://kavak@127.0.0.1:55432/postgres
        # the same on a fresh database of that PostgreSQL server (scripts/services.sh start)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from actions import db  # noqa: E402
from actions.catalog.sync import sync  # noqa: E402
from tests.servers import Servers  # noqa: E402

# A whole sales conversation: greeting, search, details, financing, visit, MSAT.
CONVERSATION = [
    "Hola",
    "Busco un auto económico familiar",
    "muéstrame más opciones",
    "dame más detalles del segundo",
    "¿tiene bluetooth?",
    "¿cuánto dura la garantía?",
    "calcula el financiamiento con enganche de 20%",
    "mejor a 48 meses",
    "muchas gracias",
    "no, gracias",
    "5",
]


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


class Connection:
    """One kept-alive HTTP connection to the server: one customer's conversation.

    The client shares the machine's cores with the servers it measures, so it is
    the standard library's http.client: requests cost 2.3 ms of CPU a turn here,
    http.client 0.6 ms (README: Benchmarks).
    """

    ERRORS = (OSError, http.client.HTTPException, ValueError)

    def __init__(self, url: str, on_close: Callable[[], None] = lambda: None) -> None:
        parts = urlsplit(url)
        self.url = url
        self.http = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.on_close = on_close

    def post(
        self, path: str, body: bytes, content_type: str, headers: Optional[Dict[str, str]] = None
    ) -> Tuple[int, bytes]:
        """Status and body of a POST; after an error the next request reconnects."""
        try:
            self.http.request("POST", path, body, {"Content-Type": content_type, **(headers or {})})
            response = self.http.getresponse()
            return response.status, response.read()
        except self.ERRORS:
            self.http.close()
            raise

    def close(self) -> None:
        self.http.close()
        self.on_close()


class LeastConnections:
    """The Rasa servers played against. Each new connection goes to the server with
    the fewest open connections, as a least-connections load balancer in front of
    them sends it (nginx's `least_conn`, README: Scaling out)."""

    def __init__(self, urls: List[str]) -> None:
        self.urls = urls
        self.open = [0] * len(urls)
        self.lock = threading.Lock()

    def connect(self) -> Connection:
        with self.lock:
            index = self.open.index(min(self.open))
            self.open[index] += 1
        return Connection(self.urls[index], on_close=lambda: self._closed(index))

    def _closed(self, index: int) -> None:
        with self.lock:
            self.open[index] -= 1


def scripts(rounds: int, offset: int) -> List[List[str]]:
    """What one user says: `rounds` conversations' worth of turns. With an `offset`, the
    first conversation is left after `offset` turns and the last after the rest, so
    concurrent users with different offsets are at different points of the conversation,
    as customers are, rather than all asking for the same heavy turn (a financing plan)
    at the same moment."""
    if not offset:
        return [CONVERSATION] * rounds
    return [CONVERSATION[:offset]] + [CONVERSATION] * (rounds - 1) + [CONVERSATION[: len(CONVERSATION) - offset]]


# The REST channel's bearer token: the started servers', or REST_API_TOKEN for --url.
REST_HEADERS: Dict[str, str] = {}


def rest_turn(connection: Connection, sender: str, message: str) -> Optional[str]:
    """One message through the REST channel; what went wrong, or None."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    status, reply = connection.post("/webhooks/rest/webhook", body, "application/json", REST_HEADERS)
    if status != 200:
        return f"status {status} for {message!r}"
    return None if json.loads(reply) else f"no reply to {message!r}"


def rest_sender() -> str:
    return f"bench-{uuid.uuid4().hex[:12]}"


def play(
    servers: LeastConnections,
    rounds: int,
    latencies: List[float],
    errors: List[str],
    offset: int = 0,
    turn: Callable[[Connection, str, str], Optional[str]] = rest_turn,
    new_sender: Callable[[], str] = rest_sender,
) -> None:
    """Play the conversations of `scripts`, each message a `turn`, recording each turn's
    latency. Each conversation is a new customer on a new connection, so with several
    Rasa worker processes (which share one listening socket) or servers the
    conversations spread over all of them."""
    for script in scripts(rounds, offset):
        connection = servers.connect()
        sender = new_sender()
        for message in script:
            start = time.perf_counter()
            try:
                error = turn(connection, sender, message)
                if error:
                    errors.append(error)
            except Connection.ERRORS as error:
                errors.append(repr(error))
            latencies.append((time.perf_counter() - start) * 1000)
        connection.close()


def run(
    servers: LeastConnections, users: int, rounds: int, player: Callable = play, lockstep: bool = False
) -> Tuple[List[float], List[str], float]:
    """`users` threads each playing `rounds` conversations with `player`, each user starting
    at its own point of the conversation (all at the first turn if `lockstep`);
    latencies, errors, seconds."""
    latencies: List[float] = []
    errors: List[str] = []
    threads = [
        threading.Thread(
            target=player,
            args=(servers, rounds, latencies, errors),
            kwargs={"offset": 0 if lockstep else user * len(CONVERSATION) // users},
        )
        for user in range(users)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (rasa-sdk serves from a child), from /proc."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            with open(f"/proc/{current}/task/{current}/children") as handle:
                pending += [int(child) for child in handle.read().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def reference_seconds() -> float:
    """CPU seconds of a fixed pure-Python loop: this machine's speed drifts, so figures
    are comparable only between runs with similar reference times."""
    start = time.process_time()
    for _ in range(10_000_000):
        pass
    return time.process_time() - start


def report(label: str, latencies: List[float], errors: List[str], elapsed: float) -> None:
    print(
        f"{label:<22} turns={len(latencies):>5}  "
        f"p50={statistics.median(latencies):6.1f} ms  "
        f"p95={percentile(latencies, 95):6.1f} ms  "
        f"p99={percentile(latencies, 99):6.1f} ms  "
        f"throughput={len(latencies) / elapsed:6.1f} turns/s  errors={len(errors)}"
    )
    for error in errors[:5]:
        print(f"    error: {error}")


def fresh_database(workdir: Path, server: Optional[str]) -> str:
    """A new SQLite file, or a new database on the PostgreSQL server `server`."""
    if not server:
        return f"sqlite:///{workdir / 'bench.db'}"
    name = f"kavak_bench_{uuid.uuid4().hex[:12]}"
    with create_engine(server, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def start_servers(
    workers: int, servers: int, database: Optional[str] = None, settings: Optional[Dict[str, str]] = None
) -> List[Servers]:
    """A fresh database (SQLite, or on the PostgreSQL server `database`) with the sample
    catalog, one action server and `servers` Rasa servers of `workers` processes each;
    above one process, the SQL lock store. `settings`: more environment for the servers."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-turns-"))
    database_url = fresh_database(workdir, database)
    db.upgrade(database_url)
    sync(ROOT / "catalog" / "sample_catalog.csv", database_url)
    env = {"SANIC_WORKERS": str(workers), **(settings or {})}
    if workers * servers > 1:
        env["LOCK_STORE_TYPE"] = "stores.lock_store.SQLLockStore"
    first = Servers(workdir, database_url, env=env).start()
    started = [first]
    try:
        for _ in range(servers - 1):  # more Rasa servers on the same action server
            started.append(first.sharing_actions(workdir, env))
            started[-1].start_rasa()
    except Exception:
        stop_servers(started)
        raise
    return started


def stop_servers(started: List[Servers]) -> None:
    for servers in reversed(started[1:]):
        servers.stop_rasa()
    started[0].stop()


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", help="running Rasa server(s), comma-separated, played least-connections (default: start them)"
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="conversations per user")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes of each Rasa server (SANIC_WORKERS); above 1 with the SQL lock store",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="Rasa servers on one action server, each new conversation to the one with "
        "the fewest open connections; above 1 with the SQL lock store",
    )
    parser.add_argument(
        "--lockstep", action="store_true", help="all users start the conversation at the same moment, in step"
    )
    parser.add_argument("--database", help="a PostgreSQL server URL: a fresh database there instead of SQLite")
    args = parser.parse_args(argv)

    started = [] if args.url else start_servers(args.workers, args.servers, args.database)
    targets = LeastConnections(args.url.split(",") if args.url else [servers.url for servers in started])
    token = started[0].env["REST_API_TOKEN"] if started else os.environ.get("REST_API_TOKEN", "")
    REST_HEADERS["Authorization"] = f"Bearer {token}"
    rasa_pids = [servers.rasa.pid for servers in started]
    try:
        print(
            f"Conversation of {len(CONVERSATION)} turns against {', '.join(targets.urls)}"
            + (f" ({args.servers} Rasa server(s) of {args.workers} process(es))" if started else "")
        )
        print(f"Machine speed reference: {reference_seconds():.2f} s (10M-iteration Python loop)")
        for url in targets.urls:  # warm-up
            play(LeastConnections([url]), 1, [], [])
        for label, users, rounds in (
            ("1 user", 1, args.rounds * 4),
            (f"{args.users} concurrent users", args.users, args.rounds),
        ):
            before = started and (sum(map(cpu_seconds, rasa_pids)), cpu_seconds(started[0].actions.pid))
            latencies, errors, elapsed = run(targets, users, rounds, lockstep=args.lockstep)
            report(label, latencies, errors, elapsed)
            if started:  # where the time goes: CPU per turn of each kind of server
                rasa_cpu = (sum(map(cpu_seconds, rasa_pids)) - before[0]) / len(latencies) * 1000
                actions_cpu = (cpu_seconds(started[0].actions.pid) - before[1]) / len(latencies) * 1000
                print(f"{'':<22} CPU per turn: Rasa server {rasa_cpu:.1f} ms, action server {actions_cpu:.1f} ms")
        print(f"Machine speed reference: {reference_seconds():.2f} s (after)")
    finally:
        if started:
            stop_servers(started)


if __name__ == "__main__":
    main()
