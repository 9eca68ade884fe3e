"""The catalog importer: validation per row, snapshot semantics, exit codes, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from actions import db
from actions.catalog_sync import main
from actions.db import Car

HEADER = "stockId,km,price,make,model,year,version,bluetooth,largo,ancho,altura,carPlay\n"
GOOD = [
    '1001,45000,325000.0,Chevrolet,Spark,2021,"1.4 ACTIV D, MT",Sí,3635.0,1597.0,1522.0,Sí\n',
    '1002,30000,350000.0,Nissan,Versa,2021,"1.6 ADVANCE ""PLUS"" AT",Sí,4495.0,1740.0,1465.0,\n',
    "1003,60000,360000.0,Kia,Rio,2020,1.6 EX AT,No,4385.0,1725.0,1460.0,No\n",
]


@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    db.upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def write(tmp_path: Path, rows, name="catalog.csv", header=HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def cars(url: str) -> dict:
    with db.session_scope(url) as session:
        return {car.stock_id: car for car in session.scalars(select(Car))}


def test_valid_snapshot_is_imported_with_quoted_fields_and_features(tmp_path, database, capsys):
    assert main([str(write(tmp_path, GOOD))]) == 0
    stored = cars(database)
    assert set(stored) == {"1001", "1002", "1003"}
    assert stored["1002"].version == '1.6 ADVANCE "PLUS" AT'
    assert stored["1001"].bluetooth is True and stored["1001"].carplay is True
    assert stored["1002"].carplay is not True and stored["1003"].bluetooth is False
    assert stored["1001"].price == 325000 and stored["1001"].embedding
    assert "agregados: 3" in capsys.readouterr().out


@pytest.mark.parametrize(
    "row",
    [
        ",1000,300000,Kia,Rio,2020,EX,Sí,4385,1725,1460,\n",  # missing stockId
        "2001,mucho,300000,Kia,Rio,2020,EX,Sí,4385,1725,1460,\n",  # km not numeric
        "2001,1000,0,Kia,Rio,2020,EX,Sí,4385,1725,1460,\n",  # price not > 0
        "2001,-5,300000,Kia,Rio,2020,EX,Sí,4385,1725,1460,\n",  # negative km
        "2001,1000,300000,Kia,Rio,1985,EX,Sí,4385,1725,1460,\n",  # year too old
        "2001,1000,300000,Kia,Rio,2020,EX,Quizá,4385,1725,1460,\n",  # not Sí/No/empty
        "2001,1000,300000,Kia,Rio,2020,EX,Sí,-4385,1725,1460,\n",  # dimension not positive
        "1001,1000,300000,Kia,Rio,2020,EX,Sí,4385,1725,1460,\n",  # duplicate stockId
    ],
)
def test_each_bad_row_is_rejected_with_its_line_and_the_rest_applied(tmp_path, database, capsys, row):
    assert main([str(write(tmp_path, GOOD + [row]))]) == 1
    assert "línea 5" in capsys.readouterr().err
    stored = cars(database)
    assert {"1002", "1003"} <= set(stored)
    assert "2001" not in stored


def test_unusable_file_changes_nothing(tmp_path, database):
    assert main([str(write(tmp_path, GOOD))]) == 0
    missing_column = write(tmp_path, ["1,2,3\n"], name="bad.csv", header="stockId,km,price\n")
    assert main([str(missing_column)]) == 2
    assert main([str(tmp_path / "does-not-exist.csv")]) == 2
    assert set(cars(database)) == {"1001", "1002", "1003"}


def test_snapshot_retires_missing_cars_and_reimport_is_idempotent(tmp_path, database, capsys):
    assert main([str(write(tmp_path, GOOD))]) == 0
    changed = [GOOD[0].replace("325000.0", "315000.0"), GOOD[1]]
    assert main([str(write(tmp_path, changed))]) == 0
    out = capsys.readouterr().out
    assert "actualizados: 1" in out and "retirados: 1" in out
    stored = cars(database)
    assert stored["1003"].available is False  # kept for appointments, never offered
    assert stored["1001"].price == 315000
    assert main([str(write(tmp_path, changed))]) == 0
    assert "sin cambios: 2" in capsys.readouterr().out


def test_if_empty_loads_only_an_empty_catalog(tmp_path, database):
    assert main(["--if-empty", str(write(tmp_path, GOOD[:1]))]) == 0
    assert main(["--if-empty", str(write(tmp_path, GOOD, name="other.csv"))]) == 0
    assert set(cars(database)) == {"1001"}


def test_real_kavak_sample_imports_cleanly(database, shared_catalog):
    assert main([str(shared_catalog)]) == 0
    assert len(cars(database)) == 100
