"""Benchmark of the knowledge base and the LLM fallback; prints figures.

    .venv/actions/bin/python bench/knowledge.py

Measures the shared embedding model's load, the index build, retrieval latency
and accuracy on held-out questions (phrasings that are not in
catalog/knowledge.md), how often off-topic text is kept below the answer
threshold, and action_llm_fallback's latency without a key, with a local fake
LLM, and against an endpoint that never answers (time box and cool-down).
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from actions import db  # noqa: E402
from actions.catalog import embeddings  # noqa: E402
from actions.knowledge import base as knowledge  # noqa: E402
from actions.knowledge.actions import ActionLLMFallback  # noqa: E402
from actions.knowledge.llm import PASSAGE_MIN_SCORE  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402

HELD_OUT = {
    "me interesa saber la garantia que ofrecen": "garantia",
    "si el motor truena en el primer mes quien paga": "garantia",
    "puedo pagar para tener mas tiempo de garantia": "garantia",
    "cuantos dias de prueba me dan": "periodo_de_prueba",
    "si a la semana ya no lo quiero que pasa": "periodo_de_prueba",
    "hay reembolso si no me convence": "periodo_de_prueba",
    "tienen sucursal en puebla": "sedes_y_centros_de_inspeccion",
    "donde los puedo visitar": "sedes_y_centros_de_inspeccion",
    "cuantas agencias tienen en el pais": "sedes_y_centros_de_inspeccion",
    "que tan revisados estan los carros que venden": "inspeccion_de_240_puntos",
    "como garantizan que el auto no tiene fallas ocultas": "inspeccion_de_240_puntos",
    "cuantos puntos de revision pasa cada coche": "inspeccion_de_240_puntos",
    "les puedo dejar mi auto viejo como parte del pago": "tu_auto_a_cuenta",
    "ustedes compran carros usados": "tu_auto_a_cuenta",
    "quiero deshacerme de mi coche y llevarme otro": "tu_auto_a_cuenta",
    "cuales son los pasos para comprar": "como_comprar",
    "se puede hacer todo desde el celular": "como_comprar",
    "como aparto el carro que me gusto": "como_comprar",
    "que interes cobran en el credito": "financiamiento",
    "hasta cuantos meses puedo pagarlo": "financiamiento",
    "me pueden financiar el auto": "financiamiento",
    "que es eso de kavak": "que_es_kavak",
    "son una empresa seria": "que_es_kavak",
    "a que se dedican ustedes": "que_es_kavak",
    "tienen una aplicacion para darle mantenimiento": "app_de_postventa",
    "despues de la compra como llevo los servicios": "app_de_postventa",
    "que dias y horas dan citas": "horario_de_citas",
    "puedo ir un sabado en la tarde": "horario_de_citas",
    "a que hora cierran": "horario_de_citas",
}
OFF_TOPIC = [
    "cual es la capital de francia",
    "cuentame un chiste",
    "quien gano el partido ayer",
    "asdkjh qwe zxc",
    "como cocino arroz",
    "recomiendame una pelicula",
    "que clima hace hoy",
    "mi abuela cocina muy rico",
    "el perro de mi vecino ladra mucho",
    "lorem ipsum dolor",
]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def tracker(text):
    return Tracker(
        "bench",
        {},
        {"text": text, "intent": {"name": "open_question"}},
        [{"event": "user", "text": text}],
        False,
        None,
        {},
        "action_listen",
    )


def run_fallback(text):
    dispatcher = CollectingDispatcher()
    started = time.perf_counter()
    asyncio.run(ActionLLMFallback().run(dispatcher, tracker(text), {}))
    return (time.perf_counter() - started) * 1000


def main() -> None:
    started = time.perf_counter()
    embeddings.get_model()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    index = knowledge.get_index()
    index_s = time.perf_counter() - started
    print(f"embedding model load:        {load_s:6.2f} s  ({embeddings.model_name_or_path()})")
    print(
        f"index build:                 {index_s:6.2f} s  ({len(index.passages)} passages, {len(index.owner)} vectors)"
    )
    print(f"process max RSS:             {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:6.0f} MiB")

    for question in OFF_TOPIC:  # warm-up
        knowledge.retrieve(question, 3)
    latencies, top1, top3, answered = [], 0, 0, 0
    for question, slug in HELD_OUT.items():
        t = time.perf_counter()
        hits = knowledge.retrieve(question, 3)
        latencies.append((time.perf_counter() - t) * 1000)
        top1 += hits[0].passage.slug == slug
        top3 += slug in [h.passage.slug for h in hits]
        answered += hits[0].passage.slug == slug and hits[0].score >= PASSAGE_MIN_SCORE
    n = len(HELD_OUT)
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(f"retrieval latency:           p50 {p50:5.1f} ms, p95 {p95:5.1f} ms")
    print(
        f"held-out accuracy ({n} q):    top-1 {top1 / n:.0%}, top-3 {top3 / n:.0%}, "
        f"answered correctly without LLM (score >= {PASSAGE_MIN_SCORE}) {answered / n:.0%}"
    )
    kept_out = sum(knowledge.retrieve(q, 1)[0].score < PASSAGE_MIN_SCORE for q in OFF_TOPIC)
    print(f"off-topic kept below threshold: {kept_out}/{len(OFF_TOPIC)}")

    t = time.perf_counter()
    for _ in range(1000):
        knowledge.faq_answer("faq_warranty")
    print(f"FAQ answer (no model):       {(time.perf_counter() - t):6.3f} ms per answer")

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        db.upgrade(os.environ["DATABASE_URL"])
        questions = list(HELD_OUT)[:10]
        os.environ["OPENAI_API_KEY"] = ""
        no_key = [run_fallback(q) for q in questions]
        print(f"action_llm_fallback, no key: p50 {statistics.median(no_key):6.1f} ms")

        fake = FakeOpenAI().start()
        os.environ.update(
            OPENAI_API_KEY="bench", OPENAI_BASE_URL=fake.base_url, LLM_TIMEOUT_SECONDS="1", LLM_COOLDOWN_SECONDS="30"
        )
        with_llm = [run_fallback(q) for q in questions]
        print(
            f"action_llm_fallback, local fake LLM: p50 {statistics.median(with_llm):6.1f} ms "
            f"(prompt ~{len(str(fake.requests[-1]['messages']))} chars)"
        )
        fake.stop()

        silent = FakeOpenAI().start()
        silent.delay = 30
        os.environ["OPENAI_BASE_URL"] = silent.base_url
        first = run_fallback(questions[0])
        later = [run_fallback(q) for q in questions[1:]]
        print(
            f"action_llm_fallback, LLM never answers (timeout 1 s): first {first:6.0f} ms, "
            f"next ones during cool-down p50 {statistics.median(later):5.1f} ms, "
            f"requests sent {len(silent.requests)}"
        )
        silent.server.server_close()


if __name__ == "__main__":
    main()
