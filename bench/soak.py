"""Soak: the benchmark conversation at a steady rate for a long time; latency and memory over time.

Starts one action server and two Rasa servers (SQL lock store) on a fresh database,
SQLite or a PostgreSQL server's (--database), and has --users customers play the
conversation of bench/turns.py, each waiting --pause seconds between messages, for
--minutes. Every --window minutes it prints that window's p50/p95/p99 and turns, and
the resident memory (RSS) of the Rasa servers and the action server: after warm-up
it must stay flat (every cache is bounded).

    .venv/actions/bin/python bench/soak.py --minutes 30 \\
        --database postgresql+psycopg2://kavak@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.turns import (  # noqa: E402
    CONVERSATION,
    REST_HEADERS,
    Connection,
    LeastConnections,
    percentile,
    reference_seconds,
    rest_sender,
    rest_turn,
    start_servers,
    stop_servers,
)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (rasa-sdk serves from a child), MB."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:")) / 1024
            with open(f"/proc/{current}/task/{current}/children") as handle:
                pending += [int(child) for child in handle.read().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def customer(targets: LeastConnections, until: float, pause: float, turns: List[Tuple[float, float, bool]]) -> None:
    """Conversation after conversation until `until`: (time, latency ms, ok) of each turn."""
    while time.monotonic() < until:
        connection, sender = targets.connect(), rest_sender()
        for message in CONVERSATION:
            if time.monotonic() >= until:
                break
            start = time.perf_counter()
            try:
                ok = rest_turn(connection, sender, message) is None
            except Connection.ERRORS:
                ok = False
            turns.append((time.monotonic(), (time.perf_counter() - start) * 1000, ok))
            time.sleep(pause)
        connection.close()


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--window", type=float, default=5, help="minutes per printed window")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds each customer waits between messages")
    parser.add_argument("--database", help="a PostgreSQL server URL: a fresh database there instead of SQLite")
    parser.add_argument(
        "--tracker-cache-mb", help="TRACKER_CACHE_MAX_MB of the Rasa servers (default: the setting's default)"
    )
    args = parser.parse_args(argv)

    cache = {"TRACKER_CACHE_MAX_MB": args.tracker_cache_mb} if args.tracker_cache_mb else {}
    started = start_servers(1, 2, args.database, cache)
    REST_HEADERS["Authorization"] = f"Bearer {started[0].env['REST_API_TOKEN']}"
    pids = {"rasa": [s.rasa.pid for s in started], "actions": [started[0].actions.pid]}
    targets = LeastConnections([s.url for s in started])
    turns: List[Tuple[float, float, bool]] = []
    try:
        print(
            f"Soak: {args.users} customers, {args.pause} s between messages, {args.minutes} min, "
            f"database {started[0].env['DATABASE_URL'].split('@')[-1]}, "
            f"TRACKER_CACHE_MAX_MB {args.tracker_cache_mb or 'default'}"
        )
        print(f"Machine speed reference: {reference_seconds():.2f} s")
        begin = time.monotonic()
        until = begin + args.minutes * 60
        threads = [
            threading.Thread(target=customer, args=(targets, until, args.pause, turns)) for _ in range(args.users)
        ]
        for thread in threads:
            thread.start()
        window, shown = args.window * 60, 0
        while any(thread.is_alive() for thread in threads):
            time.sleep(1)
            if time.monotonic() - begin >= (shown + 1) * window or not any(t.is_alive() for t in threads):
                low, high = begin + shown * window, begin + (shown + 1) * window
                if low >= until:
                    break  # the last turns, finished after the last window
                part = [t for t in turns if low <= t[0] < high]
                latencies = [t[1] for t in part] or [0.0]
                rasa = sum(rss_mb(pid) for pid in pids["rasa"])
                actions = sum(rss_mb(pid) for pid in pids["actions"])
                print(
                    f"minutes {shown * args.window:>4.0f}-{(shown + 1) * args.window:<4.0f} turns={len(part):>5} "
                    f"p50={percentile(latencies, 50):6.1f} ms p95={percentile(latencies, 95):6.1f} ms "
                    f"p99={percentile(latencies, 99):6.1f} ms errors={sum(not t[2] for t in part)}  "
                    f"RSS Rasa servers {rasa:,.0f} MB, action server {actions:,.0f} MB",
                    flush=True,
                )
                shown += 1
        print(f"Machine speed reference: {reference_seconds():.2f} s (after)")
    finally:
        stop_servers(started)


if __name__ == "__main__":
    main()
