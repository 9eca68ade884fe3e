"""Car search: ranking, relaxation when nothing matches, and the conversation turns.

Search ranks the available cars that pass the filters (`actions/search/filters.py`)
by their free description, with the embeddings of `catalog_index` plus the
words it shares with each car's description. The `*_turn` functions take the
conversation state (slot values) and return the reply text and the slot
updates; `actions/search/actions.py` is the Rasa layer. Unavailable cars are
never in the index, so they are never offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np

from actions.catalog.index import CarInfo, CatalogIndex, encode_query
from actions.formatting import car_name, car_title, format_price, split_message
from actions.search.filters import (
    FILTERS,
    Body,
    Names,
    Relaxation,
    as_list,
    describe_filters,
    matching,
    merge_filters,
    parse_request,
    relaxations,
)
from actions.search.references import Reference, resolve_cars
from actions.search.replies import answer_feature, car_details, compare, format_results
from actions.texts import say
from understanding.cues import RESET, THE_ONE
from understanding.known_cars import KNOWN_MAKES, KNOWN_MODELS
from understanding.text import normalize

PAGE_SIZE = 4
# Ranking of a free description: semantic similarity (rescaled to 0..1 among the
# candidates) + LEXICAL_WEIGHT x share of its words in the car's description
# + SORT_WEIGHT x the tie-break asked for ("económico": cheaper ranks higher).
LEXICAL_WEIGHT = 1.0
SORT_WEIGHT = 0.5


@dataclass
class Results:
    """A page of cars and how many matched in all."""

    cars: List[CarInfo]
    total: int  # matches before leaving out the ones already shown


def search(
    index: CatalogIndex, filters: Dict[str, Any], exclude: Iterable[str] = (), limit: int = PAGE_SIZE
) -> Results:
    """The best `limit` available cars for the filters, leaving out `exclude`."""
    mask = matching(index, filters)
    total = int(mask.sum())
    for stock_id in exclude:
        row = index.by_id.get(stock_id)
        if row is not None:
            mask[row] = False
    rows = np.flatnonzero(mask)
    if not len(rows):
        return Results([], total)
    score = np.zeros(len(rows), dtype=np.float32)
    query = filters.get("query")
    if query:
        if index.embeddings.shape[1]:
            similarity = index.similarity(encode_query(query), rows)
            spread = float(similarity.max() - similarity.min())
            score += (similarity - similarity.min()) / spread if spread > 1e-6 else 0
        score += LEXICAL_WEIGHT * index.lexical(query, rows)
    sort = filters.get("sort")
    if sort:
        column, low_first = {"price_asc": ("price", True), "km_asc": ("km", True), "year_desc": ("year", False)}[sort]
        preference = index.rank_within(column, rows).astype(np.float32) / max(len(rows) - 1, 1)
        if low_first:
            preference = 1 - preference
        score += preference * (SORT_WEIGHT if query else 1.0)
    if not query and not sort:
        # Newest first, then fewer km: a sensible default order.
        score += index.year[rows] * 1.0 - index.km[rows] / 1e7
    return Results([index.cars[i] for i in rows[best(score, limit)]], total)


def best(score: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the `limit` highest scores, highest first (ties: lowest position first)."""
    candidates = np.arange(len(score))
    if len(score) > 4 * limit:  # only the scores at least as high as the limit-th need sorting
        threshold = np.partition(score, len(score) - limit)[len(score) - limit]
        candidates = np.flatnonzero(score >= threshold)
    return candidates[np.argsort(-score[candidates], kind="stable")][:limit]


def nearest_relaxation(index: CatalogIndex, filters: Dict[str, Any]) -> Optional[Relaxation]:
    """The smallest change to one filter that brings in more cars than it has now, or None."""
    options = relaxations(index, filters)
    return options[0] if options else None


def relax(filters: Dict[str, Any], relaxation: Relaxation) -> Dict[str, Any]:
    """The filters with the relaxation applied."""
    relaxed = dict(filters)
    if relaxation.value is None:
        relaxed.pop(relaxation.key, None)
        if relaxation.key == "make":
            relaxed.pop("model", None)
    else:
        relaxed[relaxation.key] = relaxation.value
    return relaxed


@dataclass
class State:
    """The search slots of a conversation."""

    filters: Dict[str, Any] = field(default_factory=dict)
    shown: List[str] = field(default_factory=list)
    page: List[str] = field(default_factory=list)
    relax: Optional[str] = None
    focus: Optional[str] = None


@dataclass
class Reply:
    text: str
    slots: Dict[str, Any] = field(default_factory=dict)

    @property
    def messages(self) -> List[str]:
        return split_message(self.text)


def _results_reply(index: CatalogIndex, filters: Dict[str, Any], shown: List[str], note: str = "") -> Reply:
    """A page of results for the filters (leaving out `shown`), or why there is none and
    the nearest relaxation. `note` goes first (a filter dropped, a car not in stock)."""
    results = search(index, filters, exclude=shown)
    if results.cars:
        ids = [c.stock_id for c in results.cars]
        text = format_results(results.cars, results.total, filters, already_shown=len(shown))
        slots = {"search_filters": filters, "search_shown": shown + ids, "search_page": ids, "search_relax": None}
        if results.total == 1:  # the only match: "¿tiene bluetooth?" or "agenda una cita" mean this one
            slots["car_in_focus"] = ids[0]
        return Reply(f"{note}\n\n{text}" if note else text, slots)
    criteria = describe_filters(filters)
    if shown and results.total:
        text = (
            say("utter_search_all_shown_one", criteria=criteria)
            if results.total == 1
            else say("utter_search_all_shown", total=results.total, criteria=criteria)
        )
    elif criteria:
        text = say("utter_search_none", criteria=criteria)
    else:
        text = say("utter_search_catalog_empty")
        return Reply(text, {"search_filters": filters, "search_relax": None, "search_shown": [], "search_page": []})
    relaxation = nearest_relaxation(index, filters)
    slots = {"search_filters": filters, "search_relax": relaxation.key if relaxation else None}
    if not shown:
        slots.update(search_shown=[], search_page=[])
    if relaxation:
        plural = "opción" if relaxation.count == 1 else "opciones"
        text += "\n" + say("utter_search_relax_offer", change=relaxation.text, count=relaxation.count, options=plural)
    else:
        text += "\n" + say("utter_search_something_else")
    return Reply(f"{note}\n\n{text}" if note else text, slots)


def search_turn(text: str, state: State, index: CatalogIndex) -> Reply:
    """A search or a refinement: merge the message's filters and show the first page.

    A make or model named now replaces the previous one; filters carried from earlier
    turns that would hide it are dropped, and the reply says which. A make or model
    with no car in stock is said so, with the closest cars as alternatives.
    "Otra búsqueda" / "empecemos de nuevo" start from no filters.
    """
    reply = _search_reply(text, state, index)
    page = reply.slots.get("search_page")
    if page and THE_ONE.search(normalize(text).strip(" ¿?¡!.")):  # "¿cuál es el más nuevo?": that one
        car = index.get(page[0])
        slots = {**reply.slots, "car_in_focus": car.stock_id}
        if page == state.page == [car.stock_id]:  # the list on screen has only this car
            return Reply(say("utter_search_the_only_one", car=car_title(car), price=format_price(car.price)), slots)
        lead = say("utter_search_the_one", car=car_title(car), price=format_price(car.price))
        return Reply(f"{lead}\n\n{reply.text}", slots)
    return reply


def _search_reply(text: str, state: State, index: CatalogIndex) -> Reply:
    parsed = parse_request(text, index)
    previous = {} if RESET.search(normalize(text)) else state.filters
    filters = merge_filters(previous, parsed)
    named = {key: parsed.filters[key] for key in Names.keys if key in parsed.filters}
    body = parsed.filters.get("body_type")
    if not named and body and body != previous.get("body_type") and not matching(index, filters).any():
        # "mejor una troca" under an old price cap: the new body type wins, as a new name does
        filters, dropped = _unhide(index, filters, parsed.filters)
        kind = Body().describe({"body_type": body})
        note = say("utter_search_dropped_for_body", dropped=" y ".join(dropped), kind=kind) if dropped else ""
        return _results_reply(index, filters, [], note)
    if not named:
        return _results_reply(index, filters, [])
    if not matching(index, named).any():
        return _not_in_stock(index, named, filters)
    note = ""
    if not matching(index, filters).any():
        filters, dropped = _unhide(index, filters, parsed.filters)
        if dropped:
            note = say("utter_search_dropped_for_names", dropped=" y ".join(dropped), names=_names(named))
    return _results_reply(index, filters, [], note)


def _names(named: Dict[str, Any]) -> str:
    """'el *BMW Serie 3*', 'los *Mazda*' (as the customer named them)."""
    makes, models = as_list(named.get("make")), as_list(named.get("model"))
    if models:
        return " o ".join(f"el *{car_name(make, model)}*" for make, model in zip(makes or [""] * len(models), models))
    return " o ".join(f"los *{make}*" for make in makes)


def _unhide(index: CatalogIndex, filters: Dict[str, Any], own: Dict[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    """Drop the filters carried from earlier turns that leave none of the named cars; say which."""
    wanted = matching(index, {k: v for k, v in filters.items() if k in own})
    kept, dropped = dict(filters), []
    for kind in FILTERS:
        carried = [k for k in kind.keys if k in filters and k not in own]
        passing = kind.mask(index, {k: filters[k] for k in carried})
        if not carried or passing is None or (passing & wanted).any():
            continue
        dropped.append(_filter_name(kind.describe({k: filters[k] for k in carried})))
        for key in carried:
            kept.pop(key, None)
    if dropped and not matching(index, kept).any():  # together they still hide it: drop every carried filter
        kept = {k: v for k, v in filters.items() if k in own}
        dropped = ["los filtros de antes"]
    return kept, dropped


def _segments(index: CatalogIndex, makes: List[str], models: List[str], base: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The segments of a car not in stock, closest first: its body type, sporty, premium makes."""
    bodies = {KNOWN_MODELS.get((make, model)) for make in makes or [""] for model in models} - {None}
    body = bodies.pop() if len(bodies) == 1 and "body_type" not in base else None
    kinds = {KNOWN_MAKES.get(make, "") for make in makes}
    sporty = "sport" in kinds or body == "coupe"
    premium = sorted({car.make for car in index.cars if KNOWN_MAKES.get(car.make) in ("premium", "sport")})
    premium = premium if kinds & {"sport", "premium"} else []
    options = [
        {"body_type": body, "query": "deportivo" if sporty else None, "make": premium or None},
        {"body_type": body, "make": premium or None},
        {"body_type": body},
        {"query": "deportivo" if sporty else None},
        {"make": premium or None},
    ]
    cleaned = [{k: v for k, v in option.items() if v} for option in options]
    return [option for i, option in enumerate(cleaned) if option and option not in cleaned[:i]]


def _filter_name(described: Optional[str]) -> str:
    """'el filtro «hasta $250,000»'."""
    return f"el filtro «{described.strip('«»')}»" if described else "un filtro"


def _not_in_stock(index: CatalogIndex, named: Dict[str, Any], filters: Dict[str, Any]) -> Reply:
    """ "No tenemos Lamborghini por ahora": the closest cars in stock, labelled as alternatives."""
    makes, models = as_list(named.get("make")), as_list(named.get("model"))
    wanted = " o ".join(
        car_name(make, model) for make, model in zip(makes or [""] * len(models), models)
    ) or " o ".join(makes)
    base = {k: v for k, v in filters.items() if k not in Names.keys}
    segment = next(
        (option for option in _segments(index, makes, models, base) if matching(index, {**base, **option}).any()), {}
    )
    alternatives = {**base, **segment}
    head = say("utter_search_not_in_stock", wanted=wanted)
    results = search(index, alternatives)
    if not results.cars:
        return Reply(
            head + "\n" + say("utter_search_not_in_stock_nothing_close"),
            {"search_filters": base, "search_shown": [], "search_page": [], "search_relax": None},
        )
    reply = _results_reply(index, alternatives, [])
    body = reply.text.split("\n\n", 1)[1]  # the cards, without the "Encontré..." line
    parts = [describe_filters({k: v for k, v in alternatives.items() if k not in ("make", "query")})]
    if segment.get("query"):
        parts.append("deportivos")
    if segment.get("make"):
        parts.append("de marcas premium")
    criteria = " · ".join(p for p in parts if p)
    label = say("utter_search_alternatives", criteria=criteria) if criteria else say("utter_search_some_alternatives")
    # The alternatives are not what the customer asked for: their filters stay the customer's own.
    slots = {key: value for key, value in reply.slots.items() if key != "car_in_focus"}
    return Reply(f"{head}\n{label}\n\n{body}", {**slots, "search_filters": base})


def more_turn(text: str, state: State, index: CatalogIndex) -> Reply:
    """'Muéstrame más': the next page without repeats (or a new search if it names criteria)."""
    parsed = parse_request(text, index)
    if parsed.has_criteria and set(parsed.filters) - {"query"}:
        return search_turn(text, state, index)
    return _results_reply(index, state.filters, list(state.shown))


def relax_turn(state: State, index: CatalogIndex) -> Reply:
    """The customer accepted the relaxation offered after no results."""
    relaxation = nearest_relaxation(index, state.filters) if state.relax else None
    if not relaxation or relaxation.key != state.relax:
        return Reply(
            say("utter_search_what_to_change"),
            {"search_relax": None},
        )
    return _results_reply(index, relax(state.filters, relaxation), [])


def affirm_turn(state: State, index: CatalogIndex) -> Reply:
    """A 'sí' right after results: relax the search if that was offered, else ask which car."""
    if state.relax:
        return relax_turn(state, index)
    return Reply(say("utter_search_which_one"))


def details_turn(text: str, state: State, index: CatalogIndex) -> Reply:
    """Full details of the car the customer names or points at; it becomes the car in focus."""
    ref = resolve_cars(text, index, state.page, state.shown, state.focus)
    if not ref.cars:
        return _which_car(state, index, ref)
    car = ref.cars[0]
    return Reply(car_details(car), {"car_in_focus": car.stock_id})


def feature_turn(text: str, state: State, index: CatalogIndex) -> Reply:
    """A question about the car in focus (or the car it names)."""
    ref = resolve_cars(text, index, state.page, state.shown, state.focus)
    if not ref.cars:
        return _which_car(state, index, ref)
    car = ref.cars[0]
    return Reply(answer_feature(car, text), {"car_in_focus": car.stock_id})


def compare_turn(text: str, state: State, index: CatalogIndex) -> Reply:
    """Two cars side by side."""
    ref = resolve_cars(text, index, state.page, state.shown, state.focus, wanted=2)
    cars = ref.cars
    if len(cars) < 2 and ref.beyond_list:
        return _which_car(state, index, ref)
    if not ref.explicit and len(state.page) == 2:  # "de esos, ¿cuál me recomiendas?" after two cars
        cars = [car for car in (index.get(stock_id) for stock_id in state.page) if car]
    if len(cars) < 2:
        return Reply(say("utter_search_compare_which"))
    # The two compared cars are the list now: "el primero" is the first of them.
    return Reply(compare(cars), {"search_page": [car.stock_id for car in cars]})


def reset_turn() -> Reply:
    return Reply(
        say("utter_search_reset"),
        {"search_filters": None, "search_shown": [], "search_page": [], "search_relax": None},
    )


def _which_car(state: State, index: CatalogIndex, ref: Reference) -> Reply:
    """Why the message points at no car, and how to point at one."""
    listed = [stock_id for stock_id in state.page if index.get(stock_id)]
    if ref.beyond_list and len(listed) == 1:
        car = index.get(listed[0])
        return Reply(say("utter_search_only_one_listed", car=car_title(car)))
    if ref.beyond_list and listed:
        return Reply(say("utter_search_pick_from_list", count=len(listed)))
    if ref.explicit and not ref.beyond_list:
        return Reply(say("utter_search_car_not_found"))
    if state.focus and not index.get(state.focus):
        return Reply(say("utter_search_car_sold"), {"car_in_focus": None})
    if listed and not ref.beyond_list:
        return Reply(say("utter_search_which_car_listed"))
    return Reply(say("utter_search_which_car"))
