"""The customer's fixed texts: the domain's responses, for the replies plain Python composes.

Conversation designers edit every wording in `domain/*.yml`. The actions send a
response by name (`dispatcher.utter_message(response=...)`); where plain Python
builds a reply around data (a list of cars, a plan, a date), it takes the fixed
words from here, with their `{variables}` filled as Rasa fills them (the first
variant of the response):

    >>> say("utter_search_not_in_stock", wanted="Ford Mustang")
    'No tenemos *Ford Mustang* por ahora 😕'
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

DOMAIN = Path(__file__).resolve().parents[1] / "domain"
_VARIABLE = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=1)
def responses() -> Dict[str, str]:
    """The first text of every response in domain/*.yml, by name."""
    found: Dict[str, str] = {}
    for path in sorted(DOMAIN.glob("*.yml")):
        for name, variants in (yaml.safe_load(path.read_text()).get("responses") or {}).items():
            found[name] = variants[0].get("text", "")
    return found


def say(name: str, **values: Any) -> str:
    """The response `name` with its `{variables}` filled from `values` (a missing one is a KeyError)."""
    return _VARIABLE.sub(lambda match: str(values[match.group(1)]), responses()[name])
