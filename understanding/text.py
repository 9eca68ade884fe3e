"""Spanish text basics: normalised form, words with their places, common words."""

from __future__ import annotations

import re
import unicodedata
from typing import Dict, Iterable, List, Tuple


def normalize(text: str) -> str:
    """Lower-case, strip accents and collapse spaces: 'Millón' -> 'millon'."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.lower()).strip()


def squash(text: str) -> str:
    """Normalized without spaces, hyphens or dots: 'CX-5' -> 'cx5'."""
    return re.sub(r"[\s\-\.'/&]+", "", normalize(text))


def word_spans(norm: str) -> List[Tuple[str, int, int]]:
    """The words of a normalized text with their character spans."""
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"[a-z0-9]+(?:[-.][a-z0-9]+)*", norm)]


# Spanish number words, the one table every parser reads (amounts, hours, scores, ages, list
# places); each takes the range it understands with `number_words`.
NUMBER_WORDS = {
    "cero": 0, "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "quince": 15,
    "veinte": 20, "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70,
    "ochenta": 80, "noventa": 90, "cien": 100, "ciento": 100, "doscientos": 200, "trescientos": 300,
    "cuatrocientos": 400, "quinientos": 500, "seiscientos": 600, "setecientos": 700,
    "ochocientos": 800, "novecientos": 900,
}  # fmt: skip


def number_words(low: int, high: int, skip: Iterable[str] = ()) -> Dict[str, int]:
    """The words for `low`..`high`, in the table's order, leaving out `skip`:
    number_words(1, 12, skip={"un", "uno"}) are the hours ("a la una", "a las doce")."""
    return {word: n for word, n in NUMBER_WORDS.items() if low <= n <= high and word not in skip}


# Spanish grammar words (articles, prepositions, pronouns, question words): no part of
# what a text is about. The lexical scores of search (actions/catalog/index.py) and of
# the knowledge base leave them out.
FUNCTION_WORDS = frozenset(
    """
    a al algo con como cual cuales cuando cuanto cuantos de del donde el en es esta este hay la
    las le lo los me mi mis muy no o para pero por que se si sin son su sus te tu tus un una unos y
    ya yo
    """.split()
)

# Frequent words of customers' messages: never taken for a car's name ("onda" is
# not Honda, "factura" not Acura), and no part of what a search ranks by.
COMMON_WORDS = set(
    """
    a al algo alguna alguno algun anos ano antes aqui asi auto autos bien bueno buena busco buscando
    cabe cada cajuela camioneta camionetas carro carros casi cerca chico chica cinco color como con
    cual cuales cuanto cuanta cuantos cuesta de del desde dame dime donde dos el ella ellos en entre
    era es esa ese eso esta este esto estoy familia familiar favor fuerte gracias grande hay hasta hola
    igual interesa kilometraje kilometros la las le lo los mas marca marcas me mejor menos mi mil millon
    millones modelo modelos mucho muestrame muy nada necesito ninguno no nos nuevo nueva o onda opcion
    opciones otra otro otros para pero pesos poco por porfa precio precios presupuesto primero puede
    puedes que quiero quisiera segundo sea seminuevo ser si sin sobre solo son su tambien tan tener
    tengo tercero tiene tienen tienes todo todos tu un una uno unos usado ver version y ya entra
    factura reversa camara conversa universal fuera afuera marzo
    entrar carga marcha nueve ocho seis siete tres cuatro diez barato barata economico economica
    deportivo deportiva lujo espacioso espaciosa cuarto quinto ultimo detalles detalle compara
    comparar diferencia diferencias contra versus ciudad trabajo viaje viajes carretera pasajeros
    personas asientos puertas motor rapido potente automatico manual estandar cuanto cuantas
    hatchback sedan suv pickup minivan van troca coupe convertible
    late gusta chido padre bonito bonita mes meses mensual mensualidad pagar pago pagos alcanza
    asesor persona humano verlo verla cita visita manejo prueba hablar cambio
    senor senora senorita joven oiga amigo amiga seria serian entrada vuelta
    """.split()
)


def mask_phone(address: str) -> str:
    """A phone or WhatsApp address safe for logs, the one way it is masked everywhere:
    'whatsapp:+5215512345678' -> 'whatsapp:+52*******5678'."""
    prefix, _, number = (address or "").rpartition(":")
    head = prefix + ":" if prefix else ""
    if len(number) <= 7:
        return head + "*" * max(len(number) - 2, 0) + number[-2:]
    return head + number[:3] + "*" * (len(number) - 7) + number[-4:]
