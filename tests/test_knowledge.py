"""The knowledge base: its content, FAQ answers, passage retrieval, and FAQs in conversation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from actions.catalog import embeddings
from actions.formatting import WHATSAPP_LIMIT
from actions.knowledge import base as knowledge
from actions.knowledge.llm import PASSAGE_MIN_SCORE, quoted_prices

ROOT = Path(__file__).resolve().parents[1]

# One everyday phrasing per FAQ intent and the facts its answer must carry
# (from ../shared/seed/kavak-facts.md).
FAQ_CASES = {
    "faq_warranty": ("¿cuánto dura la garantía?", ["3 meses", "1 año"]),
    "faq_trial_period": ("si no me gusta el auto lo puedo devolver?", ["7 días", "300 km"]),
    "faq_sites": ("¿dónde están ubicados?", ["15 sedes", "13 centros de inspección"]),
    "faq_inspection": ("¿los autos están revisados?", ["240 puntos"]),
    "faq_trade_in": ("¿reciben mi auto a cuenta?", ["parte del pago"]),
    "faq_buying_process": ("¿cómo es el proceso de compra?", ["100% digital", "cita"]),
    "faq_financing_requirements": ("¿qué requisitos piden para el crédito?", ["10% anual", "36", "72 meses"]),
    "faq_privacy": ("¿qué hacen con mis datos?", ["No los vendemos", "borra mis datos", "BAJA", "aviso-de-privacidad"]),
}


def test_every_faq_intent_is_declared_and_has_its_section():
    declared = yaml.safe_load((ROOT / "domain" / "faq.yml").read_text())["intents"]
    faq_intents = {intent for intent in declared if intent.startswith("faq_")}
    assert faq_intents == set(knowledge.FAQ_SECTIONS) == set(FAQ_CASES)
    for intent in faq_intents:
        assert knowledge.faq_answer(intent), f"{intent} has no section in {knowledge.KNOWLEDGE_FILE}"


@pytest.mark.parametrize("intent", sorted(FAQ_CASES))
def test_faq_answers_state_the_facts(intent):
    answer = knowledge.faq_answer(intent)
    for fact in FAQ_CASES[intent][1]:
        assert fact in answer


def test_unknown_intents_have_no_faq_answer():
    assert knowledge.faq_answer("greet") is None
    assert knowledge.faq_answer(None) is None


def test_knowledge_base_is_whatsapp_ready_and_never_quotes_prices():
    passages = knowledge.load_passages()
    assert len(passages) >= 9
    assert len({p.slug for p in passages}) == len(passages)
    for passage in passages:
        assert len(passage.text) <= WHATSAPP_LIMIT
        assert "<!--" not in passage.text and "##" not in passage.text
        assert quoted_prices(passage.text) == [], passage.title
        assert passage.questions, f"{passage.title} has no example questions"


def test_parse_sections_questions_and_preamble():
    markdown = (
        "# Title\nPreamble that is not a passage.\n\n"
        "## Garantía extendida\n<!-- Preguntas: ¿cuánto dura? | ¿se extiende? -->\n"
        "Dura *3 meses*.\n\n## Vacía\n\n## Sedes\nHay 15.\n"
    )
    passages = knowledge.parse(markdown)
    assert [p.slug for p in passages] == ["garantia_extendida", "sedes"]
    assert passages[0].text == "Dura *3 meses*."
    assert passages[0].questions == ("¿cuánto dura?", "¿se extiende?")
    assert passages[0].plain == "Garantía extendida. Dura 3 meses."


def test_shared_embedding_model_is_loaded_once_and_normalised():
    assert embeddings.get_model() is embeddings.get_model()
    vectors = embeddings.encode(["¿tienen garantía?", "busco un sedán familiar"])
    assert vectors.shape == (2, embeddings.get_model().get_embedding_dimension())
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize(
    "question, slug",
    [
        ("cuanto tiempo de garantia le dan", "garantia"),
        ("cuantas sucursales tienen", "sedes_y_centros_de_inspeccion"),
        ("me reciben mi tsuru como pago?", "tu_auto_a_cuenta"),
        ("que papeles piden para el credito", "financiamiento"),
        ("quien es kavak", "que_es_kavak"),
        ("hay aplicacion movil", "app_de_postventa"),
        ("trabajan los domingos", "horario_de_citas"),
        ("tengo que ir a la agencia o todo es por internet", "como_comprar"),
    ],
)
def test_retrieval_finds_the_right_passage(question, slug):
    hits = knowledge.retrieve(question, k=3)
    assert hits[0].passage.slug == slug
    assert hits[0].score >= PASSAGE_MIN_SCORE
    assert hits[0].score >= hits[1].score >= hits[2].score


@pytest.mark.parametrize(
    "question",
    [
        "asdkjh qwe zxc",
        "quien gano el partido ayer",
        # car requests the NLU may miss: no passage answers them (once got trade-in or warranty)
        "quiero ver el versa",
        "la quiero ver",
        "cual es la mas barata",
        "quiero ver el jetta",
    ],
)
def test_unrelated_text_is_not_trusted_as_an_answer(question):
    assert knowledge.retrieve(question, k=1)[0].score < PASSAGE_MIN_SCORE


# --- in conversation: the real Rasa server and action server ---------------------------


@pytest.mark.parametrize("intent", sorted(FAQ_CASES))
def test_faq_in_conversation_answers_from_the_knowledge_base(servers, intent):
    sender = f"faq-{intent}"
    question, facts = FAQ_CASES[intent]
    reply = servers.say_text(sender, question)
    assert knowledge.faq_answer(intent) in reply
    for fact in facts:
        assert fact in reply
    assert "¿Te ayudo con algo más?" in reply
    events = servers.tracker(sender)["events"]
    user = [e for e in events if e["event"] == "user"][-1]
    assert user["parse_data"]["intent"]["name"] == intent
    assert any(e["event"] == "action" and e["name"] == "action_answer_faq" for e in events)


def test_faq_with_typos_and_no_accents(servers):
    assert "3 meses" in servers.say_text("faq-typos", "cuanto dura la garantia")
    assert "7 días" in servers.say_text("faq-typos", "periodo de pruba")


def test_the_hours_quoted_are_the_hours_enforced(monkeypatch):
    monkeypatch.setenv("APPOINTMENT_HOURS", "lun-sab 10:00-19:00")
    knowledge.load_passages.cache_clear()
    try:
        body = knowledge.section("horario_de_citas").text
        assert "*lunes a sábado de 10:00 a 19:00*" in body and "Los domingos no hay citas." in body
        assert "de 9:00" not in body and "{" not in body
    finally:
        monkeypatch.undo()
        knowledge.load_passages.cache_clear()
    default = knowledge.section("horario_de_citas").text
    assert "*lunes a viernes de 9:00 a 18:00* y *sábados de 9:00 a 14:00*" in default
