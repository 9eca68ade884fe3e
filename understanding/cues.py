"""What a message asks for, read from its words: the cues routing and the capabilities share.

Every pattern here works on `text.normalize`d text (lower case, no accents).

>>> list_position("me interesa la segunda", 4)
2
>>> bool(FINANCING.search(normalize("cuanto quedaria la mensualidad")))
True
"""

from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from understanding.text import normalize, number_words

# --- Pointing at a car of the last list: "el 2", "la segunda", "la última", "ese" -------

ORDINALS = {
    "primero": 1,
    "primer": 1,
    "primera": 1,
    "1ro": 1,
    "1o": 1,
    "1ero": 1,
    "segundo": 2,
    "segunda": 2,
    "2do": 2,
    "2o": 2,
    "tercero": 3,
    "tercer": 3,
    "tercera": 3,
    "3ro": 3,
    "3o": 3,
    "3ero": 3,
    "cuarto": 4,
    "cuarta": 4,
    "4to": 4,
    "quinto": 5,
    "quinta": 5,
    "5to": 5,
}
_ORDINAL = re.compile(
    r"(?:^|\b(?:el|la|lo|del|al|de la|opcion|auto|carro|y|ese|esa|este|esta|aquel|aquella)\s+)("
    + "|".join(sorted(ORDINALS, key=len, reverse=True))
    + r")\b"
    r"(?!\s+(?:fila|vez|carro|auto|coche|ano|mes|dia|semana|pago|mensualidad|lugar|cita|de (?:enero|febrero|marzo|abril|"
    r"mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)))"
)
_NUMBER_WORDS = number_words(1, 5, skip={"un", "una"})
_NUMBERED = re.compile(
    r"(?:\b(?:el|la|del|al|de la|ese|esa|numero|num|no\.?|opcion|opc|op|auto|carro|#)\s*#?\s*|#)([1-9]|uno|dos|tres|cuatro|cinco)\b"
    r"(?!\s*(?:mil|k\b|millon|%|anos|meses|mes\b|de (?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|"
    r"septiembre|octubre|noviembre|diciembre)|pm|am|de la|hrs|horas|\.\d|:\d))"
)
_LAST = re.compile(
    r"\b(?:el|la|del)\s+ultim[oa]\b|\bultim[oa]\s+(?:de la lista|que me (?:mandaste|mostraste|ensenaste))"
)
_NUMBER_ONLY = re.compile(r"#?\s*[1-9](?:\s*\ufe0f?\u20e3)?")
THIS_ONE = re.compile(
    r"\b(?:ese|este|esa|esta|dicho|mismo|misma)\b(?!\s+(?:dia|mes|ano|sabado|lunes|martes|miercoles|jueves|viernes|domingo|fin))"
)
# A demonstrative that points at the car being talked about ("ese me interesa", "quiero esa
# camioneta", "y este?"); "está bien", "ese día" and "este chat" do not.
_DEMONSTRATIVE = re.compile(
    r"\b(?:ese|esa|este|aquel|aquella)\s+(?:carro|auto|coche|camioneta|troca|modelo|uno|una|nave|mero|de ahi|que me)\b"
    r"|\b(?:ese|esa|este|aquel|aquella)\s*(?:[?!.,]|$)"
    r"|\b(?:ese|esa|este)\s+(?:me|lo|la|si|no|esta|tiene|cuanto|como|que)\b"
    r"|\b(?:esos|esas)\s+(?:dos|tres)\b"
)
# "el más barato de esos", "la más nueva de la lista": a superlative over the cars just shown.
_OF_THOSE = r"(?:de esos|de esas|de estos|de estas|de la lista|de los que (?:me )?(?:mandaste|mostraste|ensenaste|pasaste)|de ahi)"
_SUPERLATIVE_WORDS = [
    ("price_asc", r"\bmas (?:barat[oa]|economic[oa]|accesible)\b"),
    ("price_desc", r"\bmas car[oa]\b"),
    ("year_desc", r"\bmas (?:nuev[oa]|recientes?)\b"),
    ("km_asc", r"\b(?:menos (?:km|kms|kilometros|kilometraje|recorrido)|menor kilometraje)\b"),
]
OF_THOSE = re.compile(r"\b" + _OF_THOSE + r"\b|\bentre (?:esos|esas|estos|estas|los dos|las dos)\b")
# Said either way: "el más barato de esos", "¿cuál de esas es la que tiene menos km?"
SUPERLATIVES = [
    (order, re.compile(rf"{words}.{{0,12}}{_OF_THOSE}|\b(?:cual|que)\s+{_OF_THOSE}.{{0,25}}{words}"))
    for order, words in _SUPERLATIVE_WORDS
]


def list_pointers(norm: str, length: int, skip: Sequence[Tuple[int, int]] = ()) -> List[Tuple[int, int]]:
    """Where a normalized message points at a place in a list of `length` ("la segunda",
    "el 2", "la última"), and which place; numbers inside the spans in `skip` (a car's
    name: "Mazda 3") are not places."""
    found = [(m.start(1), ORDINALS[m.group(1)]) for m in _ORDINAL.finditer(norm)]
    found += [
        (m.start(), _NUMBER_WORDS.get(m.group(1)) or int(m.group(1)))
        for m in _NUMBERED.finditer(norm)
        if not any(m.start(1) < b and m.end(1) > a for a, b in skip)
    ]
    found += [(m.start(), length) for m in _LAST.finditer(norm)]
    bare = normalize(norm).strip(" .!?¿¡")
    if not found and _NUMBER_ONLY.fullmatch(bare):
        found = [(0, int(re.sub(r"\D", "", bare)[:1]))]
    return found


# "¿cuál es el más nuevo?", "y el más barato?": one car asked for, not a list.
THE_ONE = re.compile(
    r"^(?:y |ok |va |oye )?(?:cual es |cual seria |dime |me dices )?(?:el|la) (?:mas (?:barat|economic|nuev|recient)"
    r"|de menos (?:km|kilometr))\w*\b(?!.*\b(?:autos|carros|coches|opciones)\b)"
)


def list_number_spans(norm: str) -> List[Tuple[int, int]]:
    """Where the numbers that are places of a list are ("la 3" in "me quedo con la 3, a 72 meses")."""
    return [m.span(1) for m in _NUMBERED.finditer(norm)]


def without_list_pointers(norm: str) -> str:
    """A normalized message with its list places ("el 2", "la primera") blanked out."""
    return _LAST.sub(" ", _NUMBERED.sub(" ", _ORDINAL.sub(" ", norm)))


def superlative(norm: str) -> Optional[str]:
    """The order of "el más barato de esos" ('price_asc', ...), or None."""
    return next((order for order, pattern in SUPERLATIVES if pattern.search(norm)), None)


def points_at_car(norm: str, skip: Sequence[Tuple[int, int]] = ()) -> bool:
    """Whether the message points at a car shown or talked about: a list number or ordinal,
    "la última", "el más barato de esos", "ese"."""
    return bool(list_pointers(norm, 5, skip) or superlative(norm) or _DEMONSTRATIVE.search(norm))


def is_list_number(text: str) -> bool:
    """True when the whole message is a number in a list: "2", "el 2", "opción 3"."""
    norm = normalize(text).strip(" .!?")
    return bool(_NUMBER_ONLY.fullmatch(norm) or _NUMBERED.fullmatch(norm))


def list_position(text: str, length: int) -> Optional[int]:
    """The place in a list of `length` that a message points at ("la segunda", "el 2",
    just "2", "la última"), counted from 1; None when it points at none or at several."""
    found = [number for _, number in list_pointers(normalize(text).strip(" .!?"), length)]
    return found[0] if len(found) == 1 and 1 <= found[0] <= length else None


# "¿cuánto es lo mínimo de enganche?", "¿de cuánto es el enganche mínimo?"
MIN_DOWN_ASKED = re.compile(r"\b(?:minimo|lo menos|menor)\b.{0,25}\benganche\b|\benganche\b.{0,20}\bminimo\b")
# "y sin lo de diésel?", "quítale lo del precio": a search condition taken back.
DROPS_CONDITION = re.compile(
    r"^(?:y |pero |mejor |ok |va |entonces )?(?:sin (?:lo de(?:l)?|el|la|los|las)|quita(?:le)? (?:lo de(?:l)?|el|la|los|las))\s"
)
# Room for a family: "para 7", "de 7 asientos", "somos 6", "tercera fila".
SEATS = re.compile(
    r"\b(?:para|pa) (?:\d|siete|ocho|seis|cinco)(?: (?:personas|pasajeros|gentes?|plazas))?\b"
    r"|\b(?:\d|siete|ocho) (?:pasajeros|plazas|asientos|lugares)\b|\bsomos (?:6|7|8|9|seis|siete|ocho|nueve)\b"
    r"|\btercera fila\b|\btres filas\b"
)


# --- What a car has: the questions about one car --------------------------------------

BLUETOOTH = re.compile(r"\bblue ?(?:t(?:oo|u|o)th?|tut|tooh)\b|\bbluetoot\b|\bblutu+t?h?\b|\bbt\b")
CARPLAY = re.compile(r"\bcar ?pl?ay\b|\bcarpley\b|\bapple ?car\b|\bandroid auto\b")
FEATURE_QUESTIONS = [
    ("bluetooth", BLUETOOTH),
    ("carplay", CARPLAY),
    ("km", re.compile(r"\bkilometr|\bkm\b|\bkms\b|\brecorrido\b|\bmillaje\b|\bkilos\b")),
    (
        "size",
        re.compile(
            r"\btamano\b|\bmide\b|\bmedidas?\b|\bdimensiones\b|\blargo\b|\bancho\b|\balto\b|\baltura\b"
            r"|\bgrande\b|\bchico\b|\bespacio\b|\bcabe|\bcajuela\b|\bmaletero\b|\bcaja larga\b|\bbatea\b"
        ),
    ),
    (
        "price",
        re.compile(
            r"\bprecio\b|\bcuesta\b|\bvale\b|\bcosto\b|\bcuanto es\b|\bsale en\b|\bcuanto sale\b|\bcuanto cuesta\b"
        ),
    ),
    ("year", re.compile(r"\bano\b|\bque modelo\b|\bes modelo\b|\bantiguedad\b|\bviejo\b")),
    ("version", re.compile(r"\bversion\b|\bmotor\b|\bcilindr|\blitros\b|\bequipamiento\b|\bturbo\b|\baspirado\b")),
    (
        "fuel",
        re.compile(
            r"\bconsum\w*|\brinde\b|\brendimiento\b|\bgasolina\b|\bgasta\b|\bkm por litro\b|\bdiesel\b|\bhibrido\b"
        ),
    ),
    (
        "transmission",
        re.compile(r"\bautomatic|\bmanual\b|\bestandar\b|\btransmision\b|\bcaja de cambios\b|\bcvt\b|\bdsg\b"),
    ),
    ("traction", re.compile(r"\b4x4\b|\bawd\b|\btraccion\b|\btodo terreno\b|\b4wd\b")),
    ("seats", re.compile(r"\bpasajeros\b|\basientos\b|\bplazas\b|\bcuantas personas\b|\bfilas\b|\bfamilia\b")),
    (
        "body",
        re.compile(r"\bque tipo\b|\bcarroceria\b|\bes (?:un |una )?(?:sedan|suv|camioneta|hatchback|pickup|minivan)\b"),
    ),
    (
        "location",
        re.compile(
            r"\bdonde (?:esta|lo tienen|la tienen|se encuentra|lo puedo ver|la puedo ver)\b"
            r"|\ben (?:que|cual) (?:ciudad|sede|estado|agencia|sucursal)\b|\bubicad[oa]\b|\besta en (?:cdmx|mexico|monterrey|guadalajara|puebla|queretaro)\b"
        ),
    ),
    (
        "available",
        re.compile(
            r"\bdisponible\b|\bsigue (?:a la venta|en venta)\b|\b(?:todavia|aun) (?:lo|la) (?:tienen|tienes|venden)\b"
            r"|\bvendido\b|\bya se vendio\b|\bapartad"
        ),
    ),
    (
        "history",
        re.compile(
            r"\bchocad\w*|\bchoques?\b|\baccidentad\w*|\baccidentes?\b|\binundad\w*|\bgolpead\w*|\bgolpes?\b"
            r"|\bduenos\b|\bhistorial\b|\bbuen estado\b|\bdetalles ocultos\b"
        ),
    ),
    (
        "too_expensive",
        re.compile(
            r"\b(?:esta|es|lo veo|la veo|se me hace|me parece|sale)\s+(?:muy |bien |demasiado |algo |un poco |re )?car[oa]\b"
            r"|\bcarisim[oa]\b"
        ),
    ),
]
# A question about one car ("¿tiene carplay?", "¿cuántos km tiene?", "¿es automático?"),
# not a request for cars with it ("autos con carplay", "busco uno automático").
_STILL_THERE = re.compile(
    r"\b(?:todavia|aun) (?:lo |la )?(?:tienen|tienes|venden)(?: (?:el|la))?\b(?!.*\b(?:autos|carros|opciones)\b)|\bya se vendio\b|\bsigue disponible\b|\bsigue a la venta\b"
)
_IS = re.compile(r"\b(?:es|esta|son)\b")
_ABOUT_ONE_CAR = re.compile(
    r"\b(?:tiene|trae|tendra|cuenta con|viene con|mide|pesa|cuantos km|cuantos kilometros|cuanto mide|cuanto cuesta|"
    r"cuanto sale|cuanto vale|cuanto consume|cuanto rinde|de que ano|que tan|(?:que|q) tal|que tipo|sigue|cabe|caben|se ve|"
    r"como (?:es|esta|anda))\b"
)
# Questions about cars in general, not about the one being discussed ("cada cuánto se cambian las llantas").
GENERAL = re.compile(
    r"\b(?:cada cuanto|servicio|mantenimiento|tramite|costo de|normalmente|en general|seguro|placas|tenencia|"
    r"envio|envios|envian|a domicilio|traslado|flete|comision|comisiones|"
    r"verificacion|llantas|balatas|aceite|afinacion|refacciones|cambiar las|cambiar el)\b"
)
_ASKS_FOR_CARS = re.compile(
    r"\b(?:busco|buscando|quiero|quisiera|necesito|ocupo|muestrame|ensename|ensenar|mostrar|manda|mandame|"
    r"pasame|tienen|tendran|hay|habra|venden|opciones|alguno|alguna|autos|carros|coches|camionetas|que me alcanza)\b"
)


def feature_asked(norm: str) -> List[str]:
    """The features a message asks about ('km', 'carplay', ...), in the order of FEATURE_QUESTIONS."""
    return [key for key, pattern in FEATURE_QUESTIONS if pattern.search(norm)]


def asks_about_one_car(norm: str) -> bool:
    """A question about a feature of one car, not a search for cars with it nor a general question."""
    if _STILL_THERE.search(norm):  # "¿ya se vendió o todavía la tienen?"
        return True
    about = _ABOUT_ONE_CAR.search(norm) or ("?" in norm and _IS.search(norm))
    return bool(feature_asked(norm)) and bool(about) and not _ASKS_FOR_CARS.search(norm) and not GENERAL.search(norm)


# --- Kinds of car ------------------------------------------------------------------------

BODY_WORDS = [
    (
        "pickup",
        re.compile(r"\bpick ?-?ups?\b|\btrocas?\b|\btroquitas?\b|\bcamionetas? de carga\b|\bcon caja\b|\bde batea\b"),
    ),
    ("minivan", re.compile(r"\bmini ?vans?\b|\bvans\b|\b(?:una|la|las|unas|de|en) van\b|\bmonovolumen\b")),
    ("suv", re.compile(r"\bsuvs?\b|\bcrossovers?\b|\bcamionetitas?\b")),
    (
        "coupe",
        re.compile(r"\bcoupes?\b|\bcupes?\b|\bconvertibles?\b|\bdescapotables?\b|\bdeportivos? de dos puertas\b"),
    ),
    ("hatchback", re.compile(r"\bhatch ?backs?\b|\bhatch\b|\bhb\b|\bhatchs\b")),
    ("sedan", re.compile(r"\bsedan(?:es|cito)?s?\b")),
    ("camioneta", re.compile(r"\bcamionet(?:a|as|ota|otas)\b")),
]
# Gearbox words of a request: "automática", "estándar", "de velocidades" ...
TRANSMISSION_WORDS = [
    ("cvt", re.compile(r"\bcvt\b|\bivt\b|\bxtronic\b")),
    ("dsg", re.compile(r"\bdsg\b|\bdct\b|\bdoble embrague\b|\bs ?tronic\b")),
    ("manual", re.compile(r"\b(?:estandar|standard|standar|manual(?:es)?|de velocidades|std|de palanca)\b")),
    ("automatic", re.compile(r"\b(?:automatic[oa]s?|automatik[oa]s?|automatica|aut|tiptronic)\b")),
]
TRACTION = re.compile(
    r"\b(?:4x4|4 x 4|4wd|awd|traccion (?:integral|total|4x4|en las cuatro)|todo terreno|doble traccion|4motion|quattro|xdrive|4matic)\b"
)


# --- What the customer wants to do ---------------------------------------------------------

FINANCING = re.compile(
    r"\b(?:mensualidad(?:es)?|mensual(?:es)?|financia\w*|credito|a meses|enganche|plazos?|"
    r"al mes|por mes|cada mes|mes con mes|cada quincena|quincenal\w*|mensualmente|pagos? (?:chiquitos|mensuales|fijos)|"
    r"abonos?|a pagos|en pagos|amortiza\w*|letras?|pagarlo|pagarla)\b"
)
# A monthly budget to search by: "puedo pagar 6 mil al mes", "que la mensualidad no pase de 8 mil".
MONTHLY_AFTER = re.compile(
    r"^\s*(?:pesos\s+)?(?:al mes|mensuales|mensual|por mes|cada mes|de mensualidad|mensualmente|x mes)\b"
)
MONTHLY_BEFORE = re.compile(
    r"(?:mensualidad(?:es)?|pagos? mensuales?|pago al mes|abonos?)\s*(?:de|que no pase de|no mayor a|maxima de|hasta|menor a|de maximo|maximo|de hasta|de unos|como de|que no pasen? de|no mas de)?\s*(?:\$\s*)?$"
)
BOOKING = re.compile(
    r"\b(?:cita|agend\w*|apart\w*|visit\w*|ir a ver\w*|pasar a ver\w*|verlo en persona|verla en persona|"
    r"conocerl[oa]|prueba de manejo|manejarl[oa]|probarl[oa]|test drive|ir a la sucursal|ir a su sucursal|"
    r"lo puedo ver|la puedo ver|puedo ir|podria ir|voy a ir|ir el|paso el|pasar el|verlo el|verla el|verlos|verlas|ir manana|"
    r"manejar|probar|checar(?:l[oa])?|revisarl[oa]|llevar a mi mecanico|dar una vuelta|vuelta de prueba)\b"
)
# A time of day ("a las 11", "4 pm", "10:30", "5 de la tarde"): never an amount of money.
TIME_OF_DAY = re.compile(
    r"\b(?:a\s+las?|las|como\s+a\s+las?|tipo)\s+(?:\d{1,2}|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce)"
    r"(?:\s*[:.h]\s*\d{2})?(?:\s*(?:am|pm|hrs?|horas))?\b"
    r"|\b\d{1,2}(?:\s*[:.]\s*\d{2})?\s*(?:a\.?\s?m\b\.?|p\.?\s?m\b\.?|hrs?\b|horas\b|de la (?:manana|tarde|noche)\b)"
    r"|\b\d{1,2}\s*:\s*\d{2}\b"
)
DAY_OR_TIME = re.compile(
    r"\b(?:hoy|manana|pasado manana|lunes|martes|miercoles|jueves|viernes|sabado|domingo|fin de semana|"
    r"mediodia|en la manana|en la tarde|temprano|proxima semana|semana que entra)\b"
    r"|\b\d{1,2}\s+de\s+(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)\b|"
    + TIME_OF_DAY.pattern
)
COMPARE = re.compile(
    r"\b(?:compar(?:a|ar|alos|alas|ame|amelos|en|es|emos|acion|ativa|ando|aras)|vs|versus|cual es mas|contra|diferencias? entre|cual (?:es|esta|seria) mejor|cual me conviene mas|"
    r"que diferencia hay|cual me (?:recomiendas|recomiendan|sugieres|sugieren)|cual recomiendas|cual me llevo|cual tiene mas|cual (?:es|esta) mas|cual gasta menos|cual rinde mas|cual escojo|cual elijo|entre (?:el|la) .{1,25} y (?:el|la))\b"
)
HANDOFF = re.compile(
    r"\b(?:hablar|platicar|comunicarme|comunicar|contactar|hablarle|chatear|atender|atienda|atiende|marque|marcar|llame|llamar|llamen|contacte|contacten)\b"
    r".{0,30}\b(?:asesor\w*|agente|alguien|persona|humano|ejecutiv\w*|vendedor\w*|representante|gente|operador\w*|encargad\w*|gerente)\b"
    r"|\b(?:pasame|pasenme|paseme|comunicame|comunicame con|transfiereme|canalizame|canalizenme|conectame)\b.{0,20}\b(?:con|a)\b"
    r"|\b(?:un|una|con un|con una)\s+(?:humano|persona real|asesor(?:a)?|agente|persona de verdad)\b"
    r"|\bno quiero (?:hablar con )?(?:un |una )?(?:robot|bot|maquina)\b|\basesor humano\b|\batencion (?:humana|personal(?:izada)?)\b"
)
ADVICE = re.compile(
    r"\b(?:me conviene|conviene|convendria|recomiend\w*|recomendarias|aconsej\w*|vale la pena|que opinas|que piensas|"
    r"es buena idea|seria buena idea|deberia|es mejor|que es mejor|sirve para|me sale mas barato|que gasta menos|"
    r"que es mas|me sale mejor)\b"
)
# Words of a visit, weaker than BOOKING: enough to keep a booking intent the classifier gave.
VISIT = re.compile(
    r"\b(?:ir|ver|verl[oa]s?|visit\w*|agencia|sucursal|cita|agend\w*|pasar|probar\w*|manejar\w*|conocerl[oa]|checarl[oa])\b"
)
# Asking for a car's full information ("pásame la info completa de la Sportage").
DETAILS = re.compile(r"\b(?:info|informacion|ficha|detalles?|datos|caracteristicas|especificaciones|mas sobre)\b")
# Financing values answering the financing form ("a 72", "si doy 35%", "con 80 mil de enganche").
FINANCING_VALUE = re.compile(
    r"\b(?:a|en|plazo de)\s+(?:12|24|36|48|60|72|84)(?:\s*meses)?\b|\d+(?:[.,]\d+)?\s*(?:%|por ?ciento)"
    r"|\b(?:doy|daria|pongo|dar|tengo|ahorre)\s+(?:unos\s+)?\$?\d[\d,.]*\s*(?:mil|k|%)"
    r"|\b(?:enganche de|de enganche|tasa de|tasa del|para dar|de entrada|sin enganche|(?:pa|para) (?:la )?entrada|pal enganche|para el enganche)\b"
)
# A score of the survey ("4 estrellas", "⭐⭐⭐⭐", "un 5 de 5").
SCORE = re.compile(
    r"[⭐★]|\b(?:te|le) (?:doy|pongo) (?:un|una)?\s*(?:[1-5]|uno|dos|tres|cuatro|cinco)\b(?!\s*(?:mil|k\b|%|pesos|millon))|\b(?:[1-5]|una?|dos|tres|cuatro|cinco)\s+estrellas?\b|\b[1-5]\s*(?:/|de)\s*5\b|\bcalifico con\b|\ble doy (?:un|una)?\s*(?:[1-5]|uno|dos|tres|cuatro|cinco)\b(?!\s*(?:mil|k\b|%|pesos|millon))"
)
# A person's name answering "¿cuál es tu nombre completo?".
NAME_CUE = re.compile(r"^(?:me llamo|mi nombre es|soy|a nombre de)\s+[a-z]")
# The customer's rights (domain/privacy.yml): whole-word commands and plain requests.
OPT_OUT = re.compile(
    r"^(?:baja|stop|unsubscribe)$|\b(?:dar(?:me)? de baja|dame de baja|denme de baja)\b"
    r"|\b(?:ya no|no) (?:me |nos )?(?:manden|envien|mandes|envies|escriban|contacten)\b"
    r"(?:.{0,15}\b(?:mensajes?|recordatorios?|nada|whats\w*|mas)\b|\W*$)"
    r"|\bdejen de (?:mandarme|enviarme|escribirme)\b"
)
OPT_IN = re.compile(r"^alta$|\b(?:dar(?:me)? de alta|dame de alta|denme de alta)\b")
DELETE_MY_DATA = re.compile(
    r"\b(?:borr|elimin|cancel|suprim)\w*\b.{0,25}\b(?:mis datos|mi informacion|mi numero|mis datos personales)\b"
    r"|\bbor?rame de\b"
    # "bórrenla", "sí, elimínalo todo": the answer to the list of what is stored, which invites it
    r"|^(?:(?:si|ok|va|pues|entonces)[\s,]+)?(?:borr|elimin)(?:a|en|alo|ala|alos|alas|enlo|enla|enlos|enlas)"
    r"(?: (?:todo|toda|por favor|porfa|ya|de una vez))*$"
)
ASK_MY_DATA = re.compile(
    r"\bque (?:datos|informacion) (?:tienen|guardan|tiene|saben)\b.{0,15}\b(?:de mi|mios?|mias?)\b"
    r"|\b(?:ver|muestrame|ensename) mis datos\b"
)
RESET = re.compile(
    r"\b(?:otra busqueda|nueva busqueda|empe(?:z|c)emos de nuevo|empezar de nuevo|de nuevo desde cero|desde cero|"
    r"borra(?:r)? (?:los |todos los )?filtros|quita(?:r)? (?:los |todos los )?filtros|olvida (?:todo|los filtros)|"
    r"reinicia\w*|busquemos otra cosa|buscar otra cosa)\b"
)
# Incidental numbers of an advice question ("manejo 20 km al día"): no catalog constraint.
INCIDENTAL_KM = re.compile(
    r"\d+\s*(?:km|kms|kilometros)\s+(?:al dia|diarios|por dia|a la semana|por semana|al mes|de ida|de casa)"
)


# Attempts to override the rules, see the prompt or dictate a price: refused, never sent to a model.
MANIPULATION = [
    re.compile(pattern)
    for pattern in (
        r"\b(ignora|ignore|ignoren|olvida|olvidate|salta|saltate|omite|desobedece)\b.{0,40}"
        r"\b(instruccion|instrucciones|reglas|indicaciones|prompt|restricciones|ordenes)\b",
        r"\b(ignore|disregard|forget)\b.{0,30}\b(instructions|rules|prompt)\b",
        r"\b(prompt|system message|mensaje (de|del) sistema|instrucciones (internas|del sistema|iniciales|ocultas))\b",
        r"\b(muestrame|dime|revela|revelame|ensename|comparte|compartime|repite|escribe|copia)\b.{0,20}"
        r"\b(tus|las|tu)\s+(instrucciones|reglas|configuracion)\b",
        r"\b(jailbreak|modo (desarrollador|dios|sin restricciones)|developer mode)",
        r"\b(a partir de ahora|desde ahora)\b.{0,30}\b(eres|seras|actua|responde|di)\b",
        r"\b(actua|finge|haz de cuenta|pretende) (como|que eres|ser)\b",
        r"\b(di|dime|digas|escribe|confirma|confirmame|pon|responde|asegura|garantiza|acepta)\b.{0,15}\bque\b"
        r".{0,40}\b(precio|cuesta|vale|cobran|sale en|descuento)\b.{0,30}(\d|gratis|regalado)",
        r"\bprecio (real|correcto|verdadero|de verdad) (es|sera|debe ser|deberia ser)\b",
        r"\b(di|dime|digas|escribe|confirma|confirmame|pon|responde|asegura)\b.{0,40}\b(gratis|regalado)\b",
        r"\b(dejamelo|damelo|vendemelo|me lo (dejas|das|vendes|dejan|dan))\b.{0,20}\b(en|por|a)\b.{0,5}\$?\s?\d",
    )
]


def is_manipulation(text: str) -> bool:
    """True for attempts to override the rules, see the prompt or dictate a price."""
    norm = normalize(text)
    return any(pattern.search(norm) for pattern in MANIPULATION)
