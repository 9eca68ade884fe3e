"""Sync the catalog to a CSV snapshot: `python -m actions.catalog.sync [--if-empty] CSV`.

The CSV has the original's columns (stockId, km, price, make, model, year,
version, bluetooth, largo, ancho, altura, carPlay). Every row is validated; bad
rows are reported with their line number and reason and left out; the valid
rows are applied in one transaction. Cars missing from the snapshot become
unavailable (kept, since appointments refer to them); a car whose row was
rejected is left as it was. Only new or changed descriptions are encoded.

Bounds: the file is at most CATALOG_MAX_BYTES (20 MB) and CATALOG_MAX_ROWS
(50,000) cars; a text field longer than FIELD_MAX_CHARS rejects its row.

Exit status: 0 all rows valid, 1 some rows rejected (the rest applied),
2 the file is unusable (not a CSV, missing columns, no rows, too big): nothing
changes, 3 the database failed: the transaction is rolled back, nothing changes.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import re
import sys
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional, TextIO, Tuple

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from actions import db
from actions.catalog import index as catalog_index
from actions.catalog.index import CarData
from actions.db import Car, utcnow
from settings import current as current_settings

COLUMNS = [
    "stockId",
    "km",
    "price",
    "make",
    "model",
    "year",
    "version",
    "bluetooth",
    "largo",
    "ancho",
    "altura",
    "carPlay",
]
MIN_YEAR = 1990
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_YES_NO = {"si": True, "sí": True, "no": False, "": None}
FIELD_MAX_CHARS = {"stockId": 64, "make": 60, "model": 80, "version": 200}

logger = logging.getLogger(__name__)


def max_bytes() -> int:
    return current_settings().catalog_max_bytes


def max_rows() -> int:
    return current_settings().catalog_max_rows


class CatalogFileError(Exception):
    """The file cannot be used as a catalog at all (exit status 2)."""


Row = CarData  # a valid catalog row


DATA_FIELDS = [f.name for f in fields(Row) if f.name != "stock_id"]


@dataclass
class Rejection:
    line: int
    stock_id: str
    reasons: List[str]

    def __str__(self) -> str:
        who = f" (stockId {self.stock_id})" if self.stock_id else ""
        return f"línea {self.line}{who}: " + "; ".join(self.reasons)


@dataclass
class SyncResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    encoded: int = 0
    rejected: List[Rejection] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def summary(self) -> str:
        return (
            f"agregados: {self.added} · actualizados: {self.updated} · sin cambios: {self.unchanged}"
            f" · retirados: {self.removed} · rechazados: {len(self.rejected)}"
            f" · embeddings calculados: {self.encoded}"
        )


def _number(value: str, name: str, reasons: List[str]) -> Optional[float]:
    if not _NUMBER.match(value):
        reasons.append(f"{name} no es un número: {value!r}")
        return None
    return float(value)


def parse_row(raw: Dict[str, str], max_year: int) -> Tuple[Optional[Row], List[str]]:
    """Validate one CSV record; return the row or the reasons it is rejected."""
    value = {name: (raw.get(name) or "").strip() for name in COLUMNS}
    reasons: List[str] = [
        f"{name} tiene {len(value[name])} caracteres (máximo {limit})"
        for name, limit in FIELD_MAX_CHARS.items()
        if len(value[name]) > limit
    ]
    if not value["stockId"]:
        reasons.append("falta el stockId")
    for name in ("make", "model"):
        if not value[name]:
            reasons.append(f"falta {name}")
    price = _number(value["price"], "price", reasons)
    if price is not None and price <= 0:
        reasons.append(f"price debe ser mayor que 0: {value['price']}")
    km = _number(value["km"], "km", reasons)
    if km is not None and km < 0:
        reasons.append(f"km no puede ser negativo: {value['km']}")
    year = _number(value["year"], "year", reasons)
    if year is not None and (year != int(year) or not MIN_YEAR <= year <= max_year):
        reasons.append(f"year debe ser un año entre {MIN_YEAR} y {max_year}: {value['year']}")
    dims: Dict[str, Optional[float]] = {}
    for name in ("largo", "ancho", "altura"):
        dims[name] = None
        if value[name]:
            number = _number(value[name], name, reasons)
            if number is not None and number <= 0:
                reasons.append(f"{name} debe ser positivo: {value[name]}")
            dims[name] = number
    flags: Dict[str, Optional[bool]] = {}
    for name in ("bluetooth", "carPlay"):
        key = value[name].lower()
        if key not in _YES_NO:
            reasons.append(f"{name} debe ser Sí, No o vacío: {value[name]!r}")
        flags[name] = _YES_NO.get(key)
    if reasons:
        return None, reasons
    return Row(
        stock_id=value["stockId"],
        make=value["make"],
        model=value["model"],
        version=value["version"],
        year=int(year),
        price=int(round(price)),
        km=int(round(km)),
        bluetooth=flags["bluetooth"],
        carplay=flags["carPlay"],
        **dims,
    ), []


def _open_text(path: Path) -> TextIO:
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes() + 1)
    except OSError as error:
        raise CatalogFileError(f"no se puede leer {path}: {error.strerror or error}") from error
    if len(data) > max_bytes():
        raise CatalogFileError(f"{path} pasa de {max_bytes():,} bytes (CATALOG_MAX_BYTES)")
    if b"\x00" in data[:4096]:
        raise CatalogFileError(f"{path} no es un CSV de texto")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's default in Mexico
    return io.StringIO(text, newline="")


def read_catalog(path: Path, max_year: Optional[int] = None) -> Tuple[List[Row], List[Rejection]]:
    """Parse and validate the CSV; raise CatalogFileError when it is unusable."""
    max_year = max_year or date.today().year + 1
    reader = csv.reader(_open_text(path), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise CatalogFileError(f"{path} no es un CSV válido: {error}") from error
    if not header:
        raise CatalogFileError(f"{path} está vacío")
    header = [name.strip() for name in header]
    by_name = {name.lower(): i for i, name in enumerate(header)}
    missing = [name for name in COLUMNS if name.lower() not in by_name]
    if missing:
        raise CatalogFileError(f"{path}: faltan columnas {', '.join(missing)} (se esperan {', '.join(COLUMNS)})")
    positions = {name: by_name[name.lower()] for name in COLUMNS}

    rows: List[Row] = []
    rejected: List[Rejection] = []
    first_line: Dict[str, int] = {}
    line = reader.line_num + 1
    limit = max_rows()
    while True:
        if len(rows) + len(rejected) > limit:
            raise CatalogFileError(f"{path} tiene más de {limit:,} autos (CATALOG_MAX_ROWS)")
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise CatalogFileError(f"{path}, línea {reader.line_num}: CSV mal formado ({error})") from error
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        raw = {name: record[i] if i < len(record) else "" for name, i in positions.items()}
        stock_id = raw["stockId"].strip()
        if len(record) != len(header):
            rejected.append(Rejection(start, stock_id, [f"tiene {len(record)} campos y el encabezado {len(header)}"]))
            continue
        row, reasons = parse_row(raw, max_year)
        if row and row.stock_id in first_line:
            reasons = [f"stockId repetido (ya está en la línea {first_line[row.stock_id]})"]
            row = None
        if row is None:
            rejected.append(Rejection(start, stock_id, reasons))
            continue
        first_line[row.stock_id] = start
        rows.append(row)
    if not rows and not rejected:
        raise CatalogFileError(f"{path} no tiene ningún auto")
    return rows, rejected


class _Progress:
    """Progress of the encoding on stderr: a live line on a terminal, every 10% otherwise."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label, self.last_tenth = stream, label, -1

    def __call__(self, done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        text = f"{self.label}: {done:,}/{total:,} ({done * 100 // max(total, 1)}%)"
        if self.stream.isatty():
            self.stream.write("\r" + text + ("\n" if done >= total else ""))
        elif tenth != self.last_tenth:
            self.stream.write(text + "\n")
        self.last_tenth = tenth
        self.stream.flush()


def sync(path: Path, url: Optional[str] = None, progress: Optional[TextIO] = None) -> SyncResult:
    """Apply the CSV snapshot to the catalog; raise CatalogFileError when unusable."""
    rows, rejected = read_catalog(Path(path))
    result = SyncResult(rejected=rejected)
    model = catalog_index.model_id()
    columns = [getattr(Car, name) for name in DATA_FIELDS]

    with db.session_scope(url) as session:
        current = {
            stock_id: (tuple(values), available, digest, has_embedding)
            for stock_id, *values, available, digest, has_embedding in session.execute(
                select(Car.stock_id, *columns, Car.available, Car.description_hash, Car.embedding.is_not(None))
            )
        }

    # Describe and encode before opening the write transaction, so a long
    # encoding never holds a lock the running servers need.
    described = []
    for row in rows:
        description = catalog_index.describe(row)
        digest = catalog_index.description_hash(description, model)
        old = current.get(row.stock_id)
        stale = old is None or old[2] != digest or not old[3]
        described.append((row, description, digest, stale))
    to_encode = [description for _, description, _, stale in described if stale]
    vectors = iter(())
    if to_encode:
        reporter = _Progress(progress, "Calculando embeddings") if progress else None
        vectors = iter(catalog_index.encode(to_encode, progress=reporter))
    result.encoded = len(to_encode)

    now = utcnow()
    inserts, updates = [], []
    for row, description, digest, stale in described:
        values = {f.name: getattr(row, f.name) for f in fields(Row)}
        old = current.get(row.stock_id)
        changed = old is None or old[0] != tuple(values[name] for name in DATA_FIELDS) or not old[1]
        if stale:
            values.update(description=description, description_hash=digest, embedding=next(vectors).tobytes())
        if old is None:
            inserts.append({**values, "available": True, "updated_at": now})
            result.added += 1
        elif changed or stale:
            updates.append({**values, "available": True, "updated_at": now})
            if not old[1]:
                result.added += 1  # back on sale
            elif changed:
                result.updated += 1
            else:
                result.unchanged += 1
        else:
            result.unchanged += 1

    keep = {row.stock_id for row in rows} | {r.stock_id for r in rejected if r.stock_id}
    gone = [stock_id for stock_id, old in current.items() if old[1] and stock_id not in keep]
    result.removed = len(gone)

    with db.session_scope(url) as session:
        if inserts:
            session.execute(insert(Car), inserts)
        if updates:
            session.execute(update(Car), updates)
        for start in range(0, len(gone), 500):
            session.execute(
                update(Car).where(Car.stock_id.in_(gone[start : start + 500])).values(available=False, updated_at=now)
            )
    return result


def catalog_size(url: Optional[str] = None) -> int:
    with db.session_scope(url) as session:
        return session.scalar(select(func.count(Car.stock_id))) or 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.catalog.sync", description=__doc__.split("\n")[0])
    parser.add_argument("csv", type=Path, help="ruta del CSV del catálogo")
    parser.add_argument("--if-empty", action="store_true", help="solo si el catálogo no tiene autos")
    args = parser.parse_args(argv)
    if args.if_empty:
        count = catalog_size()
        if count:
            print(f"El catálogo ya tiene {count} autos: no se carga {args.csv}.")
            return 0
    try:
        result = sync(args.csv, progress=sys.stderr)
    except CatalogFileError as error:
        print(f"Error: {error}. El catálogo no cambió.", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        logger.exception("catalog sync failed in the database")
        print(f"Error de la base de datos ({type(error).__name__}). El catálogo no cambió.", file=sys.stderr)
        return 3
    for rejection in result.rejected:
        print(f"Rechazada {rejection}", file=sys.stderr)
    print(f"Catálogo sincronizado con {args.csv}: {result.summary()}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
