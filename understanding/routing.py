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
from understanding.text import normalize

# Intents a car's name or a list number does not contradict: the car is what they
# are about ("¿el Jetta tiene garantía?", "cancela mi cita del Versa").
KEEP_WITH_CAR = {
    "search_cars", "more_results", "car_details", "compare_cars", "reset_filters", "cancel_appointment",
    "ask_appointment", "reschedule_appointment", "prompt_injection", "goodbye", "human_handoff",
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
_KM_LIMIT = re.compile(r"\b(?:menos de|maximo|hasta|no mas de|poco|pocos|bajo)\b.{0,20}\b(?:km|kms|kilometros|kilometraje)\b|\d\s*(?:mil\s*)?(?:km|kms)\b")
_SORTS = re.compile(
    r"\b(?:economic[oa]s?|barat(?:o|a|os|as|ito|ita|itos|itas)|accesibles?|mas nuevos?|reciente|recientes|"
    r"ultimo modelo|poco kilometraje|pocos? (?:km|kms|kilometros))\b"
)
# Words that describe the car wanted, which search ranks by ("algo familiar", "para la ciudad").
_DESCRIPTION = re.compile(
    r"\b(?:familiar(?:es)?|deportiv[oa]s?|de lujo|lujos[oa]|espacios[oa]s?|amplio|amplia|para (?:la )?ciudad|"
    r"para (?:la )?carretera|para (?:el )?trabajo|para trabajar|para uber|para plataforma|para (?:\d|siete|ocho) (?:personas|pasajeros)|"
    r"tercera fila|7 pasajeros|ahorrador(?:es)?|rendidor(?:es)?|que gaste poco|chiquit[oa]|compacto|hibrido|electrico)\b"
)
# A bare number answering a form keeps its intent (a score, an hour, an amount);
# outside the survey a score picks that car of the list (data/rules/search.yml).
_BARE_NUMBER = re.compile(r"[#\s]*\d+[.!\s]*")
_GO_SEE = re.compile(r"\b(?:ver|verl[oa]s?|ir|voy|vamos|paso|pasar|pasamos|visitar|checarl[oa]|probarl[oa])\b")


@dataclass(frozen=True)
class Signals:
    """What a message contains, as far as routing is concerned."""

    names: List[NameMatch]
    body: Optional[str]
    pointer: bool
    bare_number: bool  # the whole message is a number
    feature_question: bool
    constraint: bool  # a search constraint: budget, year, km, gearbox, traction, features, order, description
    monthly_budget: bool
    financing: bool
    booking: bool
    compare: bool
    handoff: bool
    advice: bool
    reset: bool

    @property
    def names_a_car(self) -> bool:
        return bool(self.names or self.body)


def monthly_budget(norm: str) -> bool:
    """Whether a message states an amount to pay each month ("6 mil al mes", "mensualidad de 5 mil")."""
    for amount in find_amounts(norm):
        if cues.MONTHLY_AFTER.match(norm[amount.end:]) or cues.MONTHLY_BEFORE.search(norm[: amount.start]):
            return True
    return False


def signals(text: str, vocab: Vocabulary) -> Signals:
    """The routing signals of a message."""
    norm = normalize(text)
    names = find_names(text, vocab)
    spans = [(m.start, m.end) for m in names]
    body = next((kind for kind, pattern in cues.BODY_WORDS if pattern.search(norm)), None)
    money = [a for a in find_amounts(norm) if (a.is_money or a.value >= 10_000)
             and not _MONEY_CONTEXT.search(norm[max(0, a.start - 25): a.start])
             and not any(a.start < b and a.end > s for s, b in spans)]
    monthly = monthly_budget(norm)
    incidental = bool(cues.INCIDENTAL_KM.search(norm))
    constraint = bool(
        money or monthly or _YEAR.search(norm) or (_KM_LIMIT.search(norm) and not incidental)
        or any(p.search(norm) for _, p in cues.TRANSMISSION_WORDS) or cues.TRACTION.search(norm)
        or cues.BLUETOOTH.search(norm) or cues.CARPLAY.search(norm) or _SORTS.search(norm)
        or _DESCRIPTION.search(norm)
    )
    return Signals(
        names=names,
        body=body,
        pointer=cues.points_at_car(norm, spans),
        bare_number=bool(_BARE_NUMBER.fullmatch(norm)),
        feature_question=cues.asks_about_one_car(norm),
        constraint=constraint,
        monthly_budget=monthly,
        financing=bool(cues.FINANCING.search(norm)) and not monthly,
        booking=bool(cues.BOOKING.search(norm) or (cues.DAY_OR_TIME.search(norm) and _GO_SEE.search(norm))),
        compare=bool(cues.COMPARE.search(norm)),
        handoff=bool(cues.HANDOFF.search(norm)),
        advice=bool(cues.ADVICE.search(norm)),
        reset=bool(cues.RESET.search(norm)),
    )


@dataclass(frozen=True)
class Route:
    """The intent a message is sent to instead of the classifier's, and why."""

    intent: str
    reason: str


def route(text: str, intent: Optional[str], vocab: Vocabulary) -> Optional[Route]:
    """The intent the content asks for when it contradicts `intent`; None to keep it."""
    s = signals(text, vocab)
    new = _decide(s, intent or "nlu_fallback")
    if new is None or new[0] == intent:
        return None
    return Route(*new)


def _decide(s: Signals, intent: str) -> Optional[tuple]:
    if s.handoff:
        return "human_handoff", "asks for a person"
    if intent.startswith("faq_") or intent == "prompt_injection":
        return None  # a frequent question or a manipulation, whatever car it mentions
    if s.reset and not s.names_a_car:
        return "reset_filters", "starts the search over"
    if s.names_a_car or s.pointer:
        models = {m.model or m.make for m in s.names}
        if s.compare and (len(models) >= 2 or s.pointer):
            return "compare_cars", "compares cars"
        if s.financing:
            return None if intent in FINANCING_INTENTS else ("ask_financing", "financing for a car")
        if s.booking:
            return None if intent in BOOKING_INTENTS | {"cancel_appointment", "ask_appointment"} else (
                "book_appointment", "a visit to see a car")
        if s.feature_question:
            return "ask_car_feature", "a question about a car"
        if not s.names_a_car:  # "el 2", "la última", "ese": details of that car
            if intent in KEEP_WITH_CAR - {"search_cars"} or (s.bare_number and intent in VALUE_INTENTS):
                return None
            return "car_details", "points at a car"
        return None if intent in KEEP_WITH_CAR else ("search_cars", "names a car")
    if s.feature_question and intent in UNSURE | COURTESY | {"search_cars", "car_details", "give_rating"}:
        return "ask_car_feature", "a question about the car in focus"
    if s.monthly_budget and not s.financing and intent in UNSURE | COURTESY | FINANCING_INTENTS:
        return "search_cars", "searches by monthly payment"
    if s.constraint and not s.advice and intent in UNSURE | COURTESY:
        return "search_cars", "states a search constraint"
    if intent == "search_cars" and s.advice and not s.constraint:
        return "open_question", "asks for advice with no catalog constraint"
    return None
