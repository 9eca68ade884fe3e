"""Which car a message means: "el segundo", "el Golf GTI", "ese" (the car in focus)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from actions.catalog_index import CarInfo, CatalogIndex
from actions.parsing import normalize
from actions.search_filters import FILLER, in_spans, matching
from actions.search_names import NameMatch, find_names

_ORDINALS = {
    "primero": 1, "primer": 1, "primera": 1, "1ro": 1, "1o": 1, "segundo": 2, "segunda": 2, "2do": 2,
    "2o": 2, "tercero": 3, "tercer": 3, "tercera": 3, "3ro": 3, "3o": 3, "cuarto": 4, "cuarta": 4,
    "4to": 4, "quinto": 5, "quinta": 5, "5to": 5,
}
_ORDINAL = re.compile(r"\b(" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")\b")
_NUMBERED = re.compile(r"(?:\b(?:el|la|del|al|de la|numero|num|no\.?|opcion|auto|carro|#)\s*#?\s*|#)([1-9])\b(?!\s*(?:mil|k\b|millon|%|anos|meses))")
_LAST = re.compile(r"\b(?:ultimo|ultima)\b")
_NUMBER_ONLY = re.compile(r"#?\s*[1-9]")
_THIS_ONE = re.compile(r"\b(?:ese|este|esa|esta|dicho|mismo)\b")


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
    pointers = _pointers(norm, len(page_cars), name_spans)
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


def _pointers(norm: str, length: int, names: Sequence[Tuple[int, int]] = ()) -> List[Tuple[int, int]]:
    """Where a normalized message points at a place in a list of `length` ("la segunda",
    "el 2", "la última"), and which place; a number inside a car's name is not one."""
    found = [(m.start(), _ORDINALS[m.group(1)]) for m in _ORDINAL.finditer(norm)]
    found += [(m.start(), int(m.group(1))) for m in _NUMBERED.finditer(norm)
              if not in_spans(m.start(1), m.end(1), names)]
    found += [(m.start(), length) for m in _LAST.finditer(norm)]
    return found


def is_list_number(text: str) -> bool:
    """True when the whole message is a number in a list: "2", "el 2", "opción 3"."""
    norm = normalize(text).strip(" .!?")
    return bool(_NUMBER_ONLY.fullmatch(norm) or _NUMBERED.fullmatch(norm))


def list_position(text: str, length: int) -> Optional[int]:
    """The place in a list of `length` that a message points at ("la segunda", "el 2",
    just "2", "la última"), counted from 1; None when it points at none or at several."""
    norm = normalize(text).strip(" .!?")
    if _NUMBER_ONLY.fullmatch(norm):
        found = [int(norm.lstrip("# "))]
    else:
        found = [number for _, number in _pointers(norm, length)]
    return found[0] if len(found) == 1 and 1 <= found[0] <= length else None


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
        rows = np.flatnonzero(matching(index, {"make": list(makes), "model": list(models)} if models else {"make": list(makes)}))
        candidates = [index.cars[i] for i in rows]
        candidates.sort(key=lambda c: (-c.year, c.km))
    if not candidates:
        return None
    return max(candidates, key=score)  # max keeps the first of equals: most recent / newest
