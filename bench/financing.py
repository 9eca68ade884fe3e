"""Cost of the financing logic per turn, without servers.

Times what the action server does for a financing message: parse the text,
build the four plans (36/48/60/72 months, exact schedules in Decimal) and write
the WhatsApp message; then one yearly table. Prints microseconds per operation
and the peak memory of building the plans.

    .venv/actions/bin/python bench/financing.py [--repeat 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actions.financing import plan as financing  # noqa: E402

MESSAGE = "calcula el financiamiento para un auto de 500 mil con 20% de enganche y tasa de 12%"


def four_plans() -> str:
    given = financing.parse_message(MESSAGE)
    down = given.price * given.down_pct / 100
    plans = [financing.make_plan(given.price, down, months, given.rate) for months in financing.TERMS]
    return financing.describe_plans(plans)


def table() -> str:
    return financing.describe_yearly_table(financing.make_plan(500_000, 100_000, 72, 12))


def per_call_us(func, repeat: int) -> float:
    func()
    start = time.perf_counter()
    for _ in range(repeat):
        func()
    return (time.perf_counter() - start) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()

    parse_us = per_call_us(lambda: financing.parse_message(MESSAGE), args.repeat)
    plans_us = per_call_us(four_plans, args.repeat)
    table_us = per_call_us(table, args.repeat)
    tracemalloc.start()
    four_plans()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"parse message           {parse_us:8.1f} µs")
    print(f"parse + 4 plans + text  {plans_us:8.1f} µs")
    print(f"72-month yearly table   {table_us:8.1f} µs")
    print(f"peak memory, 4 plans    {peak / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
