"""Catalog index and search at scale, on a generated catalog.

Generates N cars (default 20,000) from the bundled sample's makes and models,
then prints: full import + index build time, incremental re-import of 100
changed cars, search-turn latency p50/p95 over typical Spanish requests, and
the process's peak memory (what the action server holds for the index).

    .venv/actions/bin/python bench/search.py [--cars 20000]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions import db, search  # noqa: E402
from actions.catalog_index import load_index  # noqa: E402
from actions.catalog_sync import sync  # noqa: E402

REQUESTS = [
    "busco un auto económico familiar",
    "camioneta grande para 7",
    "algo deportivo",
    "volswagen golff",
    "autos entre 300 y 400 mil",
    "nissan versa 2020 con bluetooth",
    "una suv de menos de medio millón con carplay",
    "chevy con menos de 50 mil km",
    "sedán automático 2019 a 2021",
    "pickup para trabajo",
]


def generate(path: Path, count: int, seed: int = 7) -> None:
    """Write `count` plausible cars built from the sample catalog's rows."""
    with open(ROOT / "catalog" / "sample_catalog.csv", encoding="utf-8") as handle:
        sample = list(csv.DictReader(handle))
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(sample[0]))
        writer.writeheader()
        for i in range(count):
            row = dict(rng.choice(sample))
            row["stockId"] = str(100000 + i)
            row["km"] = str(rng.randint(5_000, 150_000))
            row["price"] = f"{rng.randint(150, 900) * 1000 - 1}.0"
            row["year"] = str(rng.randint(2014, 2024))
            writer.writerow(row)


def change_prices(source: Path, target: Path, changed: int) -> None:
    rows = list(csv.DictReader(open(source, encoding="utf-8")))
    for row in rows[:changed]:
        row["price"] = f"{float(row['price']) + 10_000:.1f}"
        row["version"] += " NUEVA"  # description changes too: re-encoded
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cars", type=int, default=20_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-search-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    db.upgrade(url)
    catalog, changed = workdir / "catalog.csv", workdir / "changed.csv"
    generate(catalog, args.cars)
    change_prices(catalog, changed, 100)

    start = time.perf_counter()
    sync(catalog, url)
    print(f"full import + index build of {args.cars:,} cars: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    result = sync(changed, url)
    print(f"incremental re-import, 100 changed cars: {time.perf_counter() - start:.2f} s "
          f"({result.encoded} re-encoded)")

    start = time.perf_counter()
    index = load_index(url)
    print(f"action-server index load: {time.perf_counter() - start:.2f} s")
    search.search_turn(REQUESTS[0], search.State(), index)  # warm-up
    latencies = []
    for _ in range(10):
        for text in REQUESTS:
            started = time.perf_counter()
            search.search_turn(text, search.State(), index)
            latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    print(f"search turn over {len(latencies)} requests: p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95) - 1]:.1f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process (model + index): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
