"""Kavak's knowledge base (catalog/knowledge.md): FAQ answers and passage retrieval.

Each `## Title` section of the Markdown file is one passage, optionally with a
hidden `<!-- Preguntas: a | b -->` comment of example questions. Frequent
questions are answered with their section verbatim (no model involved); open
questions get the most similar passages: the best cosine similarity (shared
sentence-transformers model) between the query and the passage or any of its
example questions, plus a small word-overlap bonus that keeps short Spanish
queries on target.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from actions.appointments import times as appointment_times
from actions.catalog import embeddings
from settings import current as current_settings
from understanding.text import FUNCTION_WORDS, normalize

KNOWLEDGE_FILE = Path(__file__).resolve().parents[2] / "catalog" / "knowledge.md"

# FAQ intent -> slug of the section that answers it.
FAQ_SECTIONS: Dict[str, str] = {
    "faq_warranty": "garantia",
    "faq_trial_period": "periodo_de_prueba",
    "faq_sites": "sedes_y_centros_de_inspeccion",
    "faq_inspection": "inspeccion_de_240_puntos",
    "faq_trade_in": "tu_auto_a_cuenta",
    "faq_buying_process": "como_comprar",
    "faq_financing_requirements": "financiamiento",
    "faq_privacy": "tus_datos_personales",
}

# Weight of the word-overlap bonus added to the cosine similarity.
LEXICAL_WEIGHT = 0.3
# Grammar words, and words every question to Kavak about cars shares.
_STOPWORDS = FUNCTION_WORDS | set(
    "puedo tengo tiene tienen kavak auto autos carro coche quiero quisiera gustaria ver verlo verla mas menos".split()
)


@dataclass(frozen=True)
class Passage:
    """One section of the knowledge base."""

    slug: str
    title: str
    text: str
    questions: Tuple[str, ...] = ()

    @property
    def plain(self) -> str:
        """Title and text without WhatsApp markup or emojis (for embeddings and prompts)."""
        body = re.sub(r"[*_~]", "", f"{self.title}. {self.text}")
        body = "".join(c for c in body if c.isalnum() or c.isspace() or c in ".,:;%()/-¿?¡!\"'")
        return re.sub(r"\s+", " ", body).strip()


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


def slugify(title: str) -> str:
    """'Garantía de 3 meses' -> 'garantia_de_3_meses'."""
    return re.sub(r"[^a-z0-9]+", "_", normalize(title)).strip("_")


_QUESTIONS = re.compile(r"<!--\s*Preguntas:(.*?)-->", re.DOTALL | re.IGNORECASE)


def parse(markdown: str) -> List[Passage]:
    """The `## ` sections of a Markdown text (text before the first one is ignored)."""
    passages = []
    for chunk in re.split(r"^## ", markdown, flags=re.MULTILINE)[1:]:
        title, _, body = chunk.partition("\n")
        questions = tuple(q.strip() for found in _QUESTIONS.findall(body) for q in found.split("|") if q.strip())
        body = re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL).strip()
        if title.strip() and body:
            passages.append(Passage(slugify(title), title.strip(), body, questions))
    return passages


@lru_cache(maxsize=None)
def load_passages(path: Path = KNOWLEDGE_FILE) -> List[Passage]:
    """The passages of the knowledge base file, with {horario} and {cerrado} filled from
    APPOINTMENT_HOURS (the bot quotes the schedule it enforces), {aviso} from PRIVACY_NOTICE_URL
    and {conservacion} from DATA_RETENTION_DAYS."""
    hours = appointment_times.Settings.from_env()
    filled = {
        "{horario}": hours.spoken(),
        "{cerrado}": hours.closed(),
        "{aviso}": current_settings().privacy_notice_url,
        "{conservacion}": kept_for(current_settings().data_retention_days),
    }
    text = path.read_text(encoding="utf-8")
    for placeholder, value in filled.items():
        text = text.replace(placeholder, value)
    return parse(text)


def kept_for(days: int) -> str:
    """How long a conversation is kept, in words: 'hasta 365 días después de tu último mensaje'."""
    return f"hasta {days} días después de tu último mensaje" if days > 0 else "mientras Kavak la necesite"


def section(slug: str) -> Optional[Passage]:
    """The passage with this slug, if any."""
    return next((p for p in load_passages() if p.slug == slug), None)


def faq_answer(intent: Optional[str]) -> Optional[str]:
    """The WhatsApp-ready answer of a FAQ intent, or None for any other intent."""
    passage = section(FAQ_SECTIONS.get(intent or "", ""))
    return passage.text if passage else None


def _stems(text: str) -> set:
    """Content words of a text, accents and plural endings removed.

    Whole words, unlike search's five-letter prefixes (actions/catalog/index.py): the
    passages are long and varied, so 'seguro' (insurance) must not meet 'seguridad'.
    """
    stems = set()
    for token in re.findall(r"[a-z0-9]+", normalize(text)):
        if token in _STOPWORDS or len(token) < 3:
            continue
        if len(token) > 4 and token.endswith("es"):
            token = token[:-2]
        elif len(token) > 3 and token.endswith("s"):
            token = token[:-1]
        stems.add(token)
    return stems


class KnowledgeIndex:
    """Passages with their embeddings, searchable by meaning."""

    def __init__(self, passages: List[Passage]):
        self.passages = passages
        texts, owner = [], []
        for index, passage in enumerate(passages):
            for text in (passage.plain, *passage.questions):
                texts.append(text)
                owner.append(index)
        self.vectors = embeddings.encode(texts)
        self.owner = np.array(owner)
        self.stems = [_stems(" ".join((p.plain, *p.questions))) for p in passages]
        frequency = Counter(stem for stems in self.stems for stem in stems)
        # Rare words weigh more; a word no passage has weighs the most.
        self.max_idf = math.log(1 + len(passages))
        self.idf = {stem: math.log(1 + len(passages) / n) for stem, n in frequency.items()}

    def _overlap(self, query_stems: set, stems: set) -> float:
        """Share of the query's (IDF-weighted) words found in a passage, 0 to 1."""
        total = sum(self.idf.get(s, self.max_idf) for s in query_stems)
        return sum(self.idf[s] for s in query_stems & stems) / total if total else 0.0

    def search(self, query: str, k: int = 3) -> List[Hit]:
        """The k passages closest to the query, best first."""
        if not query.strip() or not self.passages:
            return []
        similarity = np.full(len(self.passages), -1.0)
        np.maximum.at(similarity, self.owner, self.vectors @ embeddings.encode([query])[0])
        query_stems = _stems(query)
        hits = [
            Hit(passage, float(cosine) + LEXICAL_WEIGHT * self._overlap(query_stems, stems))
            for passage, cosine, stems in zip(self.passages, similarity, self.stems)
        ]
        return sorted(hits, key=lambda hit: hit.score, reverse=True)[:k]


@lru_cache(maxsize=1)
def get_index() -> KnowledgeIndex:
    """The index of the knowledge base (built on first use, about a second)."""
    return KnowledgeIndex(load_passages())


def retrieve(query: str, k: int = 3) -> List[Hit]:
    """The k most relevant passages for a question."""
    return get_index().search(query, k)
