"""Car search in conversation, on the real servers and the bundled sample catalog."""

from __future__ import annotations

import re
import time

import pytest

from actions import db
from actions.catalog.index import RELOAD_SECONDS
from actions.catalog.sync import sync
from tests.servers import ROOT, Servers

PRICE = re.compile(r"\$(\d{1,3}(?:,\d{3})+)")


@pytest.fixture(scope="module")
def catalog_servers(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("search")
    url = f"sqlite:///{workdir / 'search.db'}"
    db.upgrade(url)
    sync(ROOT / "catalog" / "sample_catalog.csv", url)
    running = Servers(workdir, url).start()
    running.database_url = url
    yield running
    running.stop()


def prices(text: str) -> list:
    return [int(p.replace(",", "")) for p in PRICE.findall(text)]


def test_price_range_lists_three_to_five_cars_within_it(catalog_servers):
    reply = catalog_servers.say_text("search-range", "autos entre 300 y 400 mil")
    found = prices(reply)
    assert 3 <= reply.count("🚗") <= 5
    assert found and all(300_000 <= p <= 400_000 for p in found)


def test_typos_find_the_model_and_more_pages_do_not_repeat(catalog_servers):
    first = catalog_servers.say_text("search-typo", "busco un volswagen")
    assert "Volkswagen" in first
    second = catalog_servers.say_text("search-typo", "muéstrame más")
    titles = lambda text: set(re.findall(r"\*([^*]+ \d{4})\*", text))  # noqa: E731
    assert titles(first) and titles(second)
    assert not titles(first) & titles(second)


def test_details_of_the_second_car_put_it_in_focus_and_features_are_truthful(catalog_servers):
    sender = "search-details"
    catalog_servers.say_text(sender, "quiero una camioneta")
    details = catalog_servers.say_text(sender, "dame más detalles del segundo")
    stock = re.search(r"Stock: (\S+)", details).group(1)
    tracker = catalog_servers.tracker(sender)
    assert tracker["slots"]["car_in_focus"] == stock
    with db.session_scope(catalog_servers.database_url) as session:
        car = session.get(db.Car, stock)
        has_bluetooth = bool(car.bluetooth)
        price = car.price
    assert f"${price:,}" in details
    answer = catalog_servers.say_text(sender, "¿tiene bluetooth?")
    assert answer.startswith("🎵 ¡Sí!") if has_bluetooth else "no" in answer.lower()


def test_a_make_never_seen_in_training_is_found_after_a_catalog_sync(catalog_servers, tmp_path):
    sample = (ROOT / "catalog" / "sample_catalog.csv").read_text(encoding="utf-8")
    new_car = "990001,12000,689999.0,Cupra,Formentor,2023,1.5 TSI DSG,Sí,4450.0,1839.0,1511.0,Sí\n"
    snapshot = tmp_path / "catalog.csv"
    snapshot.write_text(sample.rstrip("\n") + "\n" + new_car, encoding="utf-8")
    sync(snapshot, catalog_servers.database_url)
    time.sleep(RELOAD_SECONDS + 0.5)  # the running action server notices within this
    reply = catalog_servers.say_text("search-new-make", "busco un cupra formentor")
    assert "Cupra Formentor" in reply and "$689,999" in reply


def test_no_results_says_so_and_offers_to_relax(catalog_servers):
    reply = catalog_servers.say_text("search-none", "busco un auto de menos de 50 mil")
    assert "$" not in reply.split("\n")[0] or "no" in reply.lower()
    assert "no encontr" in reply.lower() or "no tengo" in reply.lower()


def slots_of(servers, sender: str) -> dict:
    return servers.tracker(sender)["slots"]


def test_filters_accumulate_in_one_slot_and_reset_clears_them(catalog_servers):
    sender = "search-accumulate"
    catalog_servers.say_text(sender, "busco un Volkswagen")
    reply = catalog_servers.say_text(sender, "que sea de menos de 400 mil")
    filters = slots_of(catalog_servers, sender)["search_filters"]
    assert filters["make"] == "Volkswagen" and filters["price_max"] == 400_000
    assert prices(reply) and all(p <= 400_000 for p in prices(reply))
    assert "Volkswagen" in reply
    reply = catalog_servers.say_text(sender, "borra los filtros")
    assert "borré los filtros" in reply
    assert not slots_of(catalog_servers, sender)["search_filters"]


def test_a_yes_after_no_results_relaxes_the_nearest_filter(catalog_servers):
    sender = "search-relax"
    reply = catalog_servers.say_text(sender, "busco un Volkswagen de menos de 100 mil")
    assert "No encontré" in reply and "subir tu presupuesto" in reply
    reply = catalog_servers.say_text(sender, "sí")
    assert "Volkswagen" in reply and prices(reply)
    assert slots_of(catalog_servers, sender)["search_filters"]["price_max"] > 100_000


def test_compare_the_first_two_results(catalog_servers):
    sender = "search-compare"
    catalog_servers.say_text(sender, "busco un sedán")
    reply = catalog_servers.say_text(sender, "compara el primero con el segundo")
    assert reply.startswith("⚖️") and reply.count("|") >= 7


def test_a_question_about_a_named_car_answers_from_its_data(catalog_servers):
    sender = "search-named"
    catalog_servers.say_text(sender, "Busco un Chevrolet Spark")
    reply = catalog_servers.say_text(sender, "¿Tiene carplay el Spark?")
    stock = slots_of(catalog_servers, sender)["car_in_focus"]
    with db.session_scope(catalog_servers.database_url) as session:
        car = session.get(db.Car, stock)
        assert car.model == "Spark"
        has_carplay = bool(car.carplay)
    assert reply.startswith("📱 ¡Sí!") if has_carplay else reply.startswith("📱 No")
