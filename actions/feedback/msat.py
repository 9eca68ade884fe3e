"""MSAT: the 1-5 satisfaction score asked when the customer closes the conversation.

Plain Python: parse a score, store it, pick the thanks. The Rasa layer (the form
`feedback_form` and the actions that save the score and answer the offer of a human
follow-up after a low score) is in actions.py beside it. A sender who rated within
MSAT_COOLDOWN_HOURS is not asked again.
"""

from __future__ import annotations

import fnmatch
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.db import Rating
from understanding.text import normalize, number_words

LOW_SCORE = 2  # scores up to this one get the apology and the follow-up offer
MAX_TRIES = 3  # answers that are not a score before the survey gives up

_WORDS = number_words(0, 10, skip={"un", "una"})  # "una estrella" is read on its own
_OUT_OF = re.compile(r"\s*(?:/|\bde\b|\bsobre\b)\s*(?:5|cinco)\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?|\b(?:%s)\b|\b(?:un|una)\s+(?:estrella|punto)\b" % "|".join(_WORDS))


def parse_score(text: str) -> Optional[int]:
    """1-5 from '5', 'cinco', '5 estrellas', '4/5', '⭐⭐⭐⭐'; None for '7', '4.5' or '3 o 4'."""
    norm = normalize(text)
    numbers = set()
    for match in _NUMBER.finditer(_OUT_OF.sub(" ", norm)):
        token = match.group(0)
        if token in _WORDS:
            numbers.add(float(_WORDS[token]))
        elif token[0].isdigit():
            numbers.add(float(token.replace(",", ".")))
        else:
            numbers.add(1.0)
    if not numbers:
        stars = text.count("⭐") + text.count("★")
        return stars if 1 <= stars <= 5 else None
    if len(numbers) != 1:
        return None
    value = numbers.pop()
    return int(value) if value.is_integer() and 1 <= value <= 5 else None


def recently_rated(session: Session, sender_id: str, now: datetime, hours: float) -> bool:
    """True when the sender gave a score within the last `hours`."""
    since = (now - timedelta(hours=hours)).astimezone(timezone.utc)
    return (
        session.execute(
            select(Rating.id).where(Rating.sender_id == sender_id, Rating.created_at >= since).limit(1)
        ).first()
        is not None
    )


def save_rating(session: Session, sender_id: str, score: int, topics: List[str]) -> Rating:
    """Store a 1-5 score with what the conversation was about (anything else is refused)."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ValueError(f"a score is 1 to 5, not {score!r}")
    rating = Rating(sender_id=sender_id, score=score, topics=",".join(topics)[:200])
    session.add(rating)
    session.flush()
    return rating


def thanks_for(score: int) -> str:
    """The response that answers a score (domain/feedback.yml): thanks, or for a low
    score an apology and an offer of a human follow-up."""
    return "utter_msat_low" if score <= LOW_SCORE else f"utter_msat_thanks_{score}"


# Topic -> fnmatch patterns of the intent and action names that reveal it (the
# names each capability uses; adjust here when they change).
TOPICS: Dict[str, Tuple[str, ...]] = {
    "busqueda": (
        "search_cars",
        "more_results",
        "car_details",
        "ask_car_feature",
        "compare_cars",
        "action_search*",
        "action_more_results",
        "action_car_*",
        "action_compare_cars",
    ),
    "financiamiento": ("*financing*", "ask_amortization_table", "action_show_amortization_table"),
    "cita": ("*appointment*",),
    "preguntas": ("faq_*", "open_question", "action_answer_faq", "action_llm_fallback"),
}


def matches(names: Iterable[str], patterns: Iterable[str]) -> bool:
    """Whether any of the names matches any of the fnmatch patterns."""
    return any(fnmatch.fnmatchcase(n, p) for n in names if n for p in patterns)


def topics_of(names: Iterable[str]) -> List[str]:
    """Topics touched by these intent/action names, in TOPICS order."""
    names = [n for n in names if n]
    return [topic for topic, patterns in TOPICS.items() if matches(names, patterns)]


def conversation_topics(events: List[Dict[str, Any]]) -> List[str]:
    """What a conversation was about, from its tracker events."""
    names = [
        (e.get("parse_data") or {}).get("intent", {}).get("name") if e.get("event") == "user" else e.get("name")
        for e in events
        if e.get("event") in ("user", "action")
    ]
    return topics_of(n for n in names if n)


# --------------------------------------------------------------------------- Rasa layer
