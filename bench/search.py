"""Catalog index and search at scale, on a generated catalog.

Generates N cars (default 20,000) from the bundled sample's makes, models and
dimensions, then prints: the full import + index build as `make catalog` runs
it (model load included), an incremental re-import of 100 changed cars, the
index load, search-turn latency p50/p95 (parse, filter, rank, format) for
filter requests and for free descriptions whose embedding is never cached, and
the peak memory of this process, which holds what the action server holds: the
model and the index (the full import runs in its own process).

    .venv/actions/bin/python bench/search.py [--cars 20000] [--searches 400]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions import db  # noqa: E402
from actions.catalog import index as catalog_index  # noqa: E402
from actions.catalog.sync import COLUMNS, sync  # noqa: E402
from actions.search import turn as search  # noqa: E402

TRIMS = [
    "SENSE",
    "ADVANCE",
    "EXCLUSIVE",
    "LT",
    "PREMIER",
    "COMFORTLINE",
    "HIGHLINE",
    "LIMITED",
    "SPORT",
    "TOURING",
    "GT LINE",
    "XLE",
    "EX",
    "PLUS",
    "TITANIUM",
    "ICONIC",
]
GEARS = ["AUTO", "CVT", "MT", "DCT", "TA", "AT", "IVT", "TIPTRONIC"]
FILTERS = [
    "busco un {make} {model}",
    "{make} de menos de {price} mil",
    "autos entre 150 y {price} mil pesos",
    "un {model} {year} o más nuevo",
    "{make} con menos de 50 mil km",
    "autos con bluetooth y carplay",
    "una suv de {price} mil",
    "volswagen golff",
    "un chevy barato",
    "sedán automático {year} a 2024",
]
# Every free description gets two different words, so none is answered from the cache.
FREE = [
    "busco un auto económico familiar {words}",
    "camioneta grande para 7 {words}",
    "algo deportivo {words}",
    "un auto chico para la ciudad {words}",
    "una pickup 4x4 para trabajo {words}",
    "algo de lujo {words}",
    "sedán con cajuela amplia {words}",
    "una minivan familiar {words}",
]
WORDS = [
    "rojo",
    "seguro",
    "cómodo",
    "moderno",
    "práctico",
    "elegante",
    "rendidor",
    "amplio",
    "bonito",
    "confiable",
    "silencioso",
    "resistente",
    "ágil",
    "divertido",
    "clásico",
    "robusto",
]


def generate(path: Path, count: int, rng: random.Random) -> List[dict]:
    """Write `count` plausible cars built from the sample catalog's rows."""
    with open(ROOT / "catalog" / "sample_catalog.csv", encoding="utf-8") as handle:
        sample = list(csv.DictReader(handle))
    rows = []
    for i in range(count):
        row = dict(rng.choice(sample))
        row["stockId"] = str(100000 + i)
        row["km"] = str(rng.randint(5_000, 150_000))
        row["price"] = f"{rng.randint(150, 900) * 1000 - 1}.0"
        row["year"] = str(rng.randint(2014, 2024))
        row["version"] = f"{row['version'].split()[0]} {rng.choice(TRIMS)} {rng.choice(GEARS)}"
        rows.append(row)
    write(path, rows)
    return rows


def write(path: Path, rows: List[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def messages(index, count: int, rng: random.Random) -> List[tuple]:
    """(kind, text) pairs: filter requests and free descriptions, alternately."""
    out = []
    for i in range(count):
        car = rng.choice(index.cars)
        if i % 2:
            out.append(("libre", rng.choice(FREE).format(words=" ".join(rng.sample(WORDS, 2)))))
        else:
            text = rng.choice(FILTERS).format(
                make=car.make, model=car.model, year=car.year, price=rng.choice([200, 300, 400, 500])
            )
            out.append(("filtros", text))
    return out


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cars", type=int, default=20_000)
    parser.add_argument("--searches", type=int, default=400)
    args = parser.parse_args()
    rng = random.Random(7)
    workdir = Path(tempfile.mkdtemp(prefix="bench-search-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    db.upgrade(url)
    catalog, changed = workdir / "catalog.csv", workdir / "changed.csv"
    rows = generate(catalog, args.cars, rng)

    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "actions.catalog.sync", str(catalog)],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(
        f"full import + index build of {args.cars:,} cars (make catalog, model load included): "
        f"{time.perf_counter() - start:.1f} s"
    )

    catalog_index.encode_query("calentamiento")  # loads the model, as the first search does
    for row in rng.sample(rows, 100):
        row["price"] = f"{float(row['price']) + 10_000:.1f}"
        row["version"] += " NUEVA"  # description changes too: re-encoded
    write(changed, rows)
    start = time.perf_counter()
    result = sync(changed, url)
    print(f"incremental re-import, 100 changed cars: {time.perf_counter() - start:.2f} s ({result.encoded} re-encoded)")

    start = time.perf_counter()
    index = catalog_index.load_index(url)
    print(f"action-server index load: {time.perf_counter() - start:.2f} s")
    search.search_turn("busco un auto familiar", search.State(), index)  # warm-up
    timings = {"filtros": [], "libre": []}
    for kind, text in messages(index, args.searches, rng):
        catalog_index.encode_query.cache_clear()
        started = time.perf_counter()
        search.search_turn(text, search.State(), index)
        timings[kind].append((time.perf_counter() - started) * 1000)
    for label, values in (
        ("all", timings["filtros"] + timings["libre"]),
        ("filter requests", timings["filtros"]),
        ("free descriptions (uncached)", timings["libre"]),
    ):
        print(
            f"search turn, {label}: p50 {percentile(values, 50):.1f} ms, p95 {percentile(values, 95):.1f} ms "
            f"(n={len(values)})"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process (model + index of {len(index):,} cars): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
