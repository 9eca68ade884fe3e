"""The catalog importer: validation per row, snapshot semantics, exit codes, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from actions import db
from actions.catalog.index import body_type, describe
from actions.catalog.sync import main
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
        "2001,1000,trescientos,Kia,Rio,2020,EX,Sí,4385,1725,1460,\n",  # price not numeric
        "2001,1000,300000,Kia,Rio,dosmil,EX,Sí,4385,1725,1460,\n",  # year not numeric
        "2001,1000,300000,Kia,Rio,2099,EX,Sí,4385,1725,1460,\n",  # year after next year
        "2001,1000,300000,Kia,Rio,2020,EX,Sí,4385,ancho,1460,\n",  # dimension not numeric
        "2001,1000,300000,Kia,Rio,2020,EX,Sí,4385,1725,1460,Yes\n",  # carPlay not Sí/No/empty
        "2001,1000,300000,,Rio,2020,EX,Sí,4385,1725,1460,\n",  # make missing
        "2001,1000,300000,Kia,Rio,2020,EX,Sí,4385,1725\n",  # fields missing
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


def test_a_file_over_the_size_limit_changes_nothing(tmp_path, database, capsys, monkeypatch):
    assert main([str(write(tmp_path, GOOD))]) == 0
    monkeypatch.setenv("CATALOG_MAX_BYTES", "200")
    assert main([str(write(tmp_path, GOOD + GOOD[:1], name="big.csv"))]) == 2
    assert "CATALOG_MAX_BYTES" in capsys.readouterr().err
    assert len(cars(database)) == 3


def test_a_file_over_the_row_limit_changes_nothing(tmp_path, database, capsys, monkeypatch):
    monkeypatch.setenv("CATALOG_MAX_ROWS", "2")
    assert main([str(write(tmp_path, GOOD))]) == 2
    assert "CATALOG_MAX_ROWS" in capsys.readouterr().err
    assert cars(database) == {}


def test_an_overlong_field_rejects_only_its_row(tmp_path, database, capsys):
    row = "2001,1000,300000,Kia,Rio,2020," + "EX " * 100 + ",Sí,4385,1725,1460,\n"
    assert main([str(write(tmp_path, GOOD + [row]))]) == 1
    assert "version tiene 299 caracteres (máximo 200)" in capsys.readouterr().err
    assert set(cars(database)) == {"1001", "1002", "1003"}


def test_a_database_error_rolls_the_whole_import_back(tmp_path, database, capsys):
    assert main([str(write(tmp_path, GOOD))]) == 0
    with db.session_scope(database) as session:  # a real failure half-way through the write
        session.execute(
            text(
                "CREATE TRIGGER refuse BEFORE UPDATE ON cars WHEN NEW.stock_id = '1002' "
                "BEGIN SELECT RAISE(ABORT, 'disco lleno'); END"
            )
        )
    changed = [
        GOOD[0].replace("325000.0", "300000"),
        GOOD[1].replace("350000.0", "340000"),
        "1004,1000,300000,Kia,Rio,2020,EX,Sí,4385,1725,1460,\n",
    ]
    assert main([str(write(tmp_path, changed, name="new.csv"))]) == 3
    assert "Error de la base de datos" in capsys.readouterr().err
    stored = cars(database)
    assert set(stored) == {"1001", "1002", "1003"} and all(car.available for car in stored.values())
    assert (stored["1001"].price, stored["1002"].price) == (325000, 350000)


def test_every_reason_of_a_bad_row_is_reported(tmp_path, database, capsys):
    row = "2001,-1,0,Kia,Rio,1900,EX,Tal vez,4385,1725,1460,\n"
    assert main([str(write(tmp_path, GOOD + [row]))]) == 1
    err = capsys.readouterr().err
    for reason in (
        "km no puede ser negativo",
        "price debe ser mayor que 0",
        "year debe ser un año",
        "bluetooth debe ser",
    ):
        assert reason in err


@pytest.mark.parametrize(
    "content",
    [b"", HEADER.encode(), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b'{"stockId": 1, "km": 2}\n'],
    ids=["empty", "header only", "binary", "json"],
)
def test_files_that_are_not_a_catalog_change_nothing(tmp_path, database, content, capsys):
    assert main([str(write(tmp_path, GOOD))]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    assert main([str(bad)]) == 2
    assert "El catálogo no cambió" in capsys.readouterr().err
    assert {car.available for car in cars(database).values()} == {True} and len(cars(database)) == 3


def test_excel_encoding_and_extra_columns_are_accepted(tmp_path, database):
    header = HEADER.rstrip("\n") + ",color\n"
    path = tmp_path / "excel.csv"
    path.write_bytes((header + GOOD[2].rstrip("\n") + ",rojo\n").encode("cp1252"))
    assert main([str(path)]) == 0
    assert cars(database)["1003"].model == "Rio"


def test_only_new_or_changed_descriptions_are_encoded(tmp_path, database, capsys):
    assert main([str(write(tmp_path, GOOD))]) == 0
    assert "embeddings calculados: 3" in capsys.readouterr().out
    before = cars(database)["1002"].embedding
    # Same price band and same description: updated, not re-encoded.
    cheaper = [GOOD[0].replace("325000.0", "320000.0"), GOOD[1], GOOD[2]]
    assert main([str(write(tmp_path, cheaper))]) == 0
    assert "actualizados: 1" in (out := capsys.readouterr().out) and "embeddings calculados: 0" in out
    # A new version changes the description: only that car is encoded again.
    renamed = [cheaper[0], cheaper[1].replace("ADVANCE", "EXCLUSIVE"), cheaper[2]]
    assert main([str(write(tmp_path, renamed))]) == 0
    assert "embeddings calculados: 1" in capsys.readouterr().out
    assert cars(database)["1002"].embedding != before


def test_a_retired_car_that_comes_back_is_offered_again(tmp_path, database, capsys):
    assert main([str(write(tmp_path, GOOD))]) == 0
    assert main([str(write(tmp_path, GOOD[:2]))]) == 0
    assert main([str(write(tmp_path, GOOD))]) == 0
    assert "agregados: 1" in capsys.readouterr().out.splitlines()[-1]
    assert cars(database)["1003"].available is True


def test_a_rejected_row_leaves_its_car_as_it_was(tmp_path, database):
    assert main([str(write(tmp_path, GOOD))]) == 0
    broken = [GOOD[0], GOOD[1], GOOD[2].replace("360000.0", "-1")]
    assert main([str(write(tmp_path, broken))]) == 1
    kept = cars(database)["1003"]
    assert kept.available is True and kept.price == 360000


@pytest.mark.parametrize(
    "model, version, dims, body",
    [
        ("Versa", "1.6 ADVANCE CVT", (4495, 1740, 1465), "sedan"),
        ("Gol", "1.6 5 PTAS. TRENDLINE", (3897, 1656, 1464), "hatchback"),
        ("Kicks", "1.6 ADVANCE XTRONIC", (4294, 1760, 1590), "suv"),
        ("Frontier", "2.5 PRO-4X AUTO 4WD", (5252, 1875, 1851), "pickup"),
        ("Saveiro", "1.6 ROBUST CABINA SENCILLA MT", (4493, 1715, 1494), "pickup"),
        ("Odyssey", "3.5 TOURING AUTO", (5180, 1995, 1735), "minivan"),
        ("MX-5", "2.0 GRAND TOURING CONVERTIBLE TA", (3915, 1735, 1235), "coupe"),
        ("Mazda 3", "2.5 HATCHBACK S GT TA", (4460, 2053, 1465), "hatchback"),
    ],
)
def test_body_type_comes_from_dimensions_and_version(model, version, dims, body):
    car = Car(
        make="X",
        model=model,
        version=version,
        year=2020,
        price=300000,
        km=1000,
        largo=dims[0],
        ancho=dims[1],
        altura=dims[2],
    )
    assert body_type(car) == body
    assert describe(car).startswith(f"X {model} {version} modelo 2020.")


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
