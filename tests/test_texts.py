"""Fixed customer texts live in domain/ responses; plain Python only fills them in."""

import re

import pytest

from actions.texts import responses, say
from tests.servers import ROOT

_USED = re.compile(r"""(?:say\(|response=)\s*"(utter_\w+)\"""")


def _names_used_by_the_actions() -> set:
    return {name for path in (ROOT / "actions").rglob("*.py") for name in _USED.findall(path.read_text())}


def test_every_response_the_actions_send_or_fill_in_is_in_the_domain():
    used = _names_used_by_the_actions()
    assert len(used) > 60  # the pattern still finds them
    assert sorted(used - set(responses())) == []


def test_a_response_is_filled_with_its_variables_as_rasa_fills_them():
    assert say("utter_search_not_in_stock", wanted="Ford Mustang") == "No tenemos *Ford Mustang* por ahora 😕"
    assert "{" not in say("utter_search_pick_from_list", count=3) and "del 1 al 3" in say(
        "utter_search_pick_from_list", count=3
    )


def test_a_missing_variable_is_an_error_not_a_text_with_braces():
    with pytest.raises(KeyError):
        say("utter_search_not_in_stock")
