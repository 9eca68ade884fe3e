"""Search filters, each kind declared once: how a message sets or clears it, which cars
pass, how to relax it when nothing matches, and how a reply names it.

Filters accumulate across turns in one dict (the `search_filters` slot):

    make, model          str, or a list of str when several were named
    body_type            hatchback, sedan, suv, minivan, pickup, coupe or camioneta
    year_min, year_max, price_min, price_max, km_max     int
    monthly_max          int: the monthly payment the customer can afford, with
                         monthly_down / monthly_down_pct / monthly_term when said
    transmission         automatic, manual, cvt or dsg
    traction             "4x4" (4x4 or AWD)
    bluetooth, carplay   True when asked for
    query                the free description, e.g. "familiar" (only words the
                         catalog's descriptions use)
    sort                 price_asc, km_asc or year_desc (the tie-break asked for)

To add a filter: write a `Filter` subclass below, add it to `FILTERS` and test it in
tests/test_search.py. `parse_request` reads a message with every filter in order,
`matching` tells which cars pass, `relaxations` and `describe_filters` use the
same list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np

from actions.catalog.index import BODY_GROUPS, BODY_LABELS, CatalogIndex
from actions.financing import plan as financing
from actions.formatting import car_name, format_km, format_price
from settings import current as current_settings
from understanding import cues
from understanding.amounts import Bound, comparator_end, find_amounts, find_bounds
from understanding.names import NameMatch, find_names
from understanding.text import COMMON_WORDS, normalize, number_words, word_spans

# Words that carry no meaning for ranking (what is left is the free description).
FILLER = COMMON_WORDS - {
    "familiar",
    "familia",
    "grande",
    "chico",
    "chica",
    "barato",
    "barata",
    "economico",
    "economica",
    "deportivo",
    "deportiva",
    "lujo",
    "espacioso",
    "espaciosa",
    "ciudad",
    "trabajo",
    "viaje",
    "viajes",
    "carretera",
    "pasajeros",
    "personas",
    "asientos",
    "rapido",
    "potente",
    "cajuela",
    "carga",
    "nuevo",
    "nueva",
    "seminuevo",
    "motor",
    "puertas",
} | {
    "quiero",
    "busco",
    "buscando",
    "ando",
    "estoy",
    "ensename",
    "muestrame",
    "mostrar",
    "muestra",
    "pasame",
    "manda",
    "mandame",
    "enseñame",
    "algun",
    "alguna",
    "tipo",
    "tal",
    "vez",
    "ok",
    "va",
    "bueno",
    "pues",
    "oye",
    "hola",
    "buenas",
    "dias",
    "tardes",
    "noches",
    "gustaria",
    "podrias",
    "encontrar",
    "comprar",
    "adquirir",
    "kavak",
    "seminuevos",
    "vehiculo",
    "vehiculos",
    "coche",
    "coches",
    "carro",
    "carros",
    "auto",
    "autos",
    "mejor",
    "ahora",
    "tambien",
    "entonces",
    "ademas",
    "km",
    "kms",
    "bluetooth",
    "carplay",
    "car",
    "play",
    "apple",
    "mas",
    "opciones",
    "cualquier",
    "importa",
    "quita",
    "quitale",
    "filtro",
    "filtros",
    "limite",
    "aprox",
    "aproximadamente",
    "alrededor",
    "maximo",
    "minimo",
    "adelante",
    "arriba",
    "abajo",
    "rango",
    "menor",
    "mayor",
}

_NEGATED = re.compile(
    r"(?:sin|no importa(?: si tiene)?|no necesito|no me importa|da igual|no es necesario|quita(?:le)?|que no sea|no sea|no quiero)"
    r"(?: el| la| que tenga| con| de| una?)?\s*$"
)
_AGE = re.compile(
    r"\b(?:menos de|no mas de|maximo|hasta|de maximo)\s+(\d{1,2}|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez)\s+anos\b"
)
_SMALL_NUMBERS = number_words(2, 10)
_KM_AFTER = re.compile(r"^\s*(?:km|kms|kilometros|kilometraje|de kilometraje|mil km)\b")
_KM_BEFORE = re.compile(
    r"(?:kilometraje|km|kilometros|recorrido)\s*(?:de|menor a|menor de|maximo de|maximo|hasta|menos de)?\s*$"
)
_AMOUNT = r"\$?\s*\d[\d.,]*\s*(?:mil|k|%|por ciento)?"
_PLAN_WORDS = re.compile(
    rf"{_AMOUNT}\s*(?:pesos\s*)?(?:de |del |como |para el )?(?:enganche|inicial|entrada|anticipo)\b"
    rf"|\b(?:enganche|inicial|entrada|anticipo)\s*(?:de |del )?{_AMOUNT}|\b(?:a\s+)?\d+\s*(?:meses|anos)\b"
)
_PRICE_WORDS = re.compile(r"\b(?:pesos|precio|presupuesto|mxn|cuesta|cueste|pagar|gastar)\b")
_CLEAR_LEAD = (
    r"\b(?:sin limite de|sin filtro de|sin lo de(?:l)?|sin (?:el|la|los|las)|cualquier|no importa(?: el| la| los)?|da igual(?: el| la)?|"
    r"quita(?:le)?(?: el| la| los| lo de(?:l)?)?(?: filtro de(?:l)?)?|olvida(?: el| la)?|ya no (?:por|importa))\s+"
)


def as_list(value: Any) -> List[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def _collapse(values: Sequence[str]) -> Any:
    values = list(dict.fromkeys(values))
    return values[0] if len(values) == 1 else values


def in_spans(start: int, end: int, spans: Iterable[Tuple[int, int]]) -> bool:
    """Whether the span start..end overlaps any of the spans."""
    return any(start < b and end > a for a, b in spans)


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


@dataclass
class Reading:
    """A message being read by the filters: what they found and which parts they took."""

    text: str
    norm: str
    index: CatalogIndex
    today: date
    parsed: Parsed = field(default_factory=Parsed)
    spans: List[Tuple[int, int]] = field(default_factory=list)
    description: List[str] = field(default_factory=list)  # extra words for the free description

    @property
    def filters(self) -> Dict[str, Any]:
        return self.parsed.filters

    def take(self, start: int, end: int) -> None:
        self.spans.append((start, end))

    def untaken(self, pattern: re.Pattern) -> List[re.Match]:
        """The pattern's matches in the parts no filter took yet ("4x4" in "sin lo de 4x4" was)."""
        return [m for m in pattern.finditer(self.norm) if not in_spans(m.start(), m.end(), self.spans)]

    def bounds(self) -> List[Bound]:
        """The bounds ("menos de 300 mil", "2018 en adelante") in the parts no filter took yet."""
        amounts = [a for a in find_amounts(self.text) if not in_spans(a.start, a.end, self.spans)]
        return [b for b in find_bounds(self.text, amounts) if not in_spans(b.start, b.end, self.spans)]

    def negated(self, start: int) -> bool:
        """Whether the words before `start` negate what follows ("sin bluetooth", "que no sea estándar")."""
        return bool(_NEGATED.search(self.norm[:start]))


@dataclass
class Relaxation:
    key: str  # the filter to change
    value: Any  # its new value (None: drop it)
    count: int  # matches after the change
    text: str  # what to offer, in Spanish
    distance: float = 1.0  # how far from what the customer asked (the smallest is offered)


class Filter:
    """One kind of filter. Subclasses override what applies to them."""

    keys: Tuple[str, ...] = ()
    # Words that, after "sin límite de", "cualquier", "no importa el"..., clear these keys.
    clears: Dict[str, Tuple[str, ...]] = {}

    def read(self, reading: Reading) -> None:
        """Set this filter's keys from the message (and take the parts it used)."""

    def mask(self, index: CatalogIndex, filters: Dict[str, Any]) -> Optional[np.ndarray]:
        """The cars that pass, or None when the filters do not set this one."""
        return None

    def relaxations(self, index: CatalogIndex, filters: Dict[str, Any]) -> List[Relaxation]:
        """Changes of this filter that would bring in more cars."""
        return []

    def describe(self, filters: Dict[str, Any]) -> Optional[str]:
        """How a reply names this filter ('hasta $300,000'), or None."""
        return None

    def _dropped(
        self,
        index: CatalogIndex,
        filters: Dict[str, Any],
        text: str,
        distance: float,
        keys: Optional[Tuple[str, ...]] = None,
    ) -> List[Relaxation]:
        """Dropping this filter, if that brings in more cars."""
        keys = keys or self.keys
        if not any(filters.get(k) not in (None, "", [], False) for k in keys):
            return []
        count = int(matching(index, filters, skip=keys).sum())
        if count <= int(matching(index, filters).sum()):
            return []
        return [Relaxation(keys[0], None, count, text, distance)]


class Names(Filter):
    """Make and model, typo-tolerant ("volswagen golff", "vocho")."""

    keys = ("make", "model")
    clears = {"marca": ("make", "model"), "modelo": ("model",)}

    def read(self, r: Reading) -> None:
        names = find_names(r.text, r.index.vocabulary)
        r.parsed.names = names
        makes = [m.make for m in names if m.make]
        models = [m.model for m in names if m.model]
        if makes:
            r.filters["make"] = _collapse(makes)
        if models:
            r.filters["model"] = _collapse(models)
        r.spans += [(m.start, m.end) for m in names]

    def mask(self, index, filters):
        mask = None
        if filters.get("make"):
            mask = index.make_key.one_of(m.lower() for m in as_list(filters["make"]))
        if filters.get("model"):
            models = index.model_key.one_of(m.lower() for m in as_list(filters["model"]))
            mask = models if mask is None else mask & models
        return mask

    def relaxations(self, index, filters):
        makes = " o ".join(as_list(filters.get("make")))
        options = (
            self._dropped(
                index, filters, f"ver otros modelos de *{makes}*" if makes else "ver otros modelos", 0.6, ("model",)
            )
            if filters.get("model")
            else []
        )
        return options + self._dropped(index, filters, "ver otras marcas", 0.8, ("make", "model"))

    def describe(self, filters):
        makes, models = as_list(filters.get("make")), as_list(filters.get("model"))
        if len(makes) == 1 and models:  # "Mazda 3", never "Mazda Mazda 3"
            return " o ".join(car_name(makes[0], model) for model in models)
        if len(makes) == len(models) > 1:  # "versa o aveo": read in pairs, in the order named
            return " o ".join(car_name(make, model) for make, model in zip(makes, models))
        names = [" o ".join(names) for names in (makes, models)]
        return " ".join(n for n in names if n) or None


# Ways of describing a car that the catalog's descriptions say in other words.
_HINTS = [
    (cues.SEATS, "para 7 pasajeros"),
    (
        re.compile(
            r"\bque gaste poco\b|\bgaste poca gasolina\b|\bahorrador(?:es)?\b|\brendidor(?:es)?\b|\bbajo consumo\b"
            r"|\bque rinda\b|\b(?:que|q) no (?:gaste|consuma)\b|\b(?:consuma|consume|gaste|gasta) poco\b"
            r"|\bno (?:consuma|consume|gaste|gasta) (?:mucho|tanto)\b"
        ),
        "bajo consumo de gasolina",
    ),
]


class Hints(Filter):
    """ "para 7", "que gaste poco": not filters, descriptions to rank by, in the catalog's words
    (and "para 7" is not a price)."""

    def read(self, r: Reading) -> None:
        for pattern, words in _HINTS:
            matches = list(pattern.finditer(r.norm))
            for match in matches:
                r.take(*match.span())
            if matches:
                r.description.append(words)


class Monthly(Filter):
    """A monthly payment the customer can afford ("puedo pagar 6 mil al mes"): cars whose plan fits.

    The plan is the financing capability's (`actions.financing`): the customer's down payment
    and term when the message gives them, else SEARCH_MONTHLY_DOWN_PCT (20) % and
    SEARCH_MONTHLY_TERM (72) months, at FINANCING_ANNUAL_RATE.
    """

    keys = ("monthly_max", "monthly_down", "monthly_down_pct", "monthly_term")
    clears = {"mensualidad": keys}

    def read(self, r: Reading) -> None:
        for bound in r.bounds():
            after, before = r.norm[bound.end :], r.norm[: bound.start]
            if not (cues.MONTHLY_AFTER.match(after) or cues.MONTHLY_BEFORE.search(before)):
                continue
            high = bound.high if bound.high is not None else bound.low
            r.filters["monthly_max"] = int(high * (1000 if high < 100 else 1))
            end = bound.end + (cues.MONTHLY_AFTER.match(after).end() if cues.MONTHLY_AFTER.match(after) else 0)
            r.take(bound.start, end)
            rest = r.norm[: bound.start] + " " + r.norm[end:]
            plan = financing.parse_message(rest, financing.DOWN)
            if plan.down_pct is not None:
                r.filters["monthly_down_pct"] = plan.down_pct
            elif plan.down_payment is not None:
                r.filters["monthly_down"] = int(plan.down_payment)
            if plan.term is not None and financing.check_term(plan.term) is None:
                r.filters["monthly_term"] = int(plan.term)
            for match in _PLAN_WORDS.finditer(r.norm):  # the down payment and term are not a price
                r.take(*match.span())
            return

    def mask(self, index, filters):
        if not filters.get("monthly_max"):
            return None
        return monthly_payments(index.price, filters) <= filters["monthly_max"]

    def relaxations(self, index, filters):
        limit = filters.get("monthly_max")
        if not limit:
            return []
        others = matching(index, filters, skip=("monthly_max",))
        payments = np.sort(
            monthly_payments(index.price, filters)[others & (monthly_payments(index.price, filters) > limit)]
        )
        if not len(payments):
            return []
        value = int(np.ceil(payments[min(2, len(payments) - 1)] / 100) * 100)
        count = int(matching(index, {**filters, "monthly_max": value}).sum())
        return [
            Relaxation(
                "monthly_max",
                value,
                count,
                f"subir la mensualidad a *{format_price(value)}*",
                abs(value - limit) / limit,
            )
        ]

    def describe(self, filters):
        if not filters.get("monthly_max"):
            return None
        return f"mensualidad hasta {format_price(filters['monthly_max'])}"


def monthly_plan(filters: Dict[str, Any]) -> Tuple[Optional[int], Decimal, int]:
    """(down payment in pesos or None, down payment percent, months) the monthly filter assumes."""
    pct = filters.get("monthly_down_pct")
    given = current_settings()
    default_pct = given.search_monthly_down_pct
    months = int(filters.get("monthly_term") or given.search_monthly_term)
    down = filters.get("monthly_down")
    return (int(down) if down is not None else None), Decimal(str(pct)) if pct is not None else default_pct, months


def monthly_payments(prices: np.ndarray, filters: Dict[str, Any]) -> np.ndarray:
    """The monthly payment of each price under the monthly filter's plan (pesos, rounded half up)."""
    down, pct, months = monthly_plan(filters)
    prices = np.asarray(prices, dtype=np.float64)
    downs = np.full_like(prices, down) if down is not None else np.floor(prices * float(pct) / 100 + 0.5)
    financed = np.maximum(prices - downs, 0)
    rate = float(financing.default_annual_rate()) / 1200
    factor = rate / (1 - (1 + rate) ** -months) if rate else 1 / months
    return np.floor(financed * factor + 0.5)


def monthly_payment_of(price: int, filters: Dict[str, Any]) -> int:
    """The exact monthly payment of one car under the monthly filter's plan (what its card shows)."""
    down, pct, months = monthly_plan(filters)
    down = down if down is not None else financing.to_pesos(Decimal(price) * pct / 100)
    return financing.make_plan(price, min(down, price), months).monthly_payment


def describe_monthly_plan(filters: Dict[str, Any]) -> str:
    """'con 20% de enganche a 72 meses y tasa de 10% anual': what the monthly payments assume."""
    down, pct, months = monthly_plan(filters)
    down_text = f"{format_price(down)} de enganche" if down is not None else f"{financing.format_pct(pct)} de enganche"
    return f"con {down_text} a {months} meses y tasa de {financing.format_pct(financing.default_annual_rate())} anual"


class Km(Filter):
    keys = ("km_max",)
    clears = {"kilometraje": keys, "km": keys}

    def read(self, r: Reading) -> None:
        for bound in r.bounds():
            before = r.norm[max(0, bound.start - 30) : bound.start]
            after = r.norm[bound.end : bound.end + 20]
            if cues.INCIDENTAL_KM.match(r.norm[bound.start :]):
                r.take(bound.start, bound.end)  # "manejo 20 km al día" is no filter
                continue
            if _KM_AFTER.match(after) or _KM_BEFORE.search(before):
                if bound.high is not None:
                    r.filters["km_max"] = int(bound.high)
                r.take(bound.start, comparator_end(r.norm, bound.end))

    def mask(self, index, filters):
        return index.km <= filters["km_max"] if filters.get("km_max") is not None else None

    def relaxations(self, index, filters):
        return _numeric_relaxation(
            index, filters, "km_max", index.km, above=True, text=lambda v: f"aceptar hasta *{format_km(v)}*"
        )

    def describe(self, filters):
        return f"hasta {format_km(filters['km_max'])}" if filters.get("km_max") else None


class Year(Filter):
    keys = ("year_min", "year_max")
    clears = {"ano": keys, "anos": keys}

    def read(self, r: Reading) -> None:
        age = _AGE.search(r.norm)
        if age:
            years = _SMALL_NUMBERS.get(age.group(1)) or int(age.group(1))
            r.filters["year_min"] = r.today.year - years
            r.take(*age.span())
        for bound in r.bounds():
            values = [v for v in (bound.low, bound.high) if v is not None]
            if bound.is_money or not all(1990 <= v <= r.today.year + 1 and v == int(v) for v in values):
                continue
            low, high = bound.low, bound.high
            if bound.strict:
                low = low + 1 if low is not None else None
                high = high - 1 if high is not None else None
            if low is not None:
                r.filters["year_min"] = int(low)
            if high is not None:
                r.filters["year_max"] = int(high)
            r.take(bound.start, comparator_end(r.norm, bound.end))

    def mask(self, index, filters):
        mask = None
        if filters.get("year_min") is not None:
            mask = index.year >= filters["year_min"]
        if filters.get("year_max") is not None:
            upper = index.year <= filters["year_max"]
            mask = upper if mask is None else mask & upper
        return mask

    def relaxations(self, index, filters):
        return _numeric_relaxation(
            index, filters, "year_min", index.year, above=False, text=lambda v: f"buscar desde *{v}*"
        ) + _numeric_relaxation(
            index, filters, "year_max", index.year, above=True, text=lambda v: f"buscar hasta *{v}*"
        )

    def describe(self, filters):
        low, high = filters.get("year_min"), filters.get("year_max")
        if low and high:
            return str(low) if low == high else f"{low} a {high}"
        if low:
            return f"{low} o más nuevo"
        return f"{high} o anterior" if high else None


class Price(Filter):
    keys = ("price_min", "price_max")
    clears = {"precio": keys, "presupuesto": keys}

    def read(self, r: Reading) -> None:
        for bound in r.bounds():
            before = r.norm[max(0, bound.start - 30) : bound.start]
            after = r.norm[bound.end : bound.end + 20]
            values = [v for v in (bound.low, bound.high) if v is not None]
            scale = 1
            if not bound.is_money:
                context = bound.kind in ("max", "min", "range", "around") or _PRICE_WORDS.search(before + after)
                if not context:
                    continue
                if all(20 <= v < 1000 for v in values):
                    scale = 1000
                elif not all(v >= 10_000 for v in values):
                    continue
            if bound.low is not None and bound.kind != "exact":
                r.filters["price_min"] = int(round(bound.low * scale))
            if bound.high is not None:
                r.filters["price_max"] = int(round(bound.high * scale))
            r.take(bound.start, comparator_end(r.norm, bound.end))

    def mask(self, index, filters):
        mask = None
        if filters.get("price_min") is not None:
            mask = index.price >= filters["price_min"]
        if filters.get("price_max") is not None:
            upper = index.price <= filters["price_max"]
            mask = upper if mask is None else mask & upper
        return mask

    def relaxations(self, index, filters):
        return _numeric_relaxation(
            index,
            filters,
            "price_max",
            index.price,
            above=True,
            text=lambda v: f"subir tu presupuesto a *{format_price(v)}*",
        ) + _numeric_relaxation(
            index,
            filters,
            "price_min",
            index.price,
            above=False,
            text=lambda v: f"bajar el precio mínimo a *{format_price(v)}*",
        )

    def describe(self, filters):
        low, high = filters.get("price_min"), filters.get("price_max")
        if low and high:
            return f"{format_price(low)} a {format_price(high)}"
        if high:
            return f"hasta {format_price(high)}"
        return f"desde {format_price(low)}" if low else None


def _numeric_relaxation(index, filters, key, column, above: bool, text) -> List[Relaxation]:
    """Moving a bound just far enough to bring in up to three more cars (a year: the nearest)."""
    old = filters.get(key)
    if old is None:
        return []
    others = matching(index, filters, skip=(key,))
    gained = np.sort(column[others & (column > old if above else column < old)])
    if not len(gained):
        return []
    if not above:
        gained = gained[::-1]
    value = int(gained[0] if key.startswith("year") else gained[min(2, len(gained) - 1)])
    distance = abs(value - old) / (10 if key.startswith("year") else max(old, 1))
    count = int(matching(index, {**filters, key: value}).sum())
    return [Relaxation(key, value, count, text(value), distance)]


class Feature(Filter):
    """A feature the car must have (Bluetooth, CarPlay); "sin bluetooth" clears it."""

    def __init__(self, key: str, pattern: re.Pattern, label: str) -> None:
        self.keys, self.pattern, self.label = (key,), pattern, label
        self.clears = {key: (key,)}

    def read(self, r: Reading) -> None:
        for match in r.untaken(self.pattern):
            r.take(*match.span())
            if r.negated(match.start()):
                r.parsed.cleared.add(self.keys[0])
            else:
                r.filters[self.keys[0]] = True

    def mask(self, index, filters):
        return getattr(index, self.keys[0]) if filters.get(self.keys[0]) else None

    def relaxations(self, index, filters):
        return self._dropped(index, filters, f"quitar el requisito de *{self.label}*", 0.3)

    def describe(self, filters):
        return f"con {self.label}" if filters.get(self.keys[0]) else None


class Body(Filter):
    keys = ("body_type",)
    clears = {"tipo": keys, "carroceria": keys, "tamano": keys}

    def read(self, r: Reading) -> None:
        for body, pattern in cues.BODY_WORDS:
            match = pattern.search(r.norm)
            if not match:
                continue
            r.take(*match.span())
            if r.negated(match.start()):
                r.parsed.cleared.add("body_type")
            elif "body_type" not in r.filters:
                r.filters["body_type"] = body

    def mask(self, index, filters):
        body = filters.get("body_type")
        return index.body.one_of(BODY_GROUPS.get(body, {body})) if body else None

    def relaxations(self, index, filters):
        body = filters.get("body_type")
        return self._dropped(index, filters, f"incluir otros tipos además de *{BODY_NAMES.get(body, body)}*", 0.5)

    def describe(self, filters):
        body = filters.get("body_type")
        return BODY_NAMES.get(body, body) if body else None


BODY_NAMES = {**BODY_LABELS, "camioneta": "camioneta (SUV, minivan o pickup)"}
TRANSMISSION_NAMES = {
    "automatic": "automática",
    "manual": "estándar",
    "cvt": "automática CVT",
    "dsg": "automática de doble embrague (DSG)",
}
# The gearboxes (`catalog_index.gearbox`) that each request accepts.
_GEARBOXES = {"automatic": {"automatic", "cvt", "dsg"}, "manual": {"manual"}, "cvt": {"cvt"}, "dsg": {"dsg"}}


class Transmission(Filter):
    """Automática (any automatic: CVT and DSG too), estándar, CVT or DSG, from the version text."""

    keys = ("transmission",)
    clears = dict.fromkeys(("transmision", "caja", "automatica", "automatico", "manual", "estandar"), keys)

    def read(self, r: Reading) -> None:
        for kind, pattern in cues.TRANSMISSION_WORDS:
            match = next(iter(r.untaken(pattern)), None)
            if not match:
                continue
            r.take(*match.span())
            if r.negated(match.start()):  # "que no sea estándar": an automatic
                kind = {"manual": "automatic", "automatic": "manual"}.get(kind)
            if kind and "transmission" not in r.filters:
                r.filters["transmission"] = kind

    def mask(self, index, filters):
        kind = filters.get("transmission")
        return index.gearbox.one_of(_GEARBOXES.get(kind, {kind})) if kind else None

    def relaxations(self, index, filters):
        return self._dropped(index, filters, "aceptar *cualquier transmisión*", 0.4)

    def describe(self, filters):
        kind = filters.get("transmission")
        return TRANSMISSION_NAMES.get(kind, kind) if kind else None


class Traction(Filter):
    keys = ("traction",)
    clears = {"traccion": keys, "4x4": keys, "awd": keys, "doble traccion": keys}

    def read(self, r: Reading) -> None:
        match = next(iter(r.untaken(cues.TRACTION)), None)
        if match:
            r.take(*match.span())
            if r.negated(match.start()):
                r.parsed.cleared.add("traction")
            else:
                r.filters["traction"] = "4x4"

    def mask(self, index, filters):
        return index.awd if filters.get("traction") else None

    def relaxations(self, index, filters):
        return self._dropped(index, filters, "quitar el requisito de *4x4*", 0.4)

    def describe(self, filters):
        return "4x4 / AWD" if filters.get("traction") else None


_SORTS = [
    (
        "price_asc",
        re.compile(
            r"\b(?:economic[oa]s?|barat(?:o|a|os|as|ito|ita|itos|itas)|accesibles?|lo mas barato|menor precio|no (?:muy|tan) caro)\b"
        ),
    ),
    (
        "km_asc",
        re.compile(
            r"\bpoco(?:s)? (?:kilometraje|km|kms|kilometros)\b|\b(?:bajo|menor|menos) kilometraje\b|\bcasi nuevo\b"
        ),
    ),
    ("year_desc", re.compile(r"\b(?:reciente|recientes|mas nuevos?|ultimo modelo|nuevecito|modelo reciente)\b")),
]
SORT_NAMES = {
    "price_asc": "los más económicos primero",
    "km_asc": "menos km primero",
    "year_desc": "los más nuevos primero",
}


class Sort(Filter):
    """The tie-break asked for ("económico": cheaper first); not a filter of cars."""

    keys = ("sort",)

    def read(self, r: Reading) -> None:
        for sort, pattern in _SORTS:
            for match in pattern.finditer(r.norm):
                r.filters.setdefault("sort", sort)
                r.take(*match.span())

    def describe(self, filters):
        return SORT_NAMES.get(filters.get("sort")) if filters.get("sort") else None


class Query(Filter):
    """The free description ("familiar", "algo deportivo"): the words left that the catalog's
    descriptions use. Cars whose description has none of them do not pass; search ranks the
    rest by meaning. Words no description has ("lamborghini", "rojo") are left out."""

    keys = ("query",)

    def read(self, r: Reading) -> None:
        words = [
            word
            for word, start, end in word_spans(r.norm)
            if not in_spans(start, end, r.spans) and word not in FILLER and not word.isdigit()
        ]
        r.parsed.residue = " ".join(words + r.description)
        known = [w for w in words if r.index.knows(w)] + r.description
        if known:
            r.filters["query"] = " ".join(known)

    def mask(self, index, filters):
        query = filters.get("query")
        return index.lexical(query, np.arange(len(index))) > 0 if query else None

    def relaxations(self, index, filters):
        return self._dropped(index, filters, f"no limitarme a «{filters.get('query')}»", 0.7)

    def describe(self, filters):
        return f"«{filters['query']}»" if filters.get("query") else None


# Every filter, in the order a message is read and a reply names them.
FILTERS: List[Filter] = [
    Names(),
    Hints(),
    Monthly(),
    Km(),
    Year(),
    Price(),
    Body(),
    Transmission(),
    Traction(),
    Feature("bluetooth", cues.BLUETOOTH, "Bluetooth"),
    Feature("carplay", cues.CARPLAY, "CarPlay"),
    Sort(),
    Query(),
]
_CLEAR_KEYS = {word: keys for f in FILTERS for word, keys in f.clears.items()}
_CLEAR = re.compile(_CLEAR_LEAD + r"(" + "|".join(sorted(_CLEAR_KEYS, key=len, reverse=True)) + r")\b")


def parse_request(text: str, index: CatalogIndex, today: Optional[date] = None) -> Parsed:
    """Filters, cleared filters and the free description in one message."""
    reading = Reading(text, normalize(text), index, today or date.today())
    for match in _CLEAR.finditer(reading.norm):
        reading.parsed.cleared.update(_CLEAR_KEYS[match.group(1)])
        reading.take(*match.span())
    for kind in FILTERS:
        kind.read(reading)
    return reading.parsed


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
    if {"make", "model", "body_type"} & set(new):
        merged.pop("query", None)  # a new subject: "una troca pa trabajar", then "mejor sedanes"
    if "monthly_max" in new:
        for key in Monthly.keys:
            merged.pop(key, None)
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
    kept = {k: v for k, v in filters.items() if k not in skip}
    mask = np.ones(len(index), dtype=bool)
    for kind in FILTERS:
        passing = kind.mask(index, kept)
        if passing is not None:
            mask &= passing
    return mask


def relaxations(index: CatalogIndex, filters: Dict[str, Any]) -> List[Relaxation]:
    """Every single-filter change that brings in more cars, nearest first."""
    options = [option for kind in FILTERS for option in kind.relaxations(index, filters)]
    return sorted(options, key=lambda option: option.distance)


def describe_filters(filters: Dict[str, Any]) -> str:
    """The filters in a short Spanish line: 'Volkswagen Golf · hasta $300,000 · con Bluetooth'."""
    return " · ".join(part for part in (kind.describe(filters) for kind in FILTERS) if part)
