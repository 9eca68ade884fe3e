"""The search's WhatsApp messages: result cards, one car's details, truthful
answers about a car's features, and two cars side by side."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from actions.catalog.index import BODY_LABELS, CarInfo, all_wheel_drive, seats_seven, transmission
from actions.formatting import NUMBER_EMOJI, car_title, format_km, format_price
from actions.search.filters import describe_filters, describe_monthly_plan, monthly_payment_of
from actions.texts import say
from understanding.cues import feature_asked
from understanding.text import normalize


def features_line(car: CarInfo) -> str:
    if car.bluetooth and car.carplay:
        sound = "🎵 Bluetooth y CarPlay"
    elif car.bluetooth:
        sound = "🎵 Bluetooth"
    elif car.carplay:
        sound = "📱 CarPlay"
    else:
        sound = "🔇 Sin Bluetooth ni CarPlay"
    gearbox = transmission(car)
    return f"⚙️ {gearbox[0].upper()}{gearbox[1:]} · {sound}" if gearbox else sound


def car_card(car: CarInfo, number: Optional[int] = None, filters: Optional[Dict[str, Any]] = None) -> str:
    """A car in a results list, WhatsApp-shaped as in the original; with its monthly
    payment when the search is by monthly payment."""
    head = f"{NUMBER_EMOJI[number - 1]} " if number and number <= len(NUMBER_EMOJI) else ""
    lines = [
        f"{head}🚗 *{car_title(car)}*",
        car.version or "",
        f"💰 {car.price_text} · 🛣️ {format_km(car.km)}",
    ]
    if filters and filters.get("monthly_max"):
        lines.append(f"💵 *{format_price(monthly_payment_of(car.price, filters))}*/mes")
    if car.body:
        label = BODY_LABELS[car.body]
        lines.append(f"📏 {label[0].upper()}{label[1:]}")  # "SUV" stays "SUV", "sedán" becomes "Sedán"
    lines.append(features_line(car))
    return "\n".join(line for line in lines if line)


def format_results(cars: Sequence[CarInfo], total: int, filters: Dict[str, Any], already_shown: int = 0) -> str:
    """A page of results: how many match, the cards, and what the customer can do next."""
    shown = len(cars)
    criteria = describe_filters(filters)
    if already_shown:
        head = say("utter_search_more_page", first=already_shown + 1, last=already_shown + shown, total=total)
    elif total <= shown:
        noun = "auto" if total == 1 else "autos"
        head = say("utter_search_found_all", total=total, noun=noun, criteria=f" ({criteria})" if criteria else "")
    else:
        head = say("utter_search_found_page", total=total, criteria=f" ({criteria})" if criteria else "", shown=shown)
    if filters.get("monthly_max"):
        head += f"\n_Mensualidad estimada {describe_monthly_plan(filters)}._"
    body = "\n\n".join(car_card(car, i + 1, filters) for i, car in enumerate(cars))
    remaining = total - already_shown - shown
    tail = say("utter_search_results_next")
    if remaining > 0:
        tail += "\n" + say("utter_search_results_more", remaining=remaining)
    return f"{head}\n\n{body}\n\n{tail}"


def dimensions(car: CarInfo) -> List[str]:
    """The measures the car's data has: ['4,549 mm de largo', '1,796 mm de ancho', ...]."""
    measures = (("largo", car.largo), ("ancho", car.ancho), ("alto", car.altura))
    return [f"{value:,.0f} mm de {name}" for name, value in measures if value]


def car_details(car: CarInfo) -> str:
    """The full card of one car."""
    dims = dimensions(car)
    lines = [
        f"🚗 *{car_title(car)}*",
        f"⚙️ Versión: {car.version}" if car.version else "",
        f"💰 Precio: *{car.price_text}*",
        f"🛣️ Kilometraje: {format_km(car.km)}",
        f"📏 Tipo: {BODY_LABELS[car.body]}" if car.body else "",
        f"📐 Medidas: {', '.join(dims)}" if dims else "",
        f"🔧 Transmisión: {transmission(car)}" if transmission(car) else "",
        "🛞 Tracción 4x4 / AWD" if all_wheel_drive(car) else "",
        f"🎵 Bluetooth: {'Sí' if car.bluetooth else 'No'}",
        f"📱 CarPlay: {'Sí' if car.carplay else 'No'}",
        f"🔖 Stock: {car.stock_id}",
        "",
        say("utter_search_details_next"),
    ]
    return "\n".join(line for i, line in enumerate(lines) if line or i == 11)


def answer_feature(car: CarInfo, text: str) -> str:
    """Answer questions about a car truthfully from its data (empty means no)."""
    norm = normalize(text)
    name = car_title(car)
    answers = []
    asked = feature_asked(norm)
    for key in asked:
        if key == "bluetooth":
            answers.append(
                f"🎵 ¡Sí! El {name} tiene *Bluetooth*." if car.bluetooth else f"🎵 No, el {name} no tiene Bluetooth."
            )
        elif key == "carplay":
            answers.append(
                f"📱 ¡Sí! El {name} tiene *Apple CarPlay*." if car.carplay else f"📱 No, el {name} no tiene CarPlay."
            )
        elif key == "km":
            answers.append(f"🛣️ El {name} tiene *{format_km(car.km)}* recorridos.")
        elif key == "size" and re.search(r"\bcajuela\b|\bmaletero\b|\bcaja\b|\bbatea\b", norm):
            dims = dimensions(car)
            answers.append(
                "📦 Su ficha no trae la capacidad de la cajuela"
                + (f"; el auto mide {', '.join(dims)}." if dims else ".")
                + " En la cita la puedes ver y medir."
            )
        elif key == "size":
            dims = dimensions(car)
            kind = (
                f"Es {_article(car.body)} *{BODY_LABELS[car.body]}*"
                if car.body
                else "Su ficha no indica el tipo de carrocería"
            )
            answers.append(
                f"📏 {kind}" + (f": mide {', '.join(dims)}." if dims else "; no tengo registradas sus medidas.")
            )
        elif key == "price":
            answers.append(f"💰 El {name} cuesta *{car.price_text}*.")
        elif key == "year":
            answers.append(f"📅 Es modelo *{car.year}*.")
        elif key == "version":
            answers.append(f"⚙️ Es la versión *{car.version}*." if car.version else "⚙️ Su ficha no indica la versión.")
        elif key == "transmission":
            gearbox = transmission(car)
            answers.append(
                f"🔧 Su transmisión es *{gearbox}* ({car.version})."
                if gearbox
                else "🔧 Su ficha no indica la transmisión; te lo confirmamos en la cita."
            )
        elif key == "traction":
            answers.append(
                "🛞 Sí, tiene tracción *4x4 / AWD*."
                if all_wheel_drive(car)
                else f"🛞 No, su versión ({car.version}) no indica tracción 4x4 ni AWD."
            )
        elif key == "seats":
            answers.append(
                "👨‍👩‍👧‍👦 Su versión indica *7 pasajeros* o más (tres filas)."
                if seats_seven(car) or car.body == "minivan"
                else "👨‍👩‍👧 Su ficha no indica tercera fila; lo normal en este modelo son 5 pasajeros."
            )
        elif key == "body":
            answers.append(
                f"📏 Es {_article(car.body)} *{BODY_LABELS[car.body]}*."
                if car.body
                else "📏 Su ficha no indica el tipo de carrocería."
            )
        elif key == "location":
            answers.append(say("utter_search_feature_location", car=name))
        elif key == "available":
            answers.append(f"✅ Sí, el {name} sigue disponible.")
        elif key == "history":
            answers.append(say("utter_search_feature_history", car=name))
        elif key == "too_expensive":
            answers.append(say("utter_search_feature_too_expensive", car=name, price=car.price_text))
    if not answers:
        return say("utter_search_feature_unknown", car=name) + "\n\n" + car_details(car)
    if "too_expensive" in asked:  # its answer already says what to do next
        return "\n".join(answers)
    return "\n".join(answers) + "\n\n" + say("utter_search_feature_next")


def _article(body: str) -> str:
    return "una" if body in ("suv", "minivan", "pickup") else "un"


def compare(cars: Sequence[CarInfo]) -> str:
    """Two cars side by side, with what sets them apart."""
    a, b = cars[0], cars[1]
    yes = lambda flag: "Sí" if flag else "No"  # noqa: E731
    rows = [
        ("💰 Precio", a.price_text, b.price_text),
        ("📅 Año", str(a.year), str(b.year)),
        ("🛣️ Km", format_km(a.km), format_km(b.km)),
        ("📏 Tipo", BODY_LABELS.get(a.body, "—"), BODY_LABELS.get(b.body, "—")),
        ("🔧 Transmisión", transmission(a) or "—", transmission(b) or "—"),
        ("🎵 Bluetooth", yes(a.bluetooth), yes(b.bluetooth)),
        ("📱 CarPlay", yes(a.carplay), yes(b.carplay)),
        ("📐 Largo", f"{a.largo:,.0f} mm" if a.largo else "—", f"{b.largo:,.0f} mm" if b.largo else "—"),
    ]
    lines = [f"⚖️ *{car_title(a)}* vs *{car_title(b)}*", ""]
    lines += [f"{label}: {x} | {y}" for label, x, y in rows]
    if a.model != b.model:
        label = {id(a): a.model, id(b): b.model}
    elif a.year != b.year:
        label = {id(a): f"{a.model} {a.year}", id(b): f"{b.model} {b.year}"}
    else:
        label = {id(a): "primero", id(b): "segundo"}
    notes = []
    if a.price != b.price:
        cheap, other = (a, b) if a.price < b.price else (b, a)
        notes.append(f"El {label[id(cheap)]} es {format_price(other.price - cheap.price)} más barato.")
    if a.year != b.year:
        notes.append(f"El {label[id(max(a, b, key=lambda c: c.year))]} es más nuevo.")
    if a.km != b.km:
        notes.append(f"El {label[id(min(a, b, key=lambda c: c.km))]} tiene menos kilómetros.")
    if notes:
        lines += ["", " ".join(notes)]
    lines += ["", say("utter_search_compare_next")]
    return "\n".join(lines)
