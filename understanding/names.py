"""Makes and models a customer names, typo-tolerant, against the live catalog.

The vocabulary is every make and model ever in the catalog (read live, so a new
car needs no retraining) plus the well-known ones of `known_cars` and the names
customers use ("vocho", "chevy"). `find_names` takes exact names first, longest
first ("land rover", "mazda 3"), then typos with rapidfuzz ("volswagen golff");
frequent Spanish words are never taken for a name ("onda" is not Honda), and
models that are everyday words ("rio", "uno") count only with their make,
capitalised mid-sentence, or when just shown to the customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Tuple

from rapidfuzz import fuzz, process

from understanding.known_cars import KNOWN_MAKES, KNOWN_MODELS, MAKE_ALIASES, MODEL_ALIASES
from understanding.text import COMMON_WORDS, normalize, squash, word_spans

# Models that are also everyday Spanish words: only taken when the make is named
# too or the word is capitalised mid-sentence ("compara el Versa con el Rio").
AMBIGUOUS_MODELS = {
    "rio",
    "uno",
    "avanza",
    "escape",
    "toledo",
    "durango",
    "leon",
    "mini",
    "city",
    "fit",
    "up",
    "ka",
    "lobo",
    "one",
    "polo",
    "fiesta",
    "clase",
    "serie",
    "a",
    "s",
    "x",
    "q",
    "tornado",
    "bronco",
    "edge",
    "seal",
    "song",
    "supra",
    "neon",
}
STOPWORDS = COMMON_WORDS


@dataclass(frozen=True)
class Vocabulary:
    """Make and model names the customer may use, from the catalog and the known cars."""

    makes: Dict[str, str]  # squashed -> make
    models: Dict[str, List[Tuple[str, str]]]  # squashed -> [(make, model)]
    make_keys: Dict[str, List[str]]  # first letter -> squashed makes (for typos)
    model_keys: Dict[str, List[str]]
    catalog: frozenset  # (make, model) pairs of the catalog, sold ones included

    def in_catalog(self, make: Optional[str], model: Optional[str] = None) -> bool:
        """Whether the catalog has ever had this make (and model)."""
        return any(m == make and (model is None or n == model) for m, n in self.catalog)


@lru_cache(maxsize=8)
def vocabulary(catalog_names: Tuple[Tuple[str, str], ...] = ()) -> Vocabulary:
    """The vocabulary for the catalog's (make, model) pairs, built once per catalog."""
    makes: Dict[str, str] = {squash(make): make for make in KNOWN_MAKES}
    models: Dict[str, List[Tuple[str, str]]] = {}
    catalog_makes = {squash(make): make for make, _ in catalog_names}
    makes.update(catalog_makes)
    for alias, make in MAKE_ALIASES.items():
        makes[alias] = catalog_makes.get(squash(make), make)
    for make, model in catalog_names:
        models.setdefault(squash(model), []).append((make, model))
    for make, model in KNOWN_MODELS:
        if squash(model) not in models:
            models[squash(model)] = [(catalog_makes.get(squash(make), make), model)]
    for alias, (make, model) in MODEL_ALIASES.items():
        known = models.get(squash(model))
        models.setdefault(alias, known or [(catalog_makes.get(squash(make), make), model)])
    return Vocabulary(
        makes,
        models,
        _by_initial(makes),
        _by_initial(k for k in models if not k.isdigit()),
        frozenset(catalog_names),
    )


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


def _capitalised(original: str, word: str) -> bool:
    """Whether the word is written capitalised somewhere but the message's start ("el Rio")."""
    tokens = re.findall(r"[^\W_]+", original)
    return any(normalize(token) == word and token[0].isupper() for token in tokens[1:])


def find_names(text: str, vocab: Vocabulary, known: Iterable[str] = ()) -> List[NameMatch]:
    """Makes and models named in the text, in order, typo-tolerant.

    `known` models (e.g. the ones just shown) count even when they are everyday words.
    """
    known = {squash(model) for model in known}
    norm = normalize(text)
    words = word_spans(norm)
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
            if (
                n > 1
                and any(p in STOPWORDS for p in parts)
                and not any(len(normalize(model).split()) >= n for _, model in vocab.models.get(key, []))
            ):
                continue  # "a 3 años" is not an Audi A3; "Clase A" is a Mercedes
            if key in vocab.models and not (n == 1 and key in vocab.makes):
                make, model = model_pick(key)
                if (
                    n == 1
                    and (key.isdigit() or key in AMBIGUOUS_MODELS)
                    and key not in known
                    and not _confirmed(text, words, i, vocab, make)
                ):
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
            if any(p in STOPWORDS or p in AMBIGUOUS_MODELS or p.isdigit() for p in parts):
                continue  # "una serie en netflix" is no BMW Serie 1
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
