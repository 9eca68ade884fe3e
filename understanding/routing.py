"""Content before intent: the capability a message belongs to, from what it names.

The intent classifier reads the wording; this reads the content. A message that
names a car of the catalog (or any well-known make or model), a body type ("troca",
"camioneta"), points at a car of a list ("el 2", "la última", "ese") or states a
search constraint ("automática", "de menos de 250 mil", "6 mil al mes") reaches
search or the car in focus, whatever the classifier said; an advice question with
no catalog constraint ("manejo 20 km al día, ¿me conviene comprar?") reaches the
grounded fallback; a request for a person reaches the handoff.

`route` only changes intents that the content contradicts, so answers to a form's
question ("el sábado a las 11", "Juan Pérez", "100 mil", "5") keep their intent.

>>> vocab = vocabulary((("Mazda", "CX-5"),))
>>> route("me late la Mazda CX-5", "book_appointment", vocab).intent
'search_cars'
>>> route("el 2", "nlu_fallback", vocab).intent
'car_details'
>>> route("gracias", "thank", vocab) is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

from understanding import cues
from understanding.amounts import find_amounts
from understanding.names import NameMatch, Vocabulary, find_names, vocabulary  # noqa: F401 (doctest)
from understanding.text import COMMON_WORDS, normalize

# Intents a car's name or a list number does not contradict: the car is what they
# are about ("¿el Jetta tiene garantía?", "cancela mi cita del Versa").
KEEP_WITH_CAR = {
    "search_cars",
    "more_results",
    "car_details",
    "compare_cars",
    "reset_filters",
    "cancel_appointment",
    "ask_appointment",
    "reschedule_appointment",
    "prompt_injection",
    "goodbye",
    "human_handoff",
    "opt_out",
    "opt_in",
    "ask_my_data",
    "delete_my_data",
}
FINANCING_INTENTS = {"ask_financing", "inform_financing", "ask_amortization_table"}
BOOKING_INTENTS = {"book_appointment", "inform_appointment", "reschedule_appointment"}
# What the classifier says when it did not recognise a request, or a courtesy that
# may come with one ("hola, busco algo familiar").
UNSURE = {"nlu_fallback", "out_of_scope", "open_question"}
COURTESY = {"greet", "thank", "affirm"}
# Intents of a value answering a form's question ("5", "a las 4", "100 mil").
VALUE_INTENTS = {"give_rating", "inform_appointment", "inform_financing"}

_MONEY_CONTEXT = re.compile(r"\b(?:enganche|inicial|entrada|anticipo|tasa|interes)\b")
_YEAR = re.compile(r"\b(?:19[9]\d|20[0-3]\d)\b")
_KM_LIMIT = re.compile(
    r"\b(?:menos de|maximo|hasta|no mas de|poco|pocos|bajo)\b.{0,20}\b(?:km|kms|kilometros|kilometraje)\b|\d\s*(?:mil\s*)?(?:km|kms)\b"
)
_SORTS = re.compile(
    r"\b(?:economic[oa]s?|barat(?:o|a|os|as|ito|ita|itos|itas)|accesibles?|mas nuevos?|reciente|recientes|"
    r"ultimo modelo|poco kilometraje|pocos? (?:km|kms|kilometros))\b"
)
# Words that describe the car wanted, which search ranks by ("algo familiar", "para la ciudad").
_DESCRIPTION = re.compile(
    r"\b(?:familiar(?:es)?|deportiv[oa]s?|de lujo|lujos[oa]|espacios[oa]s?|amplio|amplia|para (?:la )?ciudad|"
    r"para (?:la )?carretera|para (?:el )?trabajo|para trabajar|para uber|para plataforma|"
    r"ahorrador(?:es)?|rendidor(?:es)?|que gaste poco|chiquit[oa]|compacto|hibrido|electrico)\b"
)
# A bare number answering a form keeps its intent (a score, an hour, an amount);
# outside the survey a score picks that car of the list (data/rules/search.yml).
_BARE_NUMBER = re.compile(r"[#\s]*\d+[.!\s]*")
_ASKS_FOR_SOMEONE = re.compile(
    r"\b(?:quiero|quisiera|necesito|ocupo|puedo|podria|pasame|pasenme|comunicame|me (?:pasas|comunicas|pones))\b"
)
_ASKS_FOR_CARS = re.compile(
    r"\b(?:busco|buscando|muestrame|ensename|tienen|hay|venden|opciones|autos|carros|coches|camionetas)\b"
)
_NOT_THIS = re.compile(
    r"\b(?:ese|esa|este|esos|esas|eso)\s+no\b|^no\b(?!.*\b(?:mejor|prefiero|quiero|dame|el otro|la otra)\b)"
)
_YES = re.compile(r"^(?:si|sii+|va|sale|ok|okey|claro|simon|orale|andale|dale)\b")
# What may come with a day or a time that still answers "¿qué día?" ("pues el domingo temprano").
_DAY_FILLER = set(
    "el la los las de del a al en para por pues mejor entonces como tipo que y o este esta mas menos "
    "si ok va sale porfa por favor puede ser seria me queda acomoda despues antes temprano tarde".split()
)
_ASKS_DATE = re.compile(r"\bque (?:dia|hora|fecha) es\b|\bme dices la (?:hora|fecha)\b")
_BUDGET = re.compile(r"\b(?:presupuesto|tope|maximo|hasta|no mas de|menos de|entre|tengo|cuento con|alcanza)\b")
_GO_SEE = re.compile(r"\b(?:ver|verl[oa]s?|ir|voy|vamos|paso|pasar|pasamos|visitar|checarl[oa]|probarl[oa])\b")


@dataclass(frozen=True)
class Signals:
    """What a message contains, as far as routing is concerned."""

    names: List[NameMatch]
    body: Optional[str]
    pointers: int  # how many places of a list it points at ("el 1 o el 3": 2); a demonstrative counts 1
    bare_number: bool  # the whole message is a number
    features: bool  # names a feature of a car (km, CarPlay, size, price...)
    feature_question: bool  # asks about a feature of one car
    constraint: bool  # a search constraint: budget, year, km, gearbox, traction, features, order, description
    hard_constraint: bool  # one that filters cars (not only a description or an order)
    budget: bool  # an amount said as a budget ("mi tope son 420 mil")
    monthly_budget: bool
    seats: bool  # room for a family ("de 7 asientos", "somos 6")
    drops_condition: bool  # "y sin lo de diésel?"
    of_those: bool  # "de esos", "entre estos": the cars just shown
    financing: bool
    financing_value: bool  # a term, percent or down payment ("a 72", "si doy 35%")
    booking: bool
    day_or_time: bool
    score: bool
    compare: bool
    details: bool
    handoff: bool
    rights: Optional[str]  # opt_out, opt_in, ask_my_data or delete_my_data, asked in so many words
    advice: bool
    reset: bool
    manipulation: bool
    superlative: bool  # "el más barato de esos"
    asks_for_someone: bool  # "quiero / pásame / necesito" with the person
    asks_for_cars: bool  # "busco", "muéstrame", "tienen"
    visit: bool  # a word of a visit ("ir", "ver", "agencia")
    starts_with_yes: bool
    only_day_or_name: bool  # nothing but a day, a time or a person's name
    refuses_this: bool  # "no, ese no"
    general: bool  # a question about cars in general or a service ("cuánto cuesta el envío")

    @property
    def names_a_car(self) -> bool:
        return bool(self.names or self.body)

    @property
    def models(self) -> set:
        """The distinct cars named: a model, or a make named without one of its models."""
        with_model = {m.make for m in self.names if m.model}
        return {m.model or m.make for m in self.names if m.model or m.make not in with_model}

    @property
    def pointer(self) -> bool:
        return self.pointers > 0


def monthly_budget(norm: str) -> bool:
    """Whether a message states an amount to pay each month ("6 mil al mes", "mensualidad de 5 mil")."""
    for amount in find_amounts(norm):
        if cues.MONTHLY_AFTER.match(norm[amount.end :]) or cues.MONTHLY_BEFORE.search(norm[: amount.start]):
            return True
    return False


def _only_day(norm: str) -> bool:
    """Whether a message is a day or a time and little else ("el domingo", "mañana como a las 10")."""
    if not cues.DAY_OR_TIME.search(norm) or _ASKS_DATE.search(norm):
        return False
    rest = cues.DAY_OR_TIME.sub(" ", norm)
    return len([w for w in re.findall(r"[a-z]+", rest) if w not in _DAY_FILLER]) <= 1


def _person_name(text: str, names: List[NameMatch]) -> bool:
    """ "Oscar Gutiérrez", "me llamo Ana García": two to four capitalised words (or a name cue), nothing else."""
    norm = normalize(text)
    if cues.NAME_CUE.search(norm):
        return True
    words = re.findall(r"[^\W\d_]+", text)
    return (
        not names
        and 2 <= len(words) <= 4
        and len(words) == len(text.split())
        and all(w[0].isupper() for w in words)
        and not COMMON_WORDS.intersection(normalize(w) for w in words)
    )


def signals(text: str, vocab: Vocabulary) -> Signals:
    """The routing signals of a message."""
    norm = normalize(text)
    names = find_names(text, vocab)
    spans = [(m.start, m.end) for m in names]
    body = next((kind for kind, pattern in cues.BODY_WORDS if pattern.search(norm)), None)
    money = [
        a
        for a in find_amounts(norm)
        if (a.is_money or a.value >= 10_000)
        and not _MONEY_CONTEXT.search(norm[max(0, a.start - 25) : a.start])
        and not any(a.start < b and a.end > s for s, b in spans)
    ]
    monthly = monthly_budget(norm)
    incidental = bool(cues.INCIDENTAL_KM.search(norm))
    hard = bool(
        money
        or monthly
        or _YEAR.search(norm)
        or (_KM_LIMIT.search(norm) and not incidental)
        or any(p.search(norm) for _, p in cues.TRANSMISSION_WORDS)
        or cues.TRACTION.search(norm)
        or cues.BLUETOOTH.search(norm)
        or cues.CARPLAY.search(norm)
    ) and not cues.GENERAL.search(norm)
    times = [m.span() for m in cues.DAY_OR_TIME.finditer(norm)]  # "a la 1", "el 1ro de diciembre" point at no car
    pointers = len(cues.list_pointers(norm, 5, spans + times)) or int(cues.points_at_car(norm, spans + times))
    return Signals(
        names=names,
        body=body,
        pointers=pointers,
        bare_number=bool(_BARE_NUMBER.fullmatch(norm)),
        features=bool(cues.feature_asked(norm)),
        feature_question=cues.asks_about_one_car(norm),
        constraint=hard or bool(_SORTS.search(norm) or _DESCRIPTION.search(norm) or cues.SEATS.search(norm)),
        seats=bool(cues.SEATS.search(norm)),
        drops_condition=bool(cues.DROPS_CONDITION.search(norm)),
        of_those=bool(cues.OF_THOSE.search(norm)),
        hard_constraint=hard,
        budget=bool(money) and bool(_BUDGET.search(norm)) and not cues.FINANCING_VALUE.search(norm),
        monthly_budget=monthly,
        financing=bool(cues.FINANCING.search(norm)) and not monthly,
        financing_value=bool(cues.FINANCING_VALUE.search(norm)) and not cues.TIME_OF_DAY.search(norm),
        booking=bool(cues.BOOKING.search(norm) or (cues.DAY_OR_TIME.search(norm) and _GO_SEE.search(norm))),
        day_or_time=bool(cues.DAY_OR_TIME.search(norm)) and not _ASKS_DATE.search(norm),
        score=bool(cues.SCORE.search(norm)),
        compare=bool(cues.COMPARE.search(norm)),
        details=bool(cues.DETAILS.search(norm)),
        handoff=bool(cues.HANDOFF.search(norm)),
        rights=next(
            (
                intent
                for intent, pattern in (
                    ("opt_out", cues.OPT_OUT),
                    ("opt_in", cues.OPT_IN),
                    ("delete_my_data", cues.DELETE_MY_DATA),
                    ("ask_my_data", cues.ASK_MY_DATA),
                )
                if pattern.search(norm)
            ),
            None,
        ),
        advice=bool(cues.ADVICE.search(norm)),
        reset=bool(cues.RESET.search(norm)),
        manipulation=cues.is_manipulation(text),
        superlative=bool(cues.superlative(norm)),
        asks_for_someone=bool(_ASKS_FOR_SOMEONE.search(norm)),
        asks_for_cars=bool(_ASKS_FOR_CARS.search(norm)),
        visit=bool(cues.VISIT.search(norm)),
        starts_with_yes=bool(_YES.match(norm)),
        only_day_or_name=_only_day(norm) or _person_name(text, names),
        refuses_this=bool(_NOT_THIS.search(norm)),
        general=bool(cues.GENERAL.search(norm)),
    )


@dataclass(frozen=True)
class Route:
    """The intent a message is sent to instead of the classifier's, and why."""

    intent: str
    reason: str


# Below this confidence the classifier's intent is a guess that content may overrule.
SURE = 0.6


def route(text: str, intent: Optional[str], vocab: Vocabulary, confidence: float = 1.0) -> Optional[Route]:
    """The intent the content asks for when it contradicts `intent` (the classifier's, with its
    `confidence`); None to keep it."""
    s = signals(text, vocab)
    intent = intent or "nlu_fallback"
    new = _decide(s, intent, intent == "nlu_fallback" or confidence < SURE)
    if new is None or new[0] == intent:
        return None
    return Route(*new)


def _decide(s: Signals, intent: str, unsure: bool) -> Optional[tuple]:
    if s.manipulation:
        return "prompt_injection", "tries to change the rules or a price"
    if s.rights:
        return s.rights, "exercises a right over their data"
    if s.handoff and not (intent == "bot_challenge" and not s.asks_for_someone):
        return "human_handoff", "asks for a person"
    if intent == "prompt_injection" or (
        intent.startswith("faq_")
        and not (s.pointer and s.financing)
        and not (unsure and (s.hard_constraint or s.names or s.pointer))
    ):
        return None  # a frequent question or a manipulation, whatever car it mentions
    if s.compare and s.of_those and not s.names_a_car and intent not in FINANCING_INTENTS | BOOKING_INTENTS:
        return None if intent == "compare_cars" else ("compare_cars", "asks which of the cars shown")
    if s.reset and not s.names_a_car:
        return "reset_filters", "starts the search over"
    if s.names_a_car or s.pointer:
        return _about_a_car(s, intent, unsure)
    if s.score and (unsure or intent in COURTESY | FINANCING_INTENTS | {"deny", "give_rating"}):
        return None if intent == "give_rating" else ("give_rating", "gives a score")
    if s.general and intent == "ask_car_feature":
        return "open_question", "a general question, not about the car"
    if s.feature_question and (unsure or intent in COURTESY | {"search_cars", "car_details", "give_rating"}):
        return "ask_car_feature", "a question about the car in focus"
    if s.advice and not s.hard_constraint:
        if intent in {"search_cars"} | FINANCING_INTENTS:
            return "open_question", "asks for advice with no catalog constraint"
        return None
    if s.monthly_budget and not s.financing and (unsure or intent in COURTESY | FINANCING_INTENTS):
        return "search_cars", "searches by monthly payment"
    if s.seats and not (s.financing or s.financing_value) and intent in FINANCING_INTENTS:
        return "search_cars", "asks for room for a family"
    if s.budget and not s.financing and intent in FINANCING_INTENTS:
        return "search_cars", "states a budget"
    if s.drops_condition and unsure:
        return "search_cars", "takes back a search condition"
    if s.constraint and (unsure or intent in COURTESY):
        return "search_cars", "states a search constraint"
    if s.financing_value and (unsure or intent == "give_rating"):
        return "inform_financing", "gives a financing value"
    if s.financing and unsure:
        return "ask_financing", "asks about financing"
    if s.booking and unsure:
        return "book_appointment", "asks for a visit"
    if s.only_day_or_name and (unsure or intent in COURTESY | {"car_details", "give_rating"}):
        return "inform_appointment", "gives a day, a time or a name"
    return None


def _about_a_car(s: Signals, intent: str, unsure: bool) -> Optional[tuple]:
    """A message that names a car or points at one: which capability serves it."""
    models = s.models
    if s.advice and not s.names and intent == "open_question":
        return None  # advice about a kind of car ("¿qué es mejor, SUV o sedán?")
    if s.superlative:
        return None if intent in ("car_details", "compare_cars") else ("car_details", "points at a car")
    if (s.compare and (len(models) >= 2 or s.pointer)) or (s.pointers >= 2 and not s.names_a_car):
        return None if intent == "compare_cars" else ("compare_cars", "compares cars")
    if s.financing:
        return None if intent in FINANCING_INTENTS else ("ask_financing", "financing for a car")
    if s.booking:
        return (
            None
            if intent in BOOKING_INTENTS | {"cancel_appointment", "ask_appointment"}
            else ("book_appointment", "a visit to see a car")
        )
    if s.pointer and s.details and not s.names_a_car:
        return None if intent == "car_details" else ("car_details", "asks for a car's details")
    if s.feature_question or (s.pointer and s.features):
        return None if intent == "ask_car_feature" else ("ask_car_feature", "a question about a car")
    if _keeps(s, intent):
        return None
    if not s.names_a_car:  # "el 2", "la última", "ese": details of that car
        return "car_details", "points at a car"
    if s.details and len(models) == 1 and not s.constraint:
        return None if intent == "car_details" else ("car_details", "asks for a car's details")
    if intent == "car_details" and (len(models) >= 2 or s.constraint):
        return "search_cars", "names several cars or a constraint"
    if intent in KEEP_WITH_CAR:
        return None
    if intent in ("open_question", "out_of_scope") and not unsure and (s.advice or not s.names):
        return None  # a confident general question about a kind of car ("¿las camionetas gastan más?")
    return "search_cars", "names a car"


def _keeps(s: Signals, intent: str) -> bool:
    """Whether the classifier's intent fits the message's own cues, car or not."""
    if intent == "ask_car_feature":
        return len(s.models) <= 1 and not s.asks_for_cars
    if intent in FINANCING_INTENTS | {"inform_appointment", "give_rating"}:
        return (
            s.bare_number
            or s.day_or_time
            or s.financing_value
            or s.only_day_or_name
            or intent == "give_rating"
            and s.score
        )
    if intent == "deny":
        return s.refuses_this
    if intent == "book_appointment":
        return s.visit
    if intent == "affirm":
        return s.starts_with_yes
    if intent in KEEP_WITH_CAR - {"search_cars"}:
        return True
    return False
