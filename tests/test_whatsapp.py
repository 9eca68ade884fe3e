"""WhatsApp channel end to end: real form-encoded Twilio webhooks, signed and forged, to a running Rasa server.

The bot's texts come through a small NLG server on 127.0.0.1 (Rasa's `nlg:` endpoint):
it serves the domain's own responses, except two that stand in for what later
capabilities send: a reply longer than WhatsApp's 1600 characters and one with buttons.
"""

from __future__ import annotations

import json
import random
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional
from uuid import uuid4

import pytest
import requests
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from actions.texts import responses
from channels.message_log import MessageLog, processed_messages
from channels.whatsapp_text import MEDIA_REPLY, RATE_LIMIT_REPLY, option_number, split_body
from tests.servers import ROOT, Servers
from understanding.text import mask_phone

AUTH_TOKEN = "test-auth-token-4f0c2a9d"
PATH = "/webhooks/twilio/webhook"
PUBLIC_URL = "https://kavak-bot.example.com" + PATH
RATE_LIMIT = 5

LONG_LINES = [f"{i:02d}. 🚗 Opción de prueba con bastante texto para llenar la línea, ${i},999" for i in range(70)]
LONG_TEXT = "\n".join(LONG_LINES)
OPTIONS = [
    {"title": "Ver qué puedes hacer", "payload": "/help"},
    {"title": "Despedirme", "payload": "/goodbye"},
]
CAR_PHOTO = "https://images.example.com/cars/123456/front.jpg"
NLG_OVERRIDES = {
    "utter_iamabot": {"text": LONG_TEXT},
    "utter_out_of_scope": {"text": "¿Qué prefieres?", "buttons": OPTIONS},
    "utter_you_are_welcome": {"text": "Así se ve por fuera 👇", "image": CAR_PHOTO},
}


RESPONSES = responses()
NLG_CHANNELS: List[str] = []  # the output channel Rasa names when it asks for each response


class _NLG(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = request["response"]
        NLG_CHANNELS.append(request["channel"]["name"])
        body = json.dumps(NLG_OVERRIDES.get(name) or {"text": RESPONSES[name]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory) -> str:
    """endpoints.yml plus the test NLG server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NLG)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = tmp_path_factory.mktemp("nlg") / "endpoints.yml"
    path.write_text(
        (ROOT / "endpoints.yml").read_text() + f"\nnlg:\n  url: http://127.0.0.1:{server.server_address[1]}/nlg\n"
    )
    yield str(path)
    server.shutdown()


@pytest.fixture(scope="module")
def wa(tmp_path_factory, database_url, endpoints):
    """Action server + Rasa server with a Twilio auth token and a low rate limit."""
    env = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "WHATSAPP_RATE_LIMIT": str(RATE_LIMIT)}
    running = Servers(tmp_path_factory.mktemp("whatsapp"), database_url, env=env, endpoints=endpoints)
    running.start()
    yield running
    running.stop()


def new_sender() -> str:
    return f"whatsapp:+52155{random.randint(10**7, 10**8 - 1)}"


def twilio_form(sender: str, body: str = "", sid: Optional[str] = None, **extra: str) -> Dict[str, str]:
    """The fields Twilio posts for an incoming WhatsApp message."""
    sid = sid or "SM" + uuid4().hex
    return {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Ana López",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": sender.split("+")[-1],
        "SmsStatus": "received",
        "Body": body,
        "To": "whatsapp:+14155238886",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post(
    servers: Servers, form: Dict[str, str], sign_url: Optional[str] = None, token: Optional[str] = AUTH_TOKEN
) -> requests.Response:
    """POST a form like Twilio does, signed for `sign_url` (default: the URL posted to)."""
    url = servers.url + PATH
    headers = {}
    if token:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(sign_url or url, form)
    return requests.post(url, data=form, headers=headers, timeout=60)


def bodies(reply: requests.Response) -> List[str]:
    """The <Message> bodies of a TwiML reply."""
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(reply.content)
    assert root.tag == "Response"
    return [m.findtext("Body") if m.find("Body") is not None else m.text for m in root.findall("Message")]


def user_events(servers: Servers, sender: str) -> List[dict]:
    return [e for e in servers.tracker(sender)["events"] if e["event"] == "user"]


def processed_rows(database_url: str, sid: str) -> int:
    with create_engine(database_url).connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM processed_messages WHERE message_sid = :sid"), {"sid": sid}
        ).scalar_one()


def utf16_length(body: str) -> int:
    return len(body.encode("utf-16-le")) // 2


# --- signature ---


def test_signed_message_is_answered_in_its_own_twiml(wa, database_url):
    sender = new_sender()
    form = twilio_form(sender, "Hola")
    replies = bodies(post(wa, form))

    assert replies == [RESPONSES["utter_greet"]]
    assert NLG_CHANNELS[-1] == "whatsapp"  # so `channel: whatsapp` response variations apply
    [event] = user_events(wa, sender)
    assert event["text"] == "Hola"
    assert event["input_channel"] == "whatsapp"
    assert event["metadata"]["whatsapp"]["profile_name"] == "Ana López"
    assert processed_rows(database_url, form["MessageSid"]) == 1


@pytest.mark.parametrize("case", ["missing", "wrong token", "tampered body", "other url"])
def test_unsigned_or_forged_requests_get_403_and_are_never_processed(wa, database_url, case):
    sender = new_sender()
    form = twilio_form(sender, "Hola")
    if case == "missing":
        reply = post(wa, form, token=None)
    elif case == "wrong token":
        reply = post(wa, form, token="not-the-auth-token")
    elif case == "tampered body":
        signature = RequestValidator(AUTH_TOKEN).compute_signature(wa.url + PATH, form)
        forged = {**form, "Body": "cancela mi cita"}
        reply = requests.post(wa.url + PATH, data=forged, headers={"X-Twilio-Signature": signature}, timeout=30)
    else:
        reply = post(wa, form, sign_url="https://attacker.example.com" + PATH)

    assert reply.status_code == 403
    assert user_events(wa, sender) == []
    assert processed_rows(database_url, form["MessageSid"]) == 0


def test_signed_request_without_sender_or_message_id_is_a_bad_request(wa):
    form = twilio_form(new_sender(), "Hola")
    del form["From"]
    assert post(wa, form).status_code == 400


# --- retries ---


def test_a_retry_of_the_same_message_sid_is_processed_once(wa, database_url):
    sender = new_sender()
    form = twilio_form(sender, "Hola")
    assert bodies(post(wa, form)) == [RESPONSES["utter_greet"]]
    assert bodies(post(wa, form)) == []  # empty <Response/>: acknowledged, nothing sent
    assert [e["text"] for e in user_events(wa, sender)] == ["Hola"]
    assert processed_rows(database_url, form["MessageSid"]) == 1


def test_concurrent_retries_are_processed_once(wa):
    sender = new_sender()
    form = twilio_form(sender, "gracias")
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: bodies(post(wa, form)), range(4)))
    assert sorted(len(a) for a in answers) == [0, 0, 0, 1]
    assert [e["text"] for e in user_events(wa, sender)] == ["gracias"]


def test_the_same_message_sid_sent_to_two_servers_at_once_is_processed_once(wa, tmp_path):
    """Twilio retries can land on another server behind the balancer: the claim is in the database."""
    (tmp_path / "second").mkdir()
    second = wa.sharing_actions(
        tmp_path / "second",
        {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "WHATSAPP_RATE_LIMIT": str(RATE_LIMIT)},
    )
    second.start_rasa()
    try:
        sender = new_sender()
        form = twilio_form(sender, "Hola")
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda target: bodies(post(target, form)), [wa, second, wa, second]))
        assert sorted(len(a) for a in answers) == [0, 0, 0, 1]
        assert [e["text"] for e in user_events(wa, sender)] == ["Hola"]
    finally:
        second.stop_rasa()


# --- WhatsApp shape ---


def test_a_long_reply_is_split_at_line_boundaries_within_1600_characters(wa):
    replies = bodies(post(wa, twilio_form(new_sender(), "/bot_challenge")))

    assert utf16_length(LONG_TEXT) > 3 * 1600
    assert len(replies) >= 4
    assert all(utf16_length(body) <= 1600 for body in replies)
    assert all(set(body.split("\n")) <= set(LONG_LINES) for body in replies)
    assert "\n".join(replies) == LONG_TEXT


def test_buttons_are_numbered_and_a_number_maps_back_to_the_payload(wa):
    sender = new_sender()
    [menu] = bodies(post(wa, twilio_form(sender, "/out_of_scope")))
    lines = menu.split("\n")
    assert lines[0] == "¿Qué prefieres?"
    for number, option in enumerate(OPTIONS, start=1):
        assert any(
            option_number(line.split(" ", 1)[0].strip("*")) == number and line.endswith(option["title"])
            for line in lines
        )

    assert bodies(post(wa, twilio_form(sender, "1"))) == [RESPONSES["utter_help"]]
    picked = user_events(wa, sender)[-1]
    assert picked["text"] == "/help"
    assert picked["parse_data"]["intent"]["name"] == "help"

    # No buttons in the last turn: a number is just text for the bot.
    post(wa, twilio_form(sender, "1"))
    assert user_events(wa, sender)[-1]["text"] == "1"


def test_a_number_outside_the_options_is_left_as_text(wa):
    sender = new_sender()
    post(wa, twilio_form(sender, "/out_of_scope"))
    post(wa, twilio_form(sender, "7"))
    assert user_events(wa, sender)[-1]["text"] == "7"


def test_an_image_goes_as_media_of_its_message(wa):
    reply = post(wa, twilio_form(new_sender(), "/thank"))
    assert bodies(reply) == [NLG_OVERRIDES["utter_you_are_welcome"]["text"]]
    assert [m.text for m in ET.fromstring(reply.content).iter("Media")] == [CAR_PHOTO]


def test_a_template_quick_reply_sends_its_payload(wa):
    sender = new_sender()
    form = twilio_form(sender, "¿Qué más haces?", ButtonText="¿Qué más haces?", ButtonPayload="/help")
    assert bodies(post(wa, form)) == [RESPONSES["utter_help"]]
    assert user_events(wa, sender)[-1]["text"] == "/help"


@pytest.mark.parametrize(
    "media",
    [
        {
            "NumMedia": "1",
            "MediaContentType0": "image/jpeg",
            "MessageType": "image",
            "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0",
        },
        {
            "NumMedia": "1",
            "MediaContentType0": "audio/ogg",
            "MessageType": "audio",
            "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1",
        },
        {"Latitude": "19.4326", "Longitude": "-99.1332", "MessageType": "location"},
    ],
    ids=["photo", "voice note", "location"],
)
def test_media_only_messages_are_asked_for_text_and_not_processed(wa, media):
    sender = new_sender()
    assert bodies(post(wa, twilio_form(sender, "", **media))) == [MEDIA_REPLY]
    assert user_events(wa, sender) == []


def test_a_photo_with_a_caption_is_processed_as_text(wa):
    sender = new_sender()
    form = twilio_form(
        sender,
        "Hola",
        NumMedia="1",
        MediaContentType0="image/jpeg",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM2/Media/ME2",
    )
    assert bodies(post(wa, form)) == [RESPONSES["utter_greet"]]


def test_a_sender_over_the_rate_limit_is_told_once_and_not_processed(wa):
    sender = new_sender()
    answers = [bodies(post(wa, twilio_form(sender, "Hola"))) for _ in range(RATE_LIMIT + 2)]

    assert answers[:RATE_LIMIT] == [[RESPONSES["utter_greet"]]] * RATE_LIMIT
    assert answers[RATE_LIMIT] == [RATE_LIMIT_REPLY]
    assert answers[RATE_LIMIT + 1] == []
    assert len(user_events(wa, sender)) == RATE_LIMIT
    # Another customer is not affected.
    assert bodies(post(wa, twilio_form(new_sender(), "Hola"))) == [RESPONSES["utter_greet"]]


def test_logs_mask_the_whatsapp_number(wa):
    sender = new_sender()
    post(wa, twilio_form(sender, "Hola"))
    log = (wa.workdir / "rasa.log").read_text()
    assert sender.split("+")[1] not in log
    assert mask_phone(sender) in log


# --- configuration (each starts one more Rasa server on the same action server) ---


def rasa_only(tmp_path: Path, database_url: str, endpoints: str, wa: Servers, **env: str) -> Servers:
    env = {"ACTION_SERVER_URL": f"{wa.actions_url}/webhook", "TWILIO_AUTH_TOKEN": AUTH_TOKEN, **env}
    server = Servers(tmp_path, database_url, env=env, endpoints=endpoints)
    server.start_rasa()
    return server


def test_behind_a_tunnel_the_signature_is_checked_against_twilio_webhook_url(wa, tmp_path, database_url, endpoints):
    server = rasa_only(tmp_path, database_url, endpoints, wa, TWILIO_WEBHOOK_URL=PUBLIC_URL)
    try:
        sender = new_sender()
        assert post(server, twilio_form(sender, "Hola")).status_code == 403  # signed for the local URL
        assert bodies(post(server, twilio_form(sender, "Hola"), sign_url=PUBLIC_URL)) == [RESPONSES["utter_greet"]]
        assert len(user_events(server, sender)) == 1
    finally:
        server.stop()


def test_validation_can_be_turned_off_only_explicitly_and_loudly(wa, tmp_path, database_url, endpoints):
    server = rasa_only(tmp_path, database_url, endpoints, wa, TWILIO_VALIDATE_SIGNATURE="false")
    try:
        sender = new_sender()
        assert bodies(post(server, twilio_form(sender, "Hola"), token=None)) == [RESPONSES["utter_greet"]]
        assert "TWILIO_VALIDATE_SIGNATURE=false" in (tmp_path / "rasa.log").read_text()
    finally:
        server.stop()


# --- building blocks ---


def test_split_body_counts_emoji_as_twilio_does():
    text = "🚗" * 1000  # 1000 characters, 2000 UTF-16 units
    assert [utf16_length(b) for b in split_body(text)] == [1600, 400]
    words = "palabra " * 500
    assert all(utf16_length(b) <= 1600 and not b.startswith(" ") for b in split_body(words))
    assert " ".join(split_body(words)) == words


@pytest.mark.parametrize("reply,number", [("2", 2), (" 2. ", 2), ("#3", 3), ("1️⃣", 1), ("2 autos", None), ("", None)])
def test_option_number(reply, number):
    assert option_number(reply) == number


def test_old_message_ids_expire(database_url):
    old, fresh = "SM-old-" + uuid4().hex, "SM-fresh-" + uuid4().hex
    with create_engine(database_url).begin() as connection:
        for sid, age in ((old, timedelta(hours=25)), (fresh, timedelta(hours=23))):
            connection.execute(
                processed_messages.insert().values(
                    message_sid=sid, sender_id="whatsapp:+520", received_at=datetime.now(timezone.utc) - age
                )
            )
    assert MessageLog(database_url).purge() >= 1
    assert processed_rows(database_url, old) == 0
    assert processed_rows(database_url, fresh) == 1
