"""Search filters from a customer's Spanish message, and how they accumulate.

A message is parsed into filters (make and model from `search_names`, years,
prices and km in Spanish, Bluetooth, CarPlay, body type) plus a free
description ("familiar", "algo deportivo") that search ranks by meaning.
Filters accumulate across turns in one dict (the `search_filters` slot):

    make, model        str, or a list of str when several were named
    year_min, year_max, price_min, price_max, km_max   int
    bluetooth, carplay True when asked for
    body_type          hatchback, sedan, suv, minivan, pickup, coupe or camioneta
    query              the free description, e.g. "familiar"
    sort               price_asc, km_asc or year_desc (the tie-break asked for)

`matching` tells which cars of the index pass a set of filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np

from actions.catalog_index import BODY_GROUPS, CatalogIndex
from actions.parsing import comparator_end, find_amounts, find_bounds, normalize
from actions.search_names import STOPWORDS, NameMatch, find_names, word_spans

# Words that carry no meaning for ranking (what is left is the free description).
FILLER = STOPWORDS - {
    "familiar", "familia", "grande", "chico", "chica", "barato", "barata", "economico", "economica",
    "deportivo", "deportiva", "lujo", "espacioso", "espaciosa", "ciudad", "trabajo", "viaje", "viajes",
    "carretera", "pasajeros", "personas", "asientos", "rapido", "potente", "automatico", "manual",
    "estandar", "cajuela", "carga", "nuevo", "nueva", "seminuevo", "poco", "motor", "puertas",
} | {
    "quiero", "busco", "buscando", "ando", "estoy", "ensename", "muestrame", "mostrar", "muestra",
    "pasame", "manda", "mandame", "enseñame", "algun", "alguna", "tipo", "tal", "vez", "ok", "va",
    "bueno", "pues", "oye", "hola", "buenas", "dias", "tardes", "noches", "gustaria", "podrias",
    "encontrar", "comprar", "adquirir", "kavak", "seminuevos", "vehiculo", "vehiculos", "coche",
    "coches", "carro", "carros", "auto", "autos", "mejor", "ahora", "tambien", "entonces", "ademas",
    "km", "kms", "bluetooth", "carplay", "car", "play", "apple", "mas", "opciones", "cualquier",
    "importa", "quita", "quitale", "filtro", "filtros", "limite", "aprox", "aproximadamente",
    "alrededor", "maximo", "minimo", "adelante", "arriba", "abajo", "rango", "menor", "mayor",
}

BLUETOOTH = re.compile(r"\bblue ?(?:t(?:oo|u|o)th?|tut|tooh)\b|\bbluetoot\b|\bblutu+t?h?\b|\bbt\b")
CARPLAY = re.compile(r"\bcar ?pl?ay\b|\bcarpley\b|\bapple ?car\b")
_NEGATED = re.compile(r"(?:sin|no importa(?: si tiene)?|no necesito|no me importa|da igual|no es necesario|quita(?:le)?)(?: el| la| que tenga| con)?\s*$")
_BODY_WORDS = [
    ("pickup", re.compile(r"\bpick ?-?ups?\b|\btrocas?\b|\bcamionetas? de carga\b|\bcon caja\b|\bde batea\b")),
    ("minivan", re.compile(r"\bmini ?vans?\b|\bvans?\b|\bmonovolumen\b")),
    ("suv", re.compile(r"\bsuvs?\b|\bcrossovers?\b|\bcamionetitas?\b")),
    ("coupe", re.compile(r"\bcoupes?\b|\bcupes?\b|\bconvertibles?\b|\bdescapotables?\b")),
    ("hatchback", re.compile(r"\bhatch ?backs?\b|\bhatch\b|\bhb\b")),
    ("sedan", re.compile(r"\bsedan(?:es)?\b")),
    ("camioneta", re.compile(r"\bcamionet(?:a|as|ota|otas)\b")),
]
_SORTS = [
    ("price_asc", re.compile(r"\b(?:economic[oa]s?|barat(?:o|a|os|as|ito|ita)|accesibles?|lo mas barato|menor precio|no (?:muy|tan) caro)\b")),
    ("km_asc", re.compile(r"\bpoco(?:s)? (?:kilometraje|km|kms|kilometros)\b|\b(?:bajo|menor|menos) kilometraje\b|\bcasi nuevo\b")),
    ("year_desc", re.compile(r"\b(?:reciente|recientes|mas nuevos?|ultimo modelo|nuevecito|modelo reciente)\b")),
]
_CLEAR = re.compile(
    r"\b(?:sin limite de|sin filtro de|cualquier|no importa(?: el| la| los)?|da igual(?: el| la)?|"
    r"quita(?:le)?(?: el| la| los)?(?: filtro de(?:l)?)?|olvida(?: el| la)?|ya no (?:por|importa))\s+"
    r"(precio|presupuesto|marca|modelo|ano|anos|kilometraje|km|tipo|carroceria|tamano)\b"
)
_CLEAR_KEYS = {
    "precio": ("price_min", "price_max"), "presupuesto": ("price_min", "price_max"),
    "marca": ("make", "model"), "modelo": ("model",), "ano": ("year_min", "year_max"),
    "anos": ("year_min", "year_max"), "kilometraje": ("km_max",), "km": ("km_max",),
    "tipo": ("body_type",), "carroceria": ("body_type",), "tamano": ("body_type",),
}
_AGE = re.compile(r"\b(?:menos de|no mas de|maximo|hasta|de maximo)\s+(\d{1,2}|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez)\s+anos\b")
_SMALL_NUMBERS = {"dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10}
_SEATS = re.compile(r"\bpara (\d|siete|ocho|seis|cinco)(?: (?:personas|pasajeros|gentes?|plazas))?\b|\b(\d|siete|ocho) (?:pasajeros|plazas|asientos)\b|\btercera fila\b|\btres filas\b")
_KM_AFTER = re.compile(r"^\s*(?:km|kms|kilometros|kilometraje|de kilometraje|mil km)\b")
_KM_BEFORE = re.compile(r"(?:kilometraje|km|kilometros|recorrido)\s*(?:de|menor a|menor de|maximo de|maximo|hasta|menos de)?\s*$")
_PRICE_WORDS = re.compile(r"\b(?:pesos|precio|presupuesto|mxn|cuesta|cueste|pagar|gastar)\b")


def as_list(value: Any) -> List[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def _collapse(values: Sequence[str]) -> Any:
    values = list(dict.fromkeys(values))
    return values[0] if len(values) == 1 else values


@dataclass
class Parsed:
    """What one message says about the search."""

    filters: Dict[str, Any] = field(default_factory=dict)
    cleared: Set[str] = field(default_factory=set)
    names: List[NameMatch] = field(default_factory=list)
    residue: str = ""

    @property
    def has_criteria(self) -> bool:
        return bool(self.filters or self.cleared)


def in_spans(start: int, end: int, spans: Iterable[Tuple[int, int]]) -> bool:
    """Whether the span start..end overlaps any of the spans."""
    return any(start < b and end > a for a, b in spans)


def parse_request(text: str, index: CatalogIndex, today: Optional[date] = None) -> Parsed:
    """Filters, cleared filters and the free description in one message."""
    today = today or date.today()
    norm = normalize(text)
    parsed = Parsed()
    spans: List[Tuple[int, int]] = []

    names = find_names(text, index)
    parsed.names = names
    makes = [m.make for m in names if m.make]
    models = [m.model for m in names if m.model]
    if makes:
        parsed.filters["make"] = _collapse(makes)
    if models:
        parsed.filters["model"] = _collapse(models)
    spans += [(m.start, m.end) for m in names]

    for match in _CLEAR.finditer(norm):
        parsed.cleared.update(_CLEAR_KEYS[match.group(1)])
        spans.append(match.span())

    age = _AGE.search(norm)
    if age:
        years = _SMALL_NUMBERS.get(age.group(1)) or int(age.group(1))
        parsed.filters["year_min"] = today.year - years
        spans.append(age.span())
    for match in _SEATS.finditer(norm):
        spans.append(match.span())

    amounts = [a for a in find_amounts(text) if not in_spans(a.start, a.end, spans)]
    for bound in find_bounds(text, amounts):
        if _apply_bound(bound, norm, parsed.filters, today):
            spans.append((bound.start, comparator_end(norm, bound.end)))

    for key, pattern in (("bluetooth", BLUETOOTH), ("carplay", CARPLAY)):
        for match in pattern.finditer(norm):
            spans.append(match.span())
            if _NEGATED.search(norm[: match.start()]):
                parsed.cleared.add(key)
            else:
                parsed.filters[key] = True
    for body, pattern in _BODY_WORDS:
        match = pattern.search(norm)
        if match:
            spans.append(match.span())
            if _NEGATED.search(norm[: match.start()]):
                parsed.cleared.add("body_type")
            elif "body_type" not in parsed.filters:
                parsed.filters["body_type"] = body
    for sort, pattern in _SORTS:
        for match in pattern.finditer(norm):
            parsed.filters.setdefault("sort", sort)
            spans.append(match.span())

    residue = []
    for word, start, end in word_spans(norm):
        if in_spans(start, end, spans) or word in FILLER or word.isdigit():
            continue
        residue.append(word)
    seats = _SEATS.search(norm)
    if seats:
        residue.append("para 7 pasajeros tercera fila")
    parsed.residue = " ".join(residue)
    if parsed.residue:
        parsed.filters["query"] = parsed.residue
    return parsed


def _apply_bound(bound, norm: str, filters: Dict[str, Any], today: date) -> bool:
    """Decide whether a bound is about km, year or price and store it; False if none."""
    before = norm[max(0, bound.start - 30) : bound.start]
    after = norm[bound.end : bound.end + 20]
    low, high = bound.low, bound.high
    values = [v for v in (low, high) if v is not None]
    if _KM_AFTER.match(after) or _KM_BEFORE.search(before):
        if high is not None:
            filters["km_max"] = int(high)
        return True
    if not bound.is_money and all(1990 <= v <= today.year + 1 and v == int(v) for v in values):
        if bound.strict:
            low = low + 1 if low is not None else None
            high = high - 1 if high is not None else None
        if low is not None:
            filters["year_min"] = int(low)
        if high is not None:
            filters["year_max"] = int(high)
        return True
    scale = 1
    if not bound.is_money:
        price_context = bound.kind in ("max", "min", "range", "around") or _PRICE_WORDS.search(before + after)
        if not price_context:
            return False
        if all(20 <= v < 1000 for v in values):
            scale = 1000
        elif not all(v >= 10_000 for v in values):
            return False
    if low is not None and bound.kind != "exact":
        filters["price_min"] = int(round(low * scale))
    if high is not None:
        filters["price_max"] = int(round(high * scale))
    return True


def merge_filters(previous: Dict[str, Any], parsed: Parsed) -> Dict[str, Any]:
    """The filters after this message: new values replace old, cleared ones go."""
    merged = dict(previous or {})
    new = parsed.filters
    for key in parsed.cleared:
        merged.pop(key, None)
    if "make" in new and "model" not in new:
        merged.pop("model", None)
    if "model" in new:
        merged.pop("body_type", None)
    elif "body_type" in new:
        merged.pop("model", None)
    for low, high in (("year_min", "year_max"), ("price_min", "price_max")):
        if low in new or high in new:
            if low in new and high not in new and merged.get(high) is not None and merged[high] < new[low]:
                merged.pop(high)
            if high in new and low not in new and merged.get(low) is not None and merged[low] > new[high]:
                merged.pop(low)
            if low in new and high not in new and merged.get(high) == merged.get(low):
                merged.pop(high, None)  # "2018", then "desde 2016": the exact year becomes a floor
    merged.update(new)
    return {k: v for k, v in merged.items() if v not in (None, "", [])}


def matching(index: CatalogIndex, filters: Dict[str, Any], skip: Sequence[str] = ()) -> np.ndarray:
    """A mask of the index's cars that pass the filters, leaving out the keys in `skip`."""
    mask = np.ones(len(index), dtype=bool)
    get = lambda key: None if key in skip else filters.get(key)  # noqa: E731
    if get("make"):
        mask &= index.make_key.one_of(m.lower() for m in as_list(filters["make"]))
    if get("model"):
        mask &= index.model_key.one_of(m.lower() for m in as_list(filters["model"]))
    for key, column, op in (
        ("year_min", index.year, np.greater_equal), ("year_max", index.year, np.less_equal),
        ("price_min", index.price, np.greater_equal), ("price_max", index.price, np.less_equal),
        ("km_max", index.km, np.less_equal),
    ):
        if get(key) is not None:
            mask &= op(column, filters[key])
    if get("bluetooth"):
        mask &= index.bluetooth
    if get("carplay"):
        mask &= index.carplay
    if get("body_type"):
        mask &= index.body.one_of(BODY_GROUPS.get(filters["body_type"], {filters["body_type"]}))
    return mask
