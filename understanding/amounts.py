"""Plain-Python parsing of Spanish amounts, shared by search and financing.

Understands "300 mil", "medio millón", "$350,000", "350k", "1.2 millones",
"500,000.00", "un millón y medio", "doscientos mil" (common words only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

from understanding.text import normalize, number_words

_NUMBER_WORDS = number_words(1, 900, skip={"once", "doce"})

_AMOUNT = re.compile(
    r"""
    (?P<currency>\$\s*)?
    (?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)
    \s*
    (?P<unit>millones|millon|mdp|mil|k\b|m\b)?
    (?P<half>\s+y\s+medio)?
    """,
    re.VERBOSE,
)
_WORD_AMOUNT = re.compile(
    r"\b(?P<words>(?:(?:%s)\s*)+)(?P<unit>millones|millon|mil)\b(?P<half>\s+y\s+medio)?"
    % "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
)
_HALF_MILLION = re.compile(r"\bmedio\s+millon\b")


@dataclass(frozen=True)
class Amount:
    """An amount found in a message, with where it was in the normalized text."""

    value: float
    start: int
    end: int
    is_money: bool  # had a $ sign or a unit (mil, millones, k)


def _to_float(number: str) -> float:
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", number):
        return float(number.replace(",", ""))
    return float(number.replace(",", "."))


def _scale(value: float, unit: Optional[str], half: Optional[str]) -> float:
    if unit in ("mil", "k"):
        value *= 1_000
        if half:
            value += 500
    elif unit in ("millon", "millones", "mdp", "m"):
        value *= 1_000_000
        if half:
            value += 500_000
    return value


def find_amounts(text: str) -> List[Amount]:
    """Every amount in the text, in order. Percentages are not amounts."""
    norm = normalize(text)
    found: List[Amount] = []
    taken: List[range] = []

    def add(value: float, start: int, end: int, is_money: bool) -> None:
        if any(start in span or end - 1 in span for span in taken):
            return
        taken.append(range(start, end))
        found.append(Amount(value, start, end, is_money))

    for match in _HALF_MILLION.finditer(norm):
        add(500_000, match.start(), match.end(), True)
    for match in _WORD_AMOUNT.finditer(norm):
        words = match.group("words").split()
        base = sum(_NUMBER_WORDS[w] for w in words)
        add(_scale(base, match.group("unit"), match.group("half")), match.start(), match.end(), True)
    for match in _AMOUNT.finditer(norm):
        rest = norm[match.end("number") :].lstrip()
        if rest.startswith("%") or rest.startswith("por ciento"):
            continue
        unit = match.group("unit")
        value = _scale(_to_float(match.group("number")), unit, match.group("half"))
        end = match.end() if unit else match.end("number")
        add(value, match.start(), end, bool(match.group("currency") or unit))
    return sorted(found, key=lambda a: a.start)


def parse_amount(text: str) -> Optional[float]:
    """The first amount in the text, or None: '300 mil' -> 300000.0."""
    amounts = find_amounts(text)
    return amounts[0].value if amounts else None


@dataclass(frozen=True)
class Percent:
    """A percentage found in a message, with where it was in the normalized text."""

    value: float
    start: int
    end: int


_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:%|por ?ciento)")


def find_percents(text: str) -> List[Percent]:
    """Every percentage in the text, in order: '20% y tasa de 12.5%' -> 20.0, 12.5."""
    return [
        Percent(float(m.group(1).replace(",", ".")), m.start(), m.end()) for m in _PERCENT.finditer(normalize(text))
    ]


def find_percent(text: str) -> Optional[float]:
    """A percentage in the text: '20%', '20 %', '20 por ciento' -> 20.0."""
    match = re.search(r"(\d+(?:[.,]\d+)?)\s*(?:%|por ?ciento)", normalize(text))
    return float(match.group(1).replace(",", ".")) if match else None


# --- Bounds: "menos de 300 mil", "entre 300 y 400 mil", "desde 2018" ---------

_UPPER = re.compile(
    r"(?:menos (?:de|que|q)|menor (?:de|a|que|q)|mas barato (?:de|que|q)|mas economico (?:que|q)|"
    r"maximo(?: de)?|max|hasta(?: de)?|no mas de|tope(?: de)?|"
    r"debajo de|abajo de|no (?:pase|exceda) de|que no pase de|a lo mucho|limite(?: de)?|"
    r"presupuesto(?: de| es de| maximo de| maximo)?|tengo|cuento con|no mayor (?:de|a)|"
    r"antes de(?:l)?|anterior a(?:l)?)\s*(?:el |del |los |la |unos |\$)?$"
)
_LOWER = re.compile(
    r"(?:mas (?:de|que|q)|mayor (?:de|a|que|q)|mas caro (?:de|que|q)|minimo(?: de)?|desde(?: el)?|arriba de|encima de|a partir de(?:l)?|"
    r"por lo menos|al menos|superior a|despues de(?:l)?|posterior a(?:l)?|mas nuevo que(?: el)?)\s*"
    r"(?:el |del |los |la |unos |\$)?$"
)
_AROUND = re.compile(
    r"(?:alrededor de|cerca de|como(?: de)?|unos|aprox(?:imadamente)?(?: de)?|mas o menos(?: de)?|rondando)\s*(?:los |\$)?$"
)
_UPPER_AFTER = re.compile(
    r"^\s*(?:o menos|para abajo|pa abajo|o anterior|o mas viejo|maximo|como maximo|a lo mucho|o antes)\b"
)
_LOWER_AFTER = re.compile(
    r"^\s*(?:o mas nuevo|o mas reciente|o mas(?! o menos)|para arriba|pa arriba|en adelante|hacia adelante|"
    r"o posterior|o superior|minimo|como minimo|o despues)\b"
)
_BETWEEN = re.compile(r"^\s*(?:y|a|al|-|hasta|y los|a los)\s*(?:\$\s*)?$")
_RANGE_START = re.compile(r"(?:entre|de|del|desde)\s*(?:los |el |\$)?$")


@dataclass(frozen=True)
class Bound:
    """A bound on a quantity: [low, high] (either may be None), where it was, and how it was said.

    kind is "range", "max", "min", "around" or "exact" (no comparator). `strict` marks
    "antes de"/"después de" (exclusive bounds, used for years).
    """

    low: Optional[float]
    high: Optional[float]
    start: int
    end: int
    kind: str
    is_money: bool
    strict: bool = False


def _unit_factor(amount: Amount, other: Amount) -> float:
    """The factor a bare number takes from its partner: 'entre 300 y 400 mil' -> 1000."""
    if amount.is_money or not other.is_money:
        return 1.0
    for factor in (1_000_000, 1_000):
        if other.value >= factor and amount.value < factor and other.value / factor >= amount.value / 10:
            return factor
    return 1.0


def comparator_end(norm: str, end: int) -> int:
    """Where a comparator said after an amount ends ("300 mil o menos", "2018 en adelante"); `end` if none.

    `norm` is normalize(text) and `end` the end of the amount in it.
    """
    after = norm[end : end + 30]
    match = _UPPER_AFTER.match(after) or _LOWER_AFTER.match(after)
    return end + match.end() if match else end


def find_bounds(text: str, amounts: Optional[List[Amount]] = None) -> List[Bound]:
    """Every amount in the text with the comparator around it, ranges joined.

    'entre 300 y 400 mil' -> one range bound 300,000-400,000; 'menos de 250 mil' ->
    max 250,000; '2018 en adelante' -> min 2018; 'alrededor de 300 mil' -> ±10 %.
    Positions are in normalize(text); pass `amounts` to reuse a filtered list.
    """
    norm = normalize(text)
    amounts = find_amounts(text) if amounts is None else amounts
    bounds: List[Bound] = []
    i = 0
    while i < len(amounts):
        amount = amounts[i]
        before = norm[max(0, amount.start - 40) : amount.start]
        after = norm[amount.end : amount.end + 30]
        if i + 1 < len(amounts) and _BETWEEN.match(norm[amount.end : amounts[i + 1].start]):
            other = amounts[i + 1]
            joiner = norm[amount.end : other.start].strip()
            if _RANGE_START.search(before) or joiner in ("a", "al", "-", "hasta"):
                low = amount.value * _unit_factor(amount, other)
                high = other.value * _unit_factor(other, amount)
                bounds.append(
                    Bound(
                        min(low, high),
                        max(low, high),
                        amount.start,
                        other.end,
                        "range",
                        amount.is_money or other.is_money,
                    )
                )
                i += 2
                continue
        strict = bool(re.search(r"(?:antes|despues|posterior|anterior|mas nuevo que)(?: de| a)?(?:l| el)?\s*$", before))
        if _UPPER.search(before) or _UPPER_AFTER.match(after):
            bound = Bound(None, amount.value, amount.start, amount.end, "max", amount.is_money, strict)
        elif _LOWER.search(before) or _LOWER_AFTER.match(after):
            bound = Bound(amount.value, None, amount.start, amount.end, "min", amount.is_money, strict)
        elif _AROUND.search(before):
            bound = Bound(amount.value * 0.9, amount.value * 1.1, amount.start, amount.end, "around", amount.is_money)
        else:
            bound = Bound(amount.value, amount.value, amount.start, amount.end, "exact", amount.is_money)
        bounds.append(bound)
        i += 1
    return bounds
