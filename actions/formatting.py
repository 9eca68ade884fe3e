"""WhatsApp-friendly formatting shared by every capability."""

from __future__ import annotations

from typing import List

WHATSAPP_LIMIT = 1600


# Numbered options in a list (WhatsApp has no numbered list of its own).
NUMBER_EMOJI = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"]


def format_price(amount: float) -> str:
    """Pesos with thousands separators and no cents: 489999 -> '$489,999'."""
    return f"${round(amount):,}"


def format_km(km: float) -> str:
    """Kilometres with thousands separators: 56419 -> '56,419 km'."""
    return f"{round(km):,} km"


def car_name(make: str, model: str) -> str:
    """Make and model without saying the make twice: ('Mazda', 'Mazda 3') -> 'Mazda 3'."""
    if model.lower().startswith(make.lower()):
        return model
    return f"{make} {model}".strip()


def car_title(car) -> str:
    """'Nissan Versa 2021': how every reply names a car (a catalog row or a search index entry)."""
    return f"{car_name(car.make, car.model)} {car.year}"


def split_message(text: str, limit: int = WHATSAPP_LIMIT) -> List[str]:
    """Split a long text at line boundaries into chunks of at most `limit` characters."""
    chunks: List[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks
