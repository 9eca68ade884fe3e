"""WhatsApp text shaping: bodies within Twilio's limit, buttons as numbered lists, masked numbers.

Standard library and settings.py only, so pytest (actions env) can import it as well as
the Rasa server. The channel's own replies below (a photo, too many messages, a
technical error, a message too long) are sent before or instead of the dialogue, with
no domain at hand, so they are the one set of fixed texts kept in Python.
The splitter is the channel's own rather than actions.formatting.split_message: it
counts the way Twilio does (UTF-16 code units, an emoji is two), and the Rasa server
must not import the actions package, whose modules belong to the other environment.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Iterator, List, Optional

from settings import current as current_settings

WHATSAPP_LIMIT = 1600

CHOOSE_HINT = "_Responde con el número de tu opción._"
MEDIA_REPLY = (
    "Por ahora solo puedo leer mensajes de texto 🙏\n"
    '¿Me escribes lo que necesitas? Por ejemplo: "busco un sedán de menos de 300 mil".'
)
RATE_LIMIT_REPLY = (
    "Recibí muchos mensajes seguidos 😅\nDame un minuto y escríbeme de nuevo; con gusto te sigo ayudando."
)
ERROR_REPLY = "Perdón, tuve un problema técnico 😓 ¿Me lo escribes de nuevo en un momento?"
UNAVAILABLE_REPLY = (
    "Dame un momento 🙏 Estoy teniendo problemas para consultar eso.\n"
    "Escríbeme de nuevo en un minuto y seguimos donde íbamos."
)
LONG_MESSAGE_REPLY = (
    "Tu mensaje es muy largo para mí 😅\n"
    '¿Me lo escribes más corto? Con una o dos frases me basta, por ejemplo: "busco una SUV de menos de 400 mil".'
)


def message_max_chars() -> int:
    """The longest customer message processed (MESSAGE_MAX_CHARS, 1000): longer ones get LONG_MESSAGE_REPLY."""
    return current_settings().message_max_chars


_CHOICE = re.compile(r"^#?\s*(\d{1,2})\s*[.)]?$")


def twilio_length(text: str) -> int:
    """Length as Twilio counts it: UTF-16 code units (characters beyond the BMP count twice)."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def _cut(line: str, limit: int) -> int:
    """Index of the first character of `line` that no longer fits in `limit`."""
    used = 0
    for index, ch in enumerate(line):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return index
    return len(line)


def _pieces(line: str, limit: int) -> Iterator[str]:
    """A line cut into pieces that fit, at the last space when there is one."""
    while twilio_length(line) > limit:
        cut = _cut(line, limit)
        space = line.rfind(" ", 0, cut)
        if space > 0:
            yield line[:space]
            line = line[space + 1 :]
        else:
            yield line[:cut]
            line = line[cut:]
    yield line


def split_body(text: str, limit: int = WHATSAPP_LIMIT) -> List[str]:
    """Split a text at line boundaries into bodies of at most `limit` (Twilio-counted) characters."""
    bodies: List[str] = []
    lines: List[str] = []
    used = -1  # the newline before the first line does not count
    for line in text.split("\n"):
        for piece in _pieces(line, limit):
            size = twilio_length(piece) + 1
            if lines and used + size > limit:
                bodies.append("\n".join(lines))
                lines, used = [], -1
            lines.append(piece)
            used += size
    bodies.append("\n".join(lines))
    return [body.strip("\n") for body in bodies if body.strip()]


def message_buttons(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The buttons (or quick replies) of a bot message."""
    return message.get("buttons") or message.get("quick_replies") or []


def render(messages: Iterable[Dict[str, Any]]) -> List[Dict[str, Optional[str]]]:
    """A turn's bot messages as WhatsApp messages: {"body", "media"}, each body within the limit.

    Buttons become a numbered list, numbered across the whole turn, so that the
    customer's "1", "2"... can be mapped back by `option_number` and `choice_payload`.
    """
    replies: List[Dict[str, Optional[str]]] = []
    number = 0
    for message in messages:
        text = (message.get("text") or "").strip()
        options = []
        for button in message_buttons(message):
            number += 1
            options.append(f"*{number}.* {button.get('title') or button.get('payload')}")
        if options:
            text = "\n".join(([text, ""] if text else []) + options + [CHOOSE_HINT])
        bodies = split_body(text)
        image = message.get("image")
        if image:
            bodies = bodies or [""]
        replies.extend({"body": body, "media": image if index == 0 else None} for index, body in enumerate(bodies))
    return replies


def option_number(reply: str) -> Optional[int]:
    """The option a bare reply picks: "2", "2.", "2)", "#2" or "2️⃣" -> 2; anything else -> None."""
    match = _CHOICE.match(reply.replace("\ufe0f", "").replace("\u20e3", "").strip())
    return int(match.group(1)) if match else None


def choice_payload(number: int, buttons: List[Dict[str, Any]]) -> Optional[str]:
    """The payload of button `number` (1-based) of the last turn, or None when there is no such button."""
    if not 1 <= number <= len(buttons):
        return None
    button = buttons[number - 1]
    return button.get("payload") or button.get("title")
