"""Search in plain Python on real data: the bundled sample plus the real Kavak sample when present.

Filters from Spanish text (typos, amounts, ranges, features, body types), hybrid
ranking, paging without repeats, relaxation when nothing matches, details,
truthful feature answers, comparisons, a catalog reloaded without restarting.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from actions import db
from actions.catalog import embeddings
from actions.catalog import index as catalog_index
from actions.catalog.sync import sync
from actions.search import filters as search_filters
from actions.search import replies as search_replies
from actions.search import turn as search
from actions.texts import say
from tests.conftest import SHARED_CATALOG
from tests.servers import ROOT
from understanding import names as search_names
from understanding.cues import is_list_number, list_position
from understanding.known_cars import KNOWN_MAKES

SAMPLE = ROOT / "catalog" / "sample_catalog.csv"
HEADER = SAMPLE.read_text(encoding="utf-8").splitlines()[0]


def snapshot(tmp_path: Path, *extra_rows: str, name: str = "snapshot.csv") -> Path:
    """The bundled sample plus the real sample (when present) plus extra rows."""
    rows = SAMPLE.read_text(encoding="utf-8").splitlines()[1:]
    if SHARED_CATALOG.exists():
        rows += SHARED_CATALOG.read_text(encoding="utf-8").splitlines()[1:]
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows, *extra_rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> str:
    workdir = tmp_path_factory.mktemp("search")
    url = f"sqlite:///{workdir / 'search.db'}"
    db.upgrade(url)
    sync(snapshot(workdir), url)
    return url


@pytest.fixture(scope="module")
def index(url):
    return catalog_index.load_index(url)


def run(index, text: str, filters=None):
    parsed = search_filters.parse_request(text, index)
    merged = search_filters.merge_filters(filters or {}, parsed)
    return merged, search.search(index, merged, limit=50)


# --- Understanding the message ------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("volswagen golff", {"make": "Volkswagen", "model": "Golf"}),
        ("Muéstrame Volkswagens Golf", {"make": "Volkswagen", "model": "Golf"}),
        ("un chevy de menos de 200 mil", {"make": "Chevrolet", "price_max": 200_000}),
        ("tienes algun Mazda CX5?", {"make": "Mazda", "model": "CX-5"}),
        ("nisan sentra entre 2018 y 2020", {"make": "Nissan", "model": "Sentra", "year_min": 2018, "year_max": 2020}),
        ("toyta corola", {"make": "Toyota", "model": "Corolla"}),
        ("quiero un vocho", {"make": "Volkswagen"}),
        ("Autos entre 300 y 400 mil pesos", {"price_min": 300_000, "price_max": 400_000}),
        ("algo alrededor de medio millón", {"price_min": 450_000, "price_max": 550_000}),
        ("hasta $350,000", {"price_max": 350_000}),
        ("algo de 350k", {"price_max": 350_000}),
        ("1.2 millones máximo", {"price_max": 1_200_000}),
        ("menos de 250", {"price_max": 250_000}),
        ("un jetta 2018 o más nuevo", {"model": "Jetta", "year_min": 2018, "query": None}),
        ("un jetta 2018 hacia adelante", {"model": "Jetta", "year_min": 2018, "query": None}),
        ("un Jetta 2019", {"model": "Jetta", "year_min": 2019, "year_max": 2019}),
        ("con menos de 50 mil km", {"km_max": 50_000}),
        ("Autos con bluetooth y carplay", {"bluetooth": True, "carplay": True}),
        ("una troca", {"body_type": "pickup"}),
        ("camioneta grande para 7", {"body_type": "camioneta"}),
        ("un sedán barato", {"body_type": "sedan", "sort": "price_asc"}),
        ("y mas barato q 350?", {"price_max": 350_000}),
        ("menos q 200 mil", {"price_max": 200_000}),
        ("algo mas caro que 300 mil", {"price_min": 300_000}),
        ("algo familiar pa 7 personas", {"query": "familiar para 7 pasajeros"}),
        ("necesito algo pa la familia, somos 6", {"query": "familia para 7 pasajeros"}),
        ("y de 7 asientos?", {"query": "para 7 pasajeros", "price_max": None}),
        ("kiero una camionetita q no consuma mucho", {"body_type": "suv", "query": "bajo consumo de gasolina"}),
    ],
)
def test_filters_from_spanish_text(index, text, expected):
    filters = search_filters.parse_request(text, index).filters
    assert {key: filters.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    "text",
    [
        "qué onda, busco algo económico",
        "un auto que entra en mi presupuesto",
        "quiero uno familiar",
        "cerca del río",
        "de qué marca son",
        "algo fuerte para carretera",
        "necesito la factura",
        "¿tiene cámara de reversa?",
        "lo quiero pagar a 3 años",
    ],
)
def test_everyday_words_are_not_taken_for_makes_or_models(index, text):
    assert search_names.find_names(text, index.vocabulary) == []


def test_models_that_are_spanish_words_count_when_capitalised_or_with_their_make(index):
    models = lambda text: [m.model for m in search_names.find_names(text, index.vocabulary) if m.model]  # noqa: E731
    assert models("compara el Versa con el Rio") == ["Versa", "Rio"]
    assert models("un kia rio") == ["Rio"]
    assert models("tienes rio?") == []
    assert [m.model for m in search_names.find_names("y el rio?", index.vocabulary, known=["Rio"])] == ["Rio"]


def test_a_model_name_with_a_stopword_needs_the_whole_name(index):
    assert search_names.find_names("un auto de a 3 años", index.vocabulary) == []
    models = lambda text: [(m.make, m.model) for m in search_names.find_names(text, index.vocabulary) if m.model]  # noqa: E731
    assert models("un Audi A3") == [("Audi", "A3")]
    assert models("un Mercedes Clase A") == [("Mercedes Benz", "Clase A")]


def test_numbers_that_are_models_or_seats_are_not_prices(index):
    filters = search_filters.parse_request("Mazda 3 para 5 personas", index).filters
    assert filters["model"] == "Mazda 3" and "price_max" not in filters


def test_filters_accumulate_are_corrected_and_cleared(index):
    filters, _ = run(index, "busco un Volkswagen de menos de 400 mil")
    filters, _ = run(index, "que sea 2019 o más nuevo", filters)
    assert filters["make"] == "Volkswagen" and filters["price_max"] == 400_000 and filters["year_min"] == 2019
    filters, _ = run(index, "mejor un Mazda", filters)
    assert filters["make"] == "Mazda" and filters["price_max"] == 400_000
    filters, _ = run(index, "sin límite de precio", filters)
    assert "price_max" not in filters and filters["make"] == "Mazda"
    filters, _ = run(index, "mejor una camioneta", filters)
    assert filters["body_type"] == "camioneta" and "model" not in filters


def test_sin_el_precio_takes_the_price_back(index):
    filters, _ = run(index, "pickups 4x4 de menos de 500 mil")
    assert filters["price_max"] == 500_000 and filters["traction"] == "4x4"
    filters, _ = run(index, "y sin el precio?", filters)
    assert "price_max" not in filters and filters["body_type"] == "pickup"
    filters, _ = run(index, "y sin lo de 4x4?", filters)
    assert "traction" not in filters and filters["body_type"] == "pickup"
    filters, _ = run(index, "automaticas", filters)
    filters, _ = run(index, "sin lo de automatica", filters)
    assert "transmission" not in filters and filters["body_type"] == "pickup"
    filters, _ = run(index, "con bluetooth", filters)
    filters, _ = run(index, "y sin lo de bluetooth", filters)
    assert "bluetooth" not in filters and filters["body_type"] == "pickup"


def test_a_new_subject_drops_the_old_free_description_a_refinement_keeps_it(index):
    filters, _ = run(index, "ando buscando una troca pa trabajar")
    assert filters["body_type"] == "pickup" and filters.get("query")
    refined, _ = run(index, "algo mas barato?", filters)
    assert refined["query"] == filters["query"]
    filters, cars = run(index, "mejor enseñame sedanes automaticos de menos de 250", refined)
    assert "query" not in filters and filters["body_type"] == "sedan" and cars


def test_two_models_of_two_makes_are_named_in_pairs(index):
    filters, _ = run(index, "enseñame unos versa o aveo")
    assert search_filters.Names().describe(filters) == "Nissan Versa o Chevrolet Aveo"


def test_a_search_names_a_model_that_starts_with_its_make_once():
    assert search_filters.Names().describe({"make": "Mazda", "model": "Mazda 3"}) == "Mazda 3"
    assert search_filters.Names().describe({"make": "Volkswagen", "model": ["Golf", "Jetta"]}) == (
        "Volkswagen Golf o Volkswagen Jetta"
    )


@pytest.mark.parametrize("question", ["cual es el mas nuevo", "¿y el más nuevo?", "dime el mas nuevo"])
def test_asking_for_the_newest_puts_that_one_car_in_focus(index, question):
    filters, _ = run(index, "enseñame unos versa o aveo")
    reply = search.search_turn(question, search.State(filters=filters), index)
    newest = max((index.get(i) for i in reply.slots["search_page"]), key=lambda car: car.year)
    assert reply.slots["car_in_focus"] == reply.slots["search_page"][0]
    assert index.get(reply.slots["car_in_focus"]).year == newest.year
    assert reply.text.startswith("Es el *") and "el primero de la lista" in reply.text


def test_asking_for_the_cheapest_of_a_one_car_list_says_it_is_the_only_one(index):
    counts = Counter(car.model for car in index.cars)
    only = next(car for car in index.cars if counts[car.model] == 1)
    filters, _ = run(index, f"busco un {only.model}")
    shown = search.search_turn(f"busco un {only.model}", search.State(), index)
    assert shown.slots["search_page"] == [only.stock_id]
    state = search.State(filters=filters, shown=[only.stock_id], page=[only.stock_id])
    reply = search.search_turn("y el mas barato?", state, index)
    assert reply.slots["car_in_focus"] == only.stock_id
    assert reply.text.startswith("Es el único") and only.model in reply.text
    assert "1." not in reply.text  # the one-car list is not shown again
    more = search.more_turn("enseñame mas", state, index)
    assert more.text.startswith("Ya te mostré el único auto que encontré")


def test_asking_for_the_newest_cars_is_a_list_without_a_focus(index):
    filters, _ = run(index, "enseñame unos versa o aveo")
    reply = search.search_turn("cuales son los mas nuevos", search.State(filters=filters), index)
    assert "car_in_focus" not in reply.slots or reply.slots["car_in_focus"] is None


def test_a_new_body_type_drops_the_carried_filter_that_hides_it(index):
    filters, _ = run(index, "algo de menos de 150 mil")
    reply = search.search_turn("mejor una troca", search.State(filters=filters), index)
    assert "Quité el filtro «hasta $150,000» para mostrarte opciones *pickup*" in reply.text
    assert reply.slots["search_page"] and "price_max" not in reply.slots["search_filters"]


def test_a_query_is_encoded_as_the_model_encodes_it():
    model = embeddings.get_model()
    for text in ("algo deportivo", "un auto " + "familiar y rendidor " * 80):  # the second is truncated
        expected = model.encode([text], normalize_embeddings=True)[0]
        assert float(catalog_index.encode_query(text) @ expected) > 0.999


# --- Results ------------------------------------------------------------------------


def test_ranges_and_features_are_respected(index):
    _, results = run(index, "autos entre 300 y 400 mil con carplay del 2020 en adelante")
    assert results.cars
    for car in results.cars:
        assert 300_000 <= car.price <= 400_000 and car.carplay and car.year >= 2020


def test_km_and_body_type_are_respected(index):
    _, results = run(index, "una SUV con menos de 40 mil km")
    assert results.cars and all(c.body == "suv" and c.km <= 40_000 for c in results.cars)


def test_a_typo_in_the_make_finds_the_cars_of_that_make(index):
    _, results = run(index, "muestrame chevrolets")
    assert results.total >= 8 and {c.make for c in results.cars} == {"Chevrolet"}


def test_free_descriptions_rank_within_the_filters(index):
    _, results = run(index, "camioneta grande para 7")
    top = results.cars[:3]
    assert all(catalog_index.seats_seven(c) or c.body == "minivan" or (c.largo or 0) >= 4800 for c in top)
    _, results = run(index, "una pickup 4x4")
    assert results.cars and all(c.body == "pickup" for c in results.cars)
    assert catalog_index.all_wheel_drive(results.cars[0])


def test_economico_breaks_ties_by_price(index):
    _, cheap = run(index, "un sedán económico")
    _, plain = run(index, "un sedán")
    average = lambda cars: sum(c.price for c in cars[:4]) / 4  # noqa: E731
    assert average(cheap.cars) < average(plain.cars)


def test_pages_never_repeat_and_cover_every_match(index):
    filters, first = run(index, "un sedán")
    state = search.State(filters=filters)
    seen = []
    while True:
        reply = search.more_turn("muéstrame más", state, index)
        page = reply.slots.get("search_page")
        if not reply.slots.get("search_shown") or page == []:
            break
        if reply.slots["search_shown"] == state.shown:
            break
        assert 1 <= len(page) <= search.PAGE_SIZE
        seen += page
        state = search.State(filters=filters, shown=reply.slots["search_shown"], page=page)
    assert len(seen) == len(set(seen)) == first.total
    assert "Ya te mostré" in reply.text


def test_results_message_is_whatsapp_shaped(index):
    reply = search.search_turn("autos entre 300 y 400 mil", search.State(), index)
    assert 3 <= reply.text.count("🚗") <= 5
    assert re.search(r"💰 \$\d{3},\d{3}", reply.text) and " km" in reply.text
    assert all(len(message) <= 1600 for message in reply.messages)
    assert len(reply.slots["search_page"]) == reply.text.count("🚗")


def test_no_results_offers_the_nearest_relaxation_and_yes_applies_it(index):
    reply = search.search_turn("un Volkswagen de menos de 100 mil", search.State(), index)
    assert "No encontré" in reply.text and reply.slots["search_relax"] == "price_max"
    assert "subir tu presupuesto" in reply.text
    state = search.State(filters=reply.slots["search_filters"], relax=reply.slots["search_relax"])
    relaxed = search.affirm_turn(state, index)
    assert relaxed.slots["search_page"]
    cheapest_vw = min(c.price for c in index.cars if c.make == "Volkswagen")
    assert relaxed.slots["search_filters"]["price_max"] >= cheapest_vw
    assert relaxed.slots["search_filters"]["make"] == "Volkswagen"


@pytest.mark.parametrize("text", ["un Versa o un Rio del 2023 en adelante", "un Versa o un Rio 2022 con carplay"])
def test_no_results_for_several_names_still_offers_a_relaxation(index, text):
    reply = search.search_turn(text, search.State(), index)
    assert "No encontré" in reply.text and reply.slots["search_relax"]


def test_a_make_with_no_cars_is_answered_honestly_with_labelled_alternatives(index):
    reply = search.search_turn("busco un Tesla", search.State(), index)
    assert reply.text.startswith("No tenemos *Tesla* por ahora")
    assert "alternativas más cercanas (de marcas premium)" in reply.text
    shown = [index.get(stock_id) for stock_id in reply.slots["search_page"]]
    assert shown and all(KNOWN_MAKES.get(car.make) in ("premium", "sport") for car in shown)


def test_a_new_model_is_found_without_retraining_and_sold_cars_are_never_offered(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    db.upgrade(url)
    new = "990001,8000,459999.0,BYD,Dolphin,2024,ELECTRICO EV AUTO,Sí,4290.0,1770.0,1570.0,Sí"
    sync(snapshot(tmp_path, new), url)
    index = catalog_index.load_index(url)
    for text in ("busco un BYD Dolphin", "un dolphin", "busco un dolpin"):
        _, results = run(index, text)
        assert [c.stock_id for c in results.cars] == ["990001"], text
    sync(snapshot(tmp_path, name="sold.csv"), url)  # the Dolphin was sold
    index = catalog_index.load_index(url)
    assert index.get("990001") is None
    _, results = run(index, "busco un BYD Dolphin")
    assert not results.cars


def test_the_running_index_reloads_after_a_sync(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'reload.db'}"
    db.upgrade(url)
    sync(SAMPLE, url)
    monkeypatch.setattr(catalog_index, "RELOAD_SECONDS", 0)
    before = catalog_index.catalog(url)
    assert before.get("990002") is None
    rows = SAMPLE.read_text(encoding="utf-8").rstrip("\n")
    path = tmp_path / "more.csv"
    path.write_text(rows + "\n990002,1000,399999.0,Cupra,Formentor,2023,1.5 TSI DSG,Sí,4450.0,1839.0,1511.0,Sí\n")
    sync(path, url)
    assert catalog_index.catalog(url).get("990002") is not None
    assert catalog_index.catalog(url) is catalog_index.catalog(url)  # unchanged: not reloaded


# --- One car ----------------------------------------------------------------------------


def test_details_of_the_second_and_by_name_put_the_car_in_focus(index):
    results = search.search_turn("autos entre 300 y 400 mil", search.State(), index)
    state = search.State(
        filters=results.slots["search_filters"], shown=results.slots["search_shown"], page=results.slots["search_page"]
    )
    second = index.get(state.page[1])
    reply = search.details_turn("dame más detalles del segundo", state, index)
    assert reply.slots["car_in_focus"] == second.stock_id
    assert f"Stock: {second.stock_id}" in reply.text and second.price_text in reply.text
    reply = search.details_turn("Dame más detalles del Volkswagen Golf GTI Performance", search.State(), index)
    golf = index.get(reply.slots["car_in_focus"])
    assert golf.model == "Golf" and "GTI" in golf.version


@pytest.mark.parametrize(
    "question, column, lowest",
    [
        ("el más barato de esos", "price", True),
        ("cual de esas es la q tiene menos km?", "km", True),
        ("y cual de los que me mandaste es el mas nuevo", "year", False),
    ],
)
def test_a_superlative_over_the_list_picks_that_car_of_the_list(index, question, column, lowest):
    results = search.search_turn("autos entre 300 y 400 mil", search.State(), index)
    state = search.State(shown=results.slots["search_shown"], page=results.slots["search_page"])
    page = [index.get(stock_id) for stock_id in state.page]
    expected = (min if lowest else max)(page, key=lambda car: getattr(car, column))
    reply = search.details_turn(question, state, index)
    assert reply.slots["car_in_focus"] == expected.stock_id


def test_which_of_the_two_shown_is_recommended_compares_them_and_four_asks_which(index):
    results = search.search_turn("autos entre 300 y 400 mil", search.State(), index)
    four = results.slots["search_page"]
    reply = search.compare_turn("de esos cual me recomiendas", search.State(page=four, shown=four), index)
    assert reply.text == say("utter_search_compare_which")
    reply = search.compare_turn("de esos cual me recomiendas", search.State(page=four[:2], shown=four), index)
    assert all(index.get(stock_id).model in reply.text for stock_id in four[:2])
    assert reply.slots["search_page"] == four[:2]


def test_a_reference_to_no_available_car_does_not_fall_back_to_the_focus(index):
    focus = index.cars[0].stock_id
    reply = search.details_turn("detalles del Tesla", search.State(focus=focus), index)
    assert "car_in_focus" not in reply.slots and "No encontré ese auto" in reply.text
    reply = search.details_turn("el quinto", search.State(focus=focus, page=[focus]), index)
    assert "car_in_focus" not in reply.slots


@pytest.mark.parametrize(
    "text, number",
    [
        ("2", True),
        ("el 2", True),
        ("#3", True),
        ("opción 4", True),
        ("La 2.", True),
        ("el 2 de diciembre", False),
        ("el 12", False),
        ("2019", False),
        ("el versa 2", False),
        ("la segunda", False),
    ],
)
def test_a_message_that_is_only_a_list_number(text, number):
    """Only these answer "which car of the list" and not "which day" ("el 2" is not the 2nd)."""
    assert is_list_number(text) is number


@pytest.mark.parametrize(
    "text, position",
    [
        ("la segunda", 2),
        ("el 2", 2),
        ("2", 2),
        ("#3", 3),
        ("me interesa la primera", 1),
        ("esa primera cuanto gasta de gasolina", 1),
        ("ese 3 que tal", 3),
        ("esa primera vez que compro", None),
        ("la última", 4),
        ("el quinto", None),
        ("7", None),
        ("el versa 2019", None),
        ("la 1 o la 2", None),
        ("12", None),
    ],
)
def test_the_place_in_a_list_of_four_a_message_points_at(text, position):
    assert list_position(text, 4) == position


def test_a_question_about_a_car_s_history_says_what_is_known_and_invents_nothing(index):
    results = search.search_turn("autos entre 300 y 400 mil", search.State(), index)
    state = search.State(page=results.slots["search_page"], shown=results.slots["search_shown"])
    first = index.get(state.page[0])
    reply = search.feature_turn("el 1 esta chocado?", state, index)
    assert reply.slots["car_in_focus"] == first.stock_id
    assert "no trae su historial" in reply.text and "inspección de 240 puntos" in reply.text
    assert "No tengo ese dato" not in reply.text


def test_this_car_is_too_expensive_gets_its_catalog_price_and_cheaper_ways(index):
    car = index.cars[0]
    reply = search.feature_turn("no manches esta muy caro para lo q es", search.State(focus=car.stock_id), index)
    assert car.price_text in reply.text and "no lo puedo negociar" in reply.text
    assert "hasta cuánto" in reply.text and "No tengo ese dato" not in reply.text


def test_feature_answers_are_truthful_and_empty_means_no(index):
    without = next(c for c in index.cars if not c.carplay and c.bluetooth)
    state = search.State(focus=without.stock_id)
    assert search.feature_turn("¿tiene carplay?", state, index).text.startswith("📱 No")
    assert search.feature_turn("¿tiene bluetooth?", state, index).text.startswith("🎵 ¡Sí!")
    km = search.feature_turn("¿cuántos kilómetros tiene?", state, index).text
    assert f"{without.km:,} km" in km
    size = search.feature_turn("¿de qué tamaño es?", state, index).text
    if without.largo:
        assert f"{round(without.largo):,} mm de largo" in size
    both = search.feature_turn("tiene bluetooth y carplay?", state, index).text
    assert "🎵" in both and "📱" in both


def test_where_a_car_is_gets_an_honest_answer_and_the_way_to_see_it(index):
    car = index.cars[0]
    reply = search.feature_turn("¿dónde está?", search.State(focus=car.stock_id), index).text
    assert reply.startswith("📍") and "no dice en qué sede" in reply and "agendar tu cita" in reply


def test_a_feature_question_naming_a_shown_car_moves_the_focus(index):
    results = search.search_turn("un Chevrolet Spark", search.State(), index)
    page = results.slots["search_page"]
    reply = search.feature_turn("¿Tiene bluetooth el Spark?", search.State(page=page, shown=page), index)
    assert index.get(reply.slots["car_in_focus"]).model == "Spark"


def test_compare_two_cars_side_by_side(index):
    reply = search.compare_turn("compara el Versa con el Rio", search.State(), index)
    assert "⚖️" in reply.text and "Nissan Versa" in reply.text and "KIA Rio" in reply.text
    assert reply.text.count("|") >= 7 and "más barato" in reply.text
    unclear = search.compare_turn("compáralos", search.State(), index)
    assert "¿Qué dos autos comparo?" in unclear.text


def test_comparing_list_numbers_after_a_one_car_list_says_there_was_one(index):
    only = run(index, "un jetta")[1].cars[0]
    reply = search.compare_turn("compara el 1 con el 2", search.State(page=[only.stock_id]), index)
    assert "solo te mostré un auto" in reply.text and "Jetta" in reply.text


def test_reset_clears_every_search_slot():
    reply = search.reset_turn()
    assert reply.slots == {"search_filters": None, "search_shown": [], "search_page": [], "search_relax": None}


def test_a_model_that_starts_with_its_make_is_not_named_twice():
    from actions.formatting import car_name

    assert car_name("Mazda", "Mazda 3") == "Mazda 3"
    assert car_name("MG", "MG5") == "MG5"
    assert car_name("Nissan", "Versa") == "Nissan Versa"


def test_the_best_cars_are_picked_without_sorting_them_all_ties_kept_in_catalog_order():
    """`search.best` (partial selection) orders like a full stable sort, ties included."""
    rng = np.random.default_rng(3)
    for size in (3, 17, 2_000):
        score = rng.integers(0, 6, size).astype(np.float32)  # many ties
        for limit in (1, 4, 5):
            expected = np.argsort(-score, kind="stable")[:limit]
            assert search.best(score, limit).tolist() == expected.tolist()


def test_a_column_is_ranked_within_the_filtered_cars(index):
    """Ranking by price (the 'económico' tie-break) counts only the cars that passed the filters."""
    rows = np.arange(0, len(index), 3)
    ranks = index.rank_within("price", rows)
    assert sorted(ranks.tolist()) == list(range(len(rows)))
    prices = index.price[rows]
    assert all(prices[a] <= prices[b] for a, b in zip(np.argsort(ranks), np.argsort(ranks)[1:]))


def test_descriptions_encoded_in_batches_keep_their_order():
    """Encoding sorts texts by length for speed; each vector still belongs to its text."""
    texts = ["SUV grande familiar para siete pasajeros con tercera fila y Bluetooth", "sedán", "pickup 4x4 de trabajo"]
    together = catalog_index.encode(texts, batch_size=2)
    for text, vector in zip(texts, together):
        assert float(np.dot(vector, catalog_index.encode([text])[0])) > 0.999


def test_a_card_writes_the_body_type_as_spanish_writes_it(index):
    """'SUV' keeps its capitals in a results card; 'sedán' starts with one."""
    cards = {car.body: search_replies.car_card(car) for car in index.cars}
    assert "📏 SUV" in cards["suv"]
    assert "📏 Sedán" in cards["sedan"]
