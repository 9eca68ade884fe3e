"""Car search in plain Python: filters from Spanish text, hybrid ranking, replies.

A customer's message is parsed into filters (make and model typo-tolerant
against the live catalog, years, prices and km in Spanish, Bluetooth, CarPlay,
body type) plus a free description ("familiar", "algo deportivo") ranked with
the embeddings of `catalog_index`. Filters accumulate across turns in one dict
(the `search_filters` slot):

    make, model        str, or a list of str when several were named
    year_min, year_max, price_min, price_max, km_max   int
    bluetooth, carplay True when asked for
    body_type          hatchback, sedan, suv, minivan, pickup, coupe or camioneta
    query              the free description, e.g. "familiar"
    sort               price_asc, km_asc or year_desc (the tie-break asked for)

The `*_turn` functions take the conversation state (slot values) and return the
reply text and the slot updates; `actions/search_actions.py` is the Rasa layer.
Unavailable cars are never in the index, so they are never offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
from rapidfuzz import fuzz, process

from actions.catalog_index import (
    BODY_GROUPS, BODY_LABELS, CarInfo, CatalogIndex, all_wheel_drive, encode_query, seats_seven,
    transmission,
)
from actions.formatting import format_km, format_price, split_message
from actions.parsing import Amount, find_amounts, find_bounds, normalize

PAGE_SIZE = 4
UNAVAILABLE = "Perdón, no pude consultar el catálogo en este momento 😕\nInténtalo de nuevo en un minuto, por favor."
NUMBER_EMOJI = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"]
# Ranking of a free description: semantic similarity (rescaled to 0..1 among the
# candidates) + LEXICAL_WEIGHT x share of its words in the car's description
# + SORT_WEIGHT x the tie-break asked for ("económico": cheaper ranks higher).
LEXICAL_WEIGHT = 1.0
SORT_WEIGHT = 0.5

# Names a customer uses that are not the catalog's own spelling.
MAKE_ALIASES = {
    "vw": "Volkswagen", "volks": "Volkswagen", "wolkswagen": "Volkswagen", "chevy": "Chevrolet",
    "chevi": "Chevrolet", "chebrolet": "Chevrolet", "mercedes": "Mercedes Benz", "benz": "Mercedes Benz",
    "mercedesbenz": "Mercedes Benz", "bmw": "BMW", "kia": "KIA", "ram": "RAM", "mg": "MG",
    "landrover": "Land Rover", "alfa": "Alfa Romeo",
}
# Well-known makes, so "busco un Tesla" is understood (and answered honestly) even
# when the catalog has none.
KNOWN_MAKES = [
    "Acura", "Alfa Romeo", "Audi", "BAIC", "BMW", "BYD", "Buick", "Cadillac", "Chevrolet", "Chirey",
    "Chrysler", "Cupra", "Dodge", "Fiat", "Ford", "GMC", "Honda", "Hyundai", "Infiniti", "JAC",
    "Jaguar", "Jeep", "KIA", "Land Rover", "Lexus", "Lincoln", "Mazda", "Mercedes Benz", "MG",
    "Mini", "Mitsubishi", "Nissan", "Peugeot", "Porsche", "RAM", "Renault", "Seat", "Subaru",
    "Suzuki", "Tesla", "Toyota", "Volkswagen", "Volvo",
]
# (make, model) the customer may call by another name.
MODEL_ALIASES = {
    "vocho": ("Volkswagen", "Sedan"), "bocho": ("Volkswagen", "Sedan"), "escarabajo": ("Volkswagen", "Beetle"),
    "crv": ("Honda", "CR-V"), "hrv": ("Honda", "HR-V"), "brv": ("Honda", "BR-V"), "xtrail": ("Nissan", "X-Trail"),
    "tcross": ("Volkswagen", "T-Cross"), "rav": ("Toyota", "RAV4"), "np300": ("Nissan", "NP300 Frontier"),
    "i10": ("Hyundai", "Grand i10"), "mazda3": ("Mazda", "Mazda 3"), "mazda2": ("Mazda", "Mazda 2"),
}
# Models that are also everyday Spanish words: only taken when the make is named
# too or the word is capitalised mid-sentence ("compara el Versa con el Rio").
AMBIGUOUS_MODELS = {
    "rio", "uno", "avanza", "escape", "toledo", "durango", "leon", "mini", "city", "fit", "up", "ka",
    "lobo", "one", "polo", "fiesta", "clase", "serie", "a", "s", "x", "q",
}
# Frequent words never fuzzy-matched to a make or model ("onda" is not Honda).
STOPWORDS = set(
    """
    a al algo alguna alguno algun anos ano antes aqui asi auto autos bien bueno buena busco buscando
    cabe cada cajuela camioneta camionetas carro carros casi cerca chico chica cinco color como con
    cual cuales cuanto cuanta cuantos cuesta de del desde dame dime donde dos el ella ellos en entre
    era es esa ese eso esta este esto estoy familia familiar favor fuerte gracias grande hay hasta hola
    igual interesa kilometraje kilometros la las le lo los mas marca marcas me mejor menos mi mil millon
    millones modelo modelos mucho muestrame muy nada necesito ninguno no nos nuevo nueva o onda opcion
    opciones otra otro otros para pero pesos poco por porfa precio precios presupuesto primero puede
    puedes que quiero quisiera segundo sea seminuevo ser si sin sobre solo son su tambien tan tener
    tengo tercero tiene tienen tienes todo todos tu un una uno unos usado ver version y ya entra
    factura reversa camara conversa universal fuera afuera marzo
    entrar carga marcha nueve ocho seis siete tres cuatro diez barato barata economico economica
    deportivo deportiva lujo espacioso espaciosa cuarto quinto ultimo detalles detalle compara
    comparar diferencia diferencias contra versus ciudad trabajo viaje viajes carretera pasajeros
    personas asientos puertas motor rapido potente automatico manual estandar cuanto cuantas
    hatchback sedan suv pickup minivan van troca coupe convertible
    """.split()
)
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

_BLUETOOTH = re.compile(r"\bblue ?(?:t(?:oo|u|o)th?|tut|tooh)\b|\bbluetoot\b|\bblutu+t?h?\b|\bbt\b")
_CARPLAY = re.compile(r"\bcar ?pl?ay\b|\bcarpley\b|\bapple ?car\b")
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
_COMPARATOR_AFTER = re.compile(
    r"\s*(?:o menos|para abajo|pa abajo|o anterior|o mas viejo|o mas nuevo|o mas reciente|o posterior|"
    r"en adelante|para arriba|pa arriba|o mas|maximo|minimo|como maximo|como minimo|a lo mucho)\b"
)
_KM_AFTER = re.compile(r"^\s*(?:km|kms|kilometros|kilometraje|de kilometraje|mil km)\b")
_KM_BEFORE = re.compile(r"(?:kilometraje|km|kilometros|recorrido)\s*(?:de|menor a|menor de|maximo de|maximo|hasta|menos de)?\s*$")
_PRICE_WORDS = re.compile(r"\b(?:pesos|precio|presupuesto|mxn|cuesta|cueste|pagar|gastar)\b")
_ORDINALS = {
    "primero": 1, "primer": 1, "primera": 1, "1ro": 1, "1o": 1, "segundo": 2, "segunda": 2, "2do": 2,
    "2o": 2, "tercero": 3, "tercer": 3, "tercera": 3, "3ro": 3, "3o": 3, "cuarto": 4, "cuarta": 4,
    "4to": 4, "quinto": 5, "quinta": 5, "5to": 5,
}
_ORDINAL = re.compile(r"\b(" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")\b")
_NUMBERED = re.compile(r"(?:\b(?:el|la|del|al|de la|numero|num|no\.?|opcion|auto|carro|#)\s*#?\s*|#)([1-9])\b(?!\s*(?:mil|k\b|millon|%|anos|meses))")
_LAST = re.compile(r"\b(?:ultimo|ultima)\b")
_THIS_ONE = re.compile(r"\b(?:ese|este|esa|esta|dicho|mismo)\b")


def squash(text: str) -> str:
    """Normalized without spaces, hyphens or dots: 'CX-5' -> 'cx5'."""
    return re.sub(r"[\s\-\.'/&]+", "", normalize(text))


def as_list(value: Any) -> List[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def _collapse(values: Sequence[str]) -> Any:
    values = list(dict.fromkeys(values))
    return values[0] if len(values) == 1 else values


# --- Names ----------------------------------------------------------------------


@dataclass
class Vocabulary:
    """Make and model names the customer may use, from the catalog and the aliases."""

    makes: Dict[str, str]  # squashed -> make
    models: Dict[str, List[Tuple[str, str]]]  # squashed -> [(make, model)]
    make_keys: Dict[str, List[str]]  # first letter -> squashed makes (for typos)
    model_keys: Dict[str, List[str]]


def vocabulary(index: CatalogIndex) -> Vocabulary:
    """The vocabulary of an index, built once and kept on it."""
    cached = getattr(index, "_vocabulary", None)
    if cached is not None:
        return cached
    makes: Dict[str, str] = {squash(make): make for make in KNOWN_MAKES}
    models: Dict[str, List[Tuple[str, str]]] = {}
    catalog_makes = {squash(make): make for make, _ in index.names}
    makes.update(catalog_makes)
    for alias, make in MAKE_ALIASES.items():
        makes[alias] = catalog_makes.get(squash(make), make)
    for make, model in index.names:
        models.setdefault(squash(model), []).append((make, model))
    for alias, (make, model) in MODEL_ALIASES.items():
        known = models.get(squash(model))
        models.setdefault(alias, known or [(catalog_makes.get(squash(make), make), model)])
    vocab = Vocabulary(makes, models, _by_initial(makes), _by_initial(k for k in models if not k.isdigit()))
    index._vocabulary = vocab
    return vocab


def _by_initial(keys: Iterable[str]) -> Dict[str, List[str]]:
    """Keys grouped by their first letter, sorted."""
    grouped: Dict[str, List[str]] = {}
    for key in sorted(k for k in keys if k):
        grouped.setdefault(key[0], []).append(key)
    return grouped


@dataclass
class NameMatch:
    make: Optional[str]
    model: Optional[str]
    start: int  # character span in the normalized text
    end: int
    exact: bool


def _words(norm: str) -> List[Tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"[a-z0-9]+(?:[-.][a-z0-9]+)*", norm)]


def _capitalised(original: str, word: str) -> bool:
    """Whether the word is written capitalised somewhere but the message's start ("el Rio")."""
    tokens = re.findall(r"[^\W_]+", original)
    return any(normalize(token) == word and token[0].isupper() for token in tokens[1:])


def find_names(text: str, index: CatalogIndex, known: Iterable[str] = ()) -> List[NameMatch]:
    """Makes and models named in the text, in order, typo-tolerant.

    `known` models (e.g. the ones just shown) count even when they are everyday words.
    """
    known = {squash(model) for model in known}
    vocab = vocabulary(index)
    norm = normalize(text)
    words = _words(norm)
    taken = [False] * len(words)
    found: List[NameMatch] = []

    def take(i: int, n: int, make: Optional[str], model: Optional[str], exact: bool) -> None:
        for k in range(i, i + n):
            taken[k] = True
        found.append(NameMatch(make, model, words[i][1], words[i + n - 1][2], exact))

    def model_pick(key: str) -> Tuple[str, str]:
        return vocab.models[key][0]

    # Exact names first, longest first ("land rover", "grand cherokee", "mazda 3").
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            if any(taken[i : i + n]):
                continue
            key = squash(" ".join(w for w, _, _ in words[i : i + n]))
            plural = key[:-1] if key.endswith("s") and len(key) > 3 else None
            parts = [w for w, _, _ in words[i : i + n]]
            if n > 1 and any(p in STOPWORDS for p in parts) and not any(
                len(normalize(model).split()) >= n for _, model in vocab.models.get(key, [])
            ):
                continue  # "a 3 años" is not an Audi A3; "Clase A" is a Mercedes
            if key in vocab.models and not (n == 1 and key in vocab.makes):
                make, model = model_pick(key)
                if (n == 1 and (key.isdigit() or key in AMBIGUOUS_MODELS) and key not in known
                        and not _confirmed(text, words, i, vocab, make)):
                    continue
                take(i, n, make, model, True)
            elif key in vocab.makes and (n > 1 or key not in AMBIGUOUS_MODELS or _capitalised(text, key)):
                take(i, n, vocab.makes[key], None, True)
            elif plural and plural in vocab.makes and n == 1:
                take(i, n, vocab.makes[plural], None, True)
            elif plural and plural in vocab.models and n == 1 and plural not in AMBIGUOUS_MODELS:
                take(i, n, *model_pick(plural), True)
    # Then typos, one or two words at a time ("volswagen golff").
    for n in (2, 1):
        for i in range(len(words) - n + 1):
            if any(taken[i : i + n]):
                continue
            parts = [w for w, _, _ in words[i : i + n]]
            if any(p in STOPWORDS or p.isdigit() for p in parts):
                continue
            key = squash(" ".join(parts))
            if len(key) < 4:
                continue
            cutoff = 85 if len(key) <= 5 else 80
            best = None
            for keys, kind in ((vocab.model_keys, "model"), (vocab.make_keys, "make")):
                # Typos keep the first letter: "factura" is not an Acura, "reversa" not a Versa.
                hit = process.extractOne(key, keys.get(key[0], []), scorer=fuzz.ratio, score_cutoff=cutoff)
                if hit and abs(len(hit[0]) - len(key)) <= 2 and (best is None or hit[1] > best[1]):
                    best = (hit[0], hit[1], kind)
            if not best or best[0] in AMBIGUOUS_MODELS:
                continue
            if best[2] == "model":
                take(i, n, *model_pick(best[0]), False)
            else:
                take(i, n, vocab.makes[best[0]], None, False)
    found.sort(key=lambda m: m.start)
    return found


def _confirmed(text: str, words, i: int, vocab: Vocabulary, make: str) -> bool:
    """An ambiguous or numeric model counts when its make is named or it is capitalised."""
    make_key = squash(make)
    for word, _, _ in words:
        if vocab.makes.get(word) == make or word == make_key:
            return True
    word = words[i][0]
    return not word.isdigit() and _capitalised(text, word)


# --- Filters ----------------------------------------------------------------------


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


def _in_spans(start: int, end: int, spans: Iterable[Tuple[int, int]]) -> bool:
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

    amounts = [a for a in find_amounts(text) if not _in_spans(a.start, a.end, spans)]
    for bound in find_bounds(text, amounts):
        if _apply_bound(bound, norm, parsed.filters, today):
            after = _COMPARATOR_AFTER.match(norm, bound.end)
            spans.append((bound.start, after.end() if after else bound.end))

    for key, pattern in (("bluetooth", _BLUETOOTH), ("carplay", _CARPLAY)):
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
    for word, start, end in _words(norm):
        if _in_spans(start, end, spans) or word in FILLER or word.isdigit():
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


# --- Search -------------------------------------------------------------------------


@dataclass
class Results:
    cars: List[CarInfo]
    total: int  # matches before leaving out the ones already shown


def _mask(index: CatalogIndex, filters: Dict[str, Any], skip: Sequence[str] = ()) -> np.ndarray:
    mask = np.ones(len(index), dtype=bool)
    get = lambda key: None if key in skip else filters.get(key)  # noqa: E731
    if get("make"):
        mask &= np.isin(index.make_key, [m.lower() for m in as_list(filters["make"])])
    if get("model"):
        mask &= np.isin(index.model_key, [m.lower() for m in as_list(filters["model"])])
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
        mask &= np.isin(index.body, sorted(BODY_GROUPS.get(filters["body_type"], {filters["body_type"]})))
    return mask


def search(index: CatalogIndex, filters: Dict[str, Any], exclude: Iterable[str] = (), limit: int = PAGE_SIZE) -> Results:
    """The best `limit` available cars for the filters, leaving out `exclude`."""
    mask = _mask(index, filters)
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
            similarity = index.embeddings[rows] @ encode_query(query)
            spread = float(similarity.max() - similarity.min())
            score += (similarity - similarity.min()) / spread if spread > 1e-6 else 0
        score += LEXICAL_WEIGHT * index.lexical(query, rows)
    sort = filters.get("sort")
    if sort:
        column = {"price_asc": -index.price, "km_asc": -index.km, "year_desc": index.year}[sort][rows]
        ranks = column.argsort().argsort().astype(np.float32)
        preference = ranks / max(len(rows) - 1, 1)
        score += preference * (SORT_WEIGHT if query else 1.0)
    if not query and not sort:
        # Newest first, then fewer km: a sensible default order.
        score += index.year[rows] * 1.0 - index.km[rows] / 1e7
    top = rows[np.argsort(-score, kind="stable")[:limit]]
    return Results([index.cars[i] for i in top], total)


@dataclass
class Relaxation:
    key: str  # the filter to change
    value: Any  # its new value (None: drop it)
    count: int  # matches after the change
    text: str  # what to offer, in Spanish


def nearest_relaxation(index: CatalogIndex, filters: Dict[str, Any]) -> Optional[Relaxation]:
    """The smallest change to one filter that brings in more cars than it has now, or None."""
    current = int(_mask(index, filters).sum())
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
        others = _mask(index, filters, skip=skip)
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
            count = int(_mask(index, {**filters, key: value}).sum())
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
                "body_type": f"incluir otros tipos además de *{BODY_NAMES.get(old, old)}*",
                "model": f"ver otros modelos de *{makes}*" if makes else "ver otros modelos",
                "make": "ver otras marcas",
            }[key]
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


# --- Replies -----------------------------------------------------------------------

BODY_NAMES = {**BODY_LABELS, "camioneta": "camioneta (SUV, minivan o pickup)"}
SORT_NAMES = {"price_asc": "los más económicos primero", "km_asc": "menos km primero", "year_desc": "los más nuevos primero"}


def describe_filters(filters: Dict[str, Any]) -> str:
    """The filters in a short Spanish line: 'Volkswagen Golf · hasta $300,000 · con Bluetooth'."""
    parts = []
    names = " ".join(p for p in (" o ".join(as_list(filters.get("make"))), " o ".join(as_list(filters.get("model")))) if p)
    if names:
        parts.append(names)
    if filters.get("body_type"):
        parts.append(BODY_NAMES.get(filters["body_type"], filters["body_type"]))
    low, high = filters.get("year_min"), filters.get("year_max")
    if low and high:
        parts.append(str(low) if low == high else f"{low} a {high}")
    elif low:
        parts.append(f"{low} o más nuevo")
    elif high:
        parts.append(f"{high} o anterior")
    low, high = filters.get("price_min"), filters.get("price_max")
    if low and high:
        parts.append(f"{format_price(low)} a {format_price(high)}")
    elif high:
        parts.append(f"hasta {format_price(high)}")
    elif low:
        parts.append(f"desde {format_price(low)}")
    if filters.get("km_max"):
        parts.append(f"hasta {format_km(filters['km_max'])}")
    features = [n for k, n in (("bluetooth", "Bluetooth"), ("carplay", "CarPlay")) if filters.get(k)]
    if features:
        parts.append("con " + " y ".join(features))
    if filters.get("query"):
        parts.append(f"“{filters['query']}”")
    if filters.get("sort"):
        parts.append(SORT_NAMES[filters["sort"]])
    return " · ".join(parts)


def features_line(car: CarInfo) -> str:
    if car.bluetooth and car.carplay:
        sound = "🎵 Bluetooth y CarPlay"
    elif car.bluetooth:
        sound = "🎵 Bluetooth"
    elif car.carplay:
        sound = "📱 CarPlay"
    else:
        sound = "🔇 Sin Bluetooth ni CarPlay"
    gearbox = transmission(car)
    return f"⚙️ {gearbox.capitalize()} · {sound}" if gearbox else sound


def car_card(car: CarInfo, number: Optional[int] = None) -> str:
    """A car in a results list, WhatsApp-shaped as in the original."""
    head = f"{NUMBER_EMOJI[number - 1]} " if number and number <= len(NUMBER_EMOJI) else ""
    lines = [f"{head}🚗 *{car.make} {car.model} {car.year}*", car.version or "", f"💰 {car.price_text} · 🛣️ {format_km(car.km)}"]
    if car.body:
        lines.append(f"📏 {BODY_LABELS[car.body].capitalize()}")
    lines.append(features_line(car))
    return "\n".join(line for line in lines if line)


def format_results(results: Results, filters: Dict[str, Any], already_shown: int = 0) -> str:
    shown = len(results.cars)
    criteria = describe_filters(filters)
    if already_shown:
        head = f"Aquí tienes más opciones ({already_shown + 1} a {already_shown + shown} de {results.total}):"
    elif results.total <= shown:
        noun = "auto" if results.total == 1 else "autos"
        head = f"Encontré *{results.total}* {noun}" + (f" ({criteria})" if criteria else "") + ":"
    else:
        head = f"Encontré *{results.total}* autos" + (f" ({criteria})" if criteria else "") + f". Te muestro {shown}:"
    body = "\n\n".join(car_card(car, i + 1) for i, car in enumerate(results.cars))
    remaining = results.total - already_shown - shown
    tail = "¿Te gustaría saber más de alguno? Dime el número o el modelo 🔎"
    if remaining > 0:
        tail += f"\nTambién puedo mostrarte más opciones ({remaining} más)."
    return f"{head}\n\n{body}\n\n{tail}"


def car_details(car: CarInfo) -> str:
    """The full card of one car."""
    dims = [f"{format_km(v)[:-3]} mm de {n}" for n, v in (("largo", car.largo), ("ancho", car.ancho), ("alto", car.altura)) if v]
    lines = [
        f"🚗 *{car.make} {car.model} {car.year}*",
        f"⚙️ Versión: {car.version}" if car.version else "",
        f"💰 Precio: *{car.price_text}*",
        f"🛣️ Kilometraje: {format_km(car.km)}",
        f"📏 Tipo: {BODY_LABELS[car.body]}" if car.body else "",
        f"📐 Medidas: {', '.join(dims)}" if dims else "",
        f"🔧 Transmisión: {transmission(car)}" if transmission(car) else "",
        "🛞 Tracción 4x4 / AWD" if all_wheel_drive(car) else "",
        f"🎵 Bluetooth: {'Sí' if car.bluetooth else 'No'}",
        f"📱 CarPlay: {'Sí' if car.carplay else 'No'}",
        f"🔖 Stock: {car.stock_id}",
        "",
        "✅ Inspeccionado en 240 puntos, con garantía y 7 días de prueba.",
        "¿Quieres que calcule tu *financiamiento* 💵 o agendamos una *cita* 📅 para que lo conozcas?",
    ]
    return "\n".join(line for i, line in enumerate(lines) if line or i == 11)


_FEATURE_QUESTIONS = [
    ("bluetooth", _BLUETOOTH),
    ("carplay", _CARPLAY),
    ("km", re.compile(r"\bkilometr|\bkm\b|\bkms\b|\brecorrido\b|\bmillaje\b")),
    ("size", re.compile(r"\btamano\b|\bmide\b|\bmedidas?\b|\bdimensiones\b|\blargo\b|\bancho\b|\balto\b|\baltura\b|\bgrande\b|\bchico\b|\bespacio\b|\bcabe")),
    ("price", re.compile(r"\bprecio\b|\bcuesta\b|\bvale\b|\bcosto\b|\bcuanto es\b|\bsale en\b")),
    ("year", re.compile(r"\bano\b|\bque modelo\b|\bantiguedad\b|\bviejo\b")),
    ("version", re.compile(r"\bversion\b|\bmotor\b|\bcilindr|\blitros\b|\bequipamiento\b")),
    ("transmission", re.compile(r"\bautomatic|\bmanual\b|\bestandar\b|\btransmision\b|\bcaja de cambios\b|\bcvt\b")),
    ("traction", re.compile(r"\b4x4\b|\bawd\b|\btraccion\b|\btodo terreno\b|\b4wd\b")),
    ("seats", re.compile(r"\bpasajeros\b|\basientos\b|\bplazas\b|\bcuantas personas\b|\bfilas\b|\bfamilia\b")),
    ("body", re.compile(r"\bque tipo\b|\bcarroceria\b|\bes (?:un |una )?(?:sedan|suv|camioneta|hatchback|pickup|minivan)\b")),
    ("available", re.compile(r"\bdisponible\b|\bsigue\b|\btodavia\b|\bvendido\b|\baun\b")),
]


def answer_feature(car: CarInfo, text: str) -> str:
    """Answer questions about a car truthfully from its data (empty means no)."""
    norm = normalize(text)
    name = f"{car.make} {car.model} {car.year}"
    answers = []
    asked = [key for key, pattern in _FEATURE_QUESTIONS if pattern.search(norm)]
    for key in asked:
        if key == "bluetooth":
            answers.append(f"🎵 ¡Sí! El {name} tiene *Bluetooth*." if car.bluetooth else f"🎵 No, el {name} no tiene Bluetooth.")
        elif key == "carplay":
            answers.append(f"📱 ¡Sí! El {name} tiene *Apple CarPlay*." if car.carplay else f"📱 No, el {name} no tiene CarPlay.")
        elif key == "km":
            answers.append(f"🛣️ El {name} tiene *{format_km(car.km)}* recorridos.")
        elif key == "size":
            dims = [f"{format_km(v)[:-3]} mm de {n}" for n, v in (("largo", car.largo), ("ancho", car.ancho), ("alto", car.altura)) if v]
            kind = f"Es {_article(car.body)} *{BODY_LABELS[car.body]}*" if car.body else "Su ficha no indica el tipo de carrocería"
            answers.append(f"📏 {kind}" + (f": mide {', '.join(dims)}." if dims else "; no tengo registradas sus medidas."))
        elif key == "price":
            answers.append(f"💰 El {name} cuesta *{car.price_text}*.")
        elif key == "year":
            answers.append(f"📅 Es modelo *{car.year}*.")
        elif key == "version":
            answers.append(f"⚙️ Es la versión *{car.version}*." if car.version else "⚙️ Su ficha no indica la versión.")
        elif key == "transmission":
            gearbox = transmission(car)
            answers.append(f"🔧 Su transmisión es *{gearbox}* ({car.version})." if gearbox else "🔧 Su ficha no indica la transmisión; te lo confirmamos en la cita.")
        elif key == "traction":
            answers.append("🛞 Sí, tiene tracción *4x4 / AWD*." if all_wheel_drive(car) else f"🛞 No, su versión ({car.version}) no indica tracción 4x4 ni AWD.")
        elif key == "seats":
            answers.append("👨‍👩‍👧‍👦 Su versión indica *7 pasajeros* o más (tres filas)." if seats_seven(car) or car.body == "minivan"
                           else "👨‍👩‍👧 Su ficha no indica tercera fila; lo normal en este modelo son 5 pasajeros.")
        elif key == "body":
            answers.append(f"📏 Es {_article(car.body)} *{BODY_LABELS[car.body]}*." if car.body else "📏 Su ficha no indica el tipo de carrocería.")
        elif key == "available":
            answers.append(f"✅ Sí, el {name} sigue disponible.")
    if not answers:
        return (f"No tengo ese dato en la ficha del {name} 🤔. Esto es lo que sí sé:\n\n{car_details(car)}")
    return "\n".join(answers) + "\n\n¿Te gustaría agendar una cita para conocerlo o calcular tu financiamiento?"


def _article(body: str) -> str:
    return "una" if body in ("suv", "minivan", "pickup") else "un"


def compare(cars: Sequence[CarInfo]) -> str:
    """Two cars side by side, with what sets them apart."""
    a, b = cars[0], cars[1]
    yes = lambda flag: "Sí" if flag else "No"  # noqa: E731
    rows = [
        ("💰 Precio", a.price_text, b.price_text),
        ("📅 Año", str(a.year), str(b.year)),
        ("🛣️ Km", format_km(a.km), format_km(b.km)),
        ("📏 Tipo", BODY_LABELS.get(a.body, "—"), BODY_LABELS.get(b.body, "—")),
        ("🔧 Transmisión", transmission(a) or "—", transmission(b) or "—"),
        ("🎵 Bluetooth", yes(a.bluetooth), yes(b.bluetooth)),
        ("📱 CarPlay", yes(a.carplay), yes(b.carplay)),
        ("📐 Largo", f"{format_km(a.largo)[:-3]} mm" if a.largo else "—", f"{format_km(b.largo)[:-3]} mm" if b.largo else "—"),
    ]
    lines = [f"⚖️ *{a.make} {a.model} {a.year}* vs *{b.make} {b.model} {b.year}*", ""]
    lines += [f"{label}: {x} | {y}" for label, x, y in rows]
    if a.model != b.model:
        label = {id(a): a.model, id(b): b.model}
    elif a.year != b.year:
        label = {id(a): f"{a.model} {a.year}", id(b): f"{b.model} {b.year}"}
    else:
        label = {id(a): "primero", id(b): "segundo"}
    notes = []
    if a.price != b.price:
        cheap, other = (a, b) if a.price < b.price else (b, a)
        notes.append(f"El {label[id(cheap)]} es {format_price(other.price - cheap.price)} más barato.")
    if a.year != b.year:
        notes.append(f"El {label[id(max(a, b, key=lambda c: c.year))]} es más nuevo.")
    if a.km != b.km:
        notes.append(f"El {label[id(min(a, b, key=lambda c: c.km))]} tiene menos kilómetros.")
    if notes:
        lines += ["", " ".join(notes)]
    lines += ["", "¿Quieres los detalles de alguno, calcular su financiamiento o agendar una cita?"]
    return "\n".join(lines)


# --- Which car the customer means ------------------------------------------------------


@dataclass
class Reference:
    """The cars a message points at, and whether it pointed at any explicitly."""

    cars: List[CarInfo]
    explicit: bool


def resolve_cars(
    text: str, index: CatalogIndex, page: Sequence[str] = (), shown: Sequence[str] = (),
    focus: Optional[str] = None, wanted: int = 1,
) -> Reference:
    """The cars a message refers to: "el segundo", "el Golf GTI", "ese" (the car in focus).

    A name or number that matches no available car is not replaced by the car in focus.
    """
    norm = normalize(text)
    page_cars = [c for c in (index.get(s) for s in page) if c]
    shown_cars = [c for c in (index.get(s) for s in shown) if c]
    refs: List[Tuple[int, CarInfo]] = []

    recent = page_cars + shown_cars + [c for c in (index.get(focus),) if c]
    names = find_names(text, index, known=[c.model for c in recent])
    name_spans = [(m.start, m.end) for m in names]
    pointers = [(m.start(), _ORDINALS[m.group(1)]) for m in _ORDINAL.finditer(norm)]
    pointers += [(m.start(), int(m.group(1))) for m in _NUMBERED.finditer(norm)
                 if not _in_spans(m.start(1), m.end(1), name_spans)]
    pointers += [(m.start(), len(page_cars)) for m in _LAST.finditer(norm)]
    for start, number in pointers:
        if 1 <= number <= len(page_cars):
            refs.append((start, page_cars[number - 1]))

    # Group consecutive name matches: "Volkswagen Golf GTI" is one car.
    groups: List[List[NameMatch]] = []
    for match in names:
        if groups and match.start - groups[-1][-1].end <= 2 and not (groups[-1][-1].model and match.model):
            groups[-1].append(match)
        else:
            groups.append([match])
    for i, group in enumerate(groups):
        end = groups[i + 1][0].start if i + 1 < len(groups) else len(norm)
        tail = norm[group[-1].end : end]
        car = _best_named(index, group, tail, page_cars + shown_cars)
        if car:
            refs.append((group[0].start, car))

    refs.sort(key=lambda ref: ref[0])
    cars: List[CarInfo] = []
    for _, car in refs:
        if car not in cars:
            cars.append(car)
    explicit = bool(pointers or groups)
    if len(cars) < wanted and (len(cars) == len(pointers) + len(groups) or _THIS_ONE.search(norm)):
        current = index.get(focus)
        if current and current not in cars:
            cars.insert(0, current)
    return Reference(cars[:wanted], explicit)


def _best_named(index: CatalogIndex, group: List[NameMatch], tail: str, recent: List[CarInfo]) -> Optional[CarInfo]:
    """The car a name refers to: among the recently shown first, then the whole catalog."""
    makes = {m.make.lower() for m in group if m.make}
    models = {m.model.lower() for m in group if m.model}

    def fits(car: CarInfo) -> bool:
        return (not makes or car.make.lower() in makes) and (not models or car.model.lower() in models)

    words = set(re.findall(r"[a-z0-9]+", tail)) - FILLER
    years = {int(w) for w in words if w.isdigit() and len(w) == 4}

    def score(car: CarInfo) -> Tuple[int, int]:
        version = set(re.findall(r"[a-z0-9]+", normalize(car.version)))
        return (len(words & version) + (2 if car.year in years else 0), 0)

    candidates = [c for c in recent if fits(c)]
    if not candidates:
        rows = np.flatnonzero(_mask(index, {"make": list(makes), "model": list(models)} if models else {"make": list(makes)}))
        candidates = [index.cars[i] for i in rows]
        candidates.sort(key=lambda c: (-c.year, c.km))
    if not candidates:
        return None
    return max(candidates, key=score)  # max keeps the first of equals: most recent / newest


# --- Conversation turns -----------------------------------------------------------------


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
        text = format_results(results, filters, already_shown=len(shown))
        return Reply(text, {"search_filters": filters, "search_shown": shown + ids, "search_page": ids, "search_relax": None})
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

