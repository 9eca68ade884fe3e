"""Car search: ranking, relaxation when nothing matches, and the conversation turns.

Search ranks the available cars that pass the filters (`actions/search_filters.py`)
by their free description, with the embeddings of `catalog_index` plus the
words it shares with each car's description. The `*_turn` functions take the
conversation state (slot values) and return the reply text and the slot
updates; `actions/search_actions.py` is the Rasa layer. Unavailable cars are
never in the index, so they are never offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np

from actions.catalog_index import CarInfo, CatalogIndex, encode_query
from actions.formatting import format_km, format_price, split_message
from actions.search_filters import as_list, matching, merge_filters, parse_request
from actions.search_references import resolve_cars
from actions.search_replies import BODY_NAMES, answer_feature, car_details, compare, describe_filters, format_results

PAGE_SIZE = 4
UNAVAILABLE = "Perdón, no pude consultar el catálogo en este momento 😕\nInténtalo de nuevo en un minuto, por favor."
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


def search(index: CatalogIndex, filters: Dict[str, Any], exclude: Iterable[str] = (), limit: int = PAGE_SIZE) -> Results:
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


@dataclass
class Relaxation:
    key: str  # the filter to change
    value: Any  # its new value (None: drop it)
    count: int  # matches after the change
    text: str  # what to offer, in Spanish


def nearest_relaxation(index: CatalogIndex, filters: Dict[str, Any]) -> Optional[Relaxation]:
    """The smallest change to one filter that brings in more cars than it has now, or None."""
    current = int(matching(index, filters).sum())
    options: List[Tuple[float, Relaxation]] = []
    numeric = {  # key: (column, does a car lie beyond the bound, nearest first?)
        "price_max": (index.price, np.greater, False), "price_min": (index.price, np.less, True),
        "year_min": (index.year, np.less, True), "year_max": (index.year, np.greater, False),
        "km_max": (index.km, np.greater, False),
    }
    for key in ("price_max", "price_min", "year_min", "year_max", "km_max", "bluetooth", "carplay",
                "body_type", "model", "make"):
        old = filters.get(key)
        if old in (None, "", [], False):
            continue
        skip = (key, "model") if key == "make" else (key,)
        others = matching(index, filters, skip=skip)
        if key in numeric:
            column, beyond, descending = numeric[key]
            gained = np.sort(column[others & beyond(column, old)])
            if not len(gained):
                continue
            if descending:
                gained = gained[::-1]
            # Far enough to bring in up to three more cars; a year is nearest of all.
            value = int(gained[0] if key.startswith("year") else gained[min(2, len(gained) - 1)])
            distance = abs(value - old) / (10 if key.startswith("year") else max(old, 1))
            text = {
                "price_max": f"subir tu presupuesto a *{format_price(value)}*",
                "price_min": f"bajar el precio mínimo a *{format_price(value)}*",
                "year_min": f"buscar desde *{value}*",
                "year_max": f"buscar hasta *{value}*",
                "km_max": f"aceptar hasta *{format_km(value)}*",
            }[key]
            count = int(matching(index, {**filters, key: value}).sum())
        else:
            count = int(others.sum())
            if count <= current:
                continue
            value = None
            distance = {"bluetooth": 0.3, "carplay": 0.3, "body_type": 0.5, "model": 0.6, "make": 0.8}[key]
            makes = " o ".join(as_list(filters.get("make")))
            text = {
                "bluetooth": "quitar el requisito de *Bluetooth*",
                "carplay": "quitar el requisito de *CarPlay*",
                "model": f"ver otros modelos de *{makes}*" if makes else "ver otros modelos",
                "make": "ver otras marcas",
            }.get(key) or f"incluir otros tipos además de *{BODY_NAMES.get(old, old)}*"  # body_type: a str
        options.append((distance, Relaxation(key, value, count, text)))
    if not options:
        return None
    return min(options, key=lambda option: option[0])[1]


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


def _results_reply(index: CatalogIndex, filters: Dict[str, Any], shown: List[str]) -> Reply:
    results = search(index, filters, exclude=shown)
    if results.cars:
        ids = [c.stock_id for c in results.cars]
        text = format_results(results.cars, results.total, filters, already_shown=len(shown))
        slots = {"search_filters": filters, "search_shown": shown + ids, "search_page": ids, "search_relax": None}
        if results.total == 1:  # the only match: "¿tiene bluetooth?" or "agenda una cita" mean this one
            slots["car_in_focus"] = ids[0]
        return Reply(text, slots)
    criteria = describe_filters(filters)
    if shown and results.total:
        text = f"Ya te mostré los {results.total} autos que encontré ({criteria}). "
    elif criteria:
        text = f"No encontré autos disponibles con lo que buscas ({criteria}) 😕 "
    else:
        text = "Por ahora no tengo autos disponibles en el catálogo 😕"
        return Reply(text, {"search_filters": filters, "search_relax": None, "search_shown": [], "search_page": []})
    relaxation = nearest_relaxation(index, filters)
    slots = {"search_filters": filters, "search_relax": relaxation.key if relaxation else None}
    if not shown:
        slots.update(search_shown=[], search_page=[])
    if relaxation:
        plural = "opción" if relaxation.count == 1 else "opciones"
        text += f"\nLo más cercano: si quieres {relaxation.text}, hay {relaxation.count} {plural} en total. ¿Lo ajusto?"
    else:
        text += "\n¿Quieres buscar algo diferente? Dime marca, presupuesto o para qué lo usarás."
    return Reply(text, slots)


def search_turn(text: str, state: State, index: CatalogIndex) -> Reply:
    """A search or a refinement: merge the message's filters and show the first page."""
    parsed = parse_request(text, index)
    filters = merge_filters(state.filters, parsed)
    return _results_reply(index, filters, [])


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
        return Reply("¿Qué te gustaría cambiar de la búsqueda? Dime marca, presupuesto, año o tipo de auto.", {"search_relax": None})
    return _results_reply(index, relax(state.filters, relaxation), [])


def affirm_turn(state: State, index: CatalogIndex) -> Reply:
    """A 'sí' right after results: relax the search if that was offered, else ask which car."""
    if state.relax:
        return relax_turn(state, index)
    return Reply("¡Va! ¿Cuál te interesa? Dime el número de la lista o el modelo 🙂")


def details_turn(text: str, state: State, index: CatalogIndex) -> Reply:
    """Full details of the car the customer names or points at; it becomes the car in focus."""
    ref = resolve_cars(text, index, state.page, state.shown, state.focus)
    if not ref.cars:
        return _which_car(state, index, ref.explicit)
    car = ref.cars[0]
    return Reply(car_details(car), {"car_in_focus": car.stock_id})


def feature_turn(text: str, state: State, index: CatalogIndex) -> Reply:
    """A question about the car in focus (or the car it names)."""
    ref = resolve_cars(text, index, state.page, state.shown, state.focus)
    if not ref.cars:
        return _which_car(state, index, ref.explicit)
    car = ref.cars[0]
    return Reply(answer_feature(car, text), {"car_in_focus": car.stock_id})


def compare_turn(text: str, state: State, index: CatalogIndex) -> Reply:
    """Two cars side by side."""
    cars = resolve_cars(text, index, state.page, state.shown, state.focus, wanted=2).cars
    if len(cars) < 2:
        return Reply("¿Qué dos autos comparo? Dime por ejemplo «compara el 1 con el 3» o «el Versa contra el Rio» ⚖️")
    return Reply(compare(cars))


def reset_turn() -> Reply:
    return Reply(
        "Listo, borré los filtros 🧹 Empecemos de nuevo: ¿qué auto buscas? Puedes decirme marca, presupuesto, año o para qué lo usarás.",
        {"search_filters": None, "search_shown": [], "search_page": [], "search_relax": None},
    )


def _which_car(state: State, index: CatalogIndex, explicit: bool = False) -> Reply:
    if explicit:
        return Reply("No encontré ese auto entre los disponibles 😕 Puede que ya se haya vendido. "
                     "¿Te muestro opciones parecidas? Dime qué buscas o elige un número de la lista.")
    if state.focus and not index.get(state.focus):
        return Reply("Ese auto ya no está disponible 😕 (se vendió). ¿Te muestro opciones parecidas?", {"car_in_focus": None})
    if state.page:
        return Reply("¿De cuál auto? Dime el número de la lista (por ejemplo «el 2») o su modelo 🙂")
    return Reply("¿De qué auto? Cuéntame qué buscas y te muestro opciones, por ejemplo «un sedán de menos de 300 mil» 🚗")
