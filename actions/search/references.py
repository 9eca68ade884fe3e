"""Which car a message means: "el segundo", "el Golf GTI", "ese" (the car in focus)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from actions.catalog.index import CarInfo, CatalogIndex
from actions.search.filters import FILLER, matching
from understanding.cues import THIS_ONE, list_pointers, superlative
from understanding.names import NameMatch, find_names
from understanding.text import normalize

# The column a superlative over the list orders by, and whether the smallest comes first.
_ORDERS = {
    "price_asc": ("price", False),
    "price_desc": ("price", True),
    "year_desc": ("year", True),
    "km_asc": ("km", False),
}


@dataclass
class Reference:
    """The cars a message points at, whether it pointed at any explicitly, and whether it
    pointed past the end of the list ("el 4" after two cars)."""

    cars: List[CarInfo]
    explicit: bool
    beyond_list: bool = False


def resolve_cars(
    text: str,
    index: CatalogIndex,
    page: Sequence[str] = (),
    shown: Sequence[str] = (),
    focus: Optional[str] = None,
    wanted: int = 1,
) -> Reference:
    """The cars a message refers to: "el segundo", "el Golf GTI", "ese" (the car in focus).

    A name or number that matches no available car is not replaced by the car in focus.
    """
    norm = normalize(text)
    page_cars = [c for c in (index.get(s) for s in page) if c]
    shown_cars = [c for c in (index.get(s) for s in shown) if c]
    refs: List[Tuple[int, CarInfo]] = []

    focus_car = [c for c in (index.get(focus),) if c]  # a name that fits the car in focus means it
    recent = page_cars + shown_cars + focus_car
    names = find_names(text, index.vocabulary, known=[c.model for c in recent])
    name_spans = [(m.start, m.end) for m in names]
    pointers = list_pointers(norm, len(page_cars), name_spans)
    for start, number in pointers:
        if 1 <= number <= len(page_cars):
            refs.append((start, page_cars[number - 1]))
    order = superlative(norm)
    if order and page_cars:  # "el más barato de esos"
        column, highest = _ORDERS[order]
        pick = (max if highest else min)(page_cars, key=lambda car: getattr(car, column))
        refs.append((0, pick))
        pointers.append((0, 0))

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
        car = _best_named(index, group, tail, focus_car + page_cars + shown_cars)
        if car:
            refs.append((group[0].start, car))

    refs.sort(key=lambda ref: ref[0])
    cars: List[CarInfo] = []
    for _, car in refs:
        if car not in cars:
            cars.append(car)
    explicit = bool(pointers or groups)
    if len(cars) < wanted and (len(cars) == len(pointers) + len(groups) or THIS_ONE.search(norm)):
        current = index.get(focus)
        if current and current not in cars:
            cars.insert(0, current)
    beyond = any(number > len(page_cars) for _, number in pointers)
    return Reference(cars[:wanted], explicit, beyond)


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
        rows = np.flatnonzero(
            matching(index, {"make": list(makes), "model": list(models)} if models else {"make": list(makes)})
        )
        candidates = [index.cars[i] for i in rows]
        candidates.sort(key=lambda c: (-c.year, c.km))
    if not candidates:
        return None
    return max(candidates, key=score)  # max keeps the first of equals: most recent / newest
