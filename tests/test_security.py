"""Attacks on the running servers, as an outsider on the same network would try them (SECURITY.md).

Each test sends over HTTP what the attack sends and asserts the refusal, and that
nothing happened behind it: no action ran, no row changed, no customer data leaked.
"""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest
import requests
import yaml
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from actions.db import Appointment, Rating, session_scope
from tests.servers import ROOT, Servers
from tests.test_appointments import new_car

TWILIO_TOKEN = "security-twilio-token"
ACCOUNT = "AC" + "1" * 32
CUSTOMER = "whatsapp:+5215544440001"
PATH = "/webhooks/twilio/webhook"


@pytest.fixture(scope="module")
def attacked(tmp_path_factory, database_url):
    """The servers as deployed: Twilio signed and pinned to one account and URL, REST behind a token."""
    workdir = tmp_path_factory.mktemp("security")
    running = Servers(
        workdir,
        database_url,
        env={
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "REST_RATE_LIMIT": "5",
            "MESSAGE_MAX_CHARS": "300",
        },
    )
    running.env["TWILIO_WEBHOOK_URL"] = f"{running.url}{PATH}"
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def visit(database_url):
    """A WhatsApp customer's booked visit, the data an attacker is after."""
    car = new_car(database_url)
    with session_scope(database_url) as session:
        appointment = Appointment(
            sender_id=CUSTOMER,
            customer_name="Lucía Secreta Ramírez",
            stock_id=car.stock_id,
            scheduled_at=datetime.now(timezone.utc) + timedelta(days=3),
            status="booked",
        )
        session.add(appointment)
        session.flush()
        return appointment.id


def rest(servers, sender, message, token=None, **extra):
    headers = {"Authorization": f"Bearer {token}"} if token else servers.rest_headers
    return requests.post(
        f"{servers.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message, **extra},
        headers=headers,
        timeout=60,
    )


# --- REST only where it belongs ------------------------------------------------------------


def test_rest_needs_the_bearer_token(attacked, visit):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": attacked.env["REST_API_TOKEN"]}):
        reply = requests.post(
            f"{attacked.url}/webhooks/rest/webhook",
            json={"sender": "x", "message": "hola"},
            headers=headers,
            timeout=30,
        )
        assert reply.status_code == 401


@pytest.mark.parametrize("sender", [CUSTOMER, "+5215544440001", "5215544440001", "WhatsApp:+52155", "55 4444 0001"])
def test_rest_never_speaks_as_a_whatsapp_customer(attacked, visit, sender):
    reply = rest(attacked, sender, "¿cuándo es mi cita?")
    assert reply.status_code == 400 and "Lucía" not in reply.text
    reply = rest(attacked, sender, "cancela mi cita")
    assert reply.status_code == 400
    with session_scope(attacked.env["DATABASE_URL"]) as session:
        assert session.get(Appointment, visit).status == "booked"


def test_rest_ignores_the_callers_channel_and_metadata(attacked):
    sender = "sec-metadata"
    reply = rest(
        attacked,
        sender,
        "hola",
        input_channel="whatsapp",
        metadata={"whatsapp": {"message_sid": "SM" + "0" * 32, "profile_name": "Falso"}},
    )
    assert reply.status_code == 200 and reply.json()
    user = [e for e in attacked.tracker(sender)["events"] if e["event"] == "user"][-1]
    assert user["input_channel"] == "rest" and "whatsapp" not in (user.get("metadata") or {})


def test_a_huge_message_is_answered_with_a_note_and_never_processed(attacked):
    sender = "sec-long"
    reply = rest(attacked, sender, "busco un auto " * 100)
    assert "muy largo" in reply.json()[0]["text"]
    events = attacked.tracker(sender)["events"]
    assert not [e for e in events if e["event"] == "user"]


def test_rest_is_rate_limited_per_sender(attacked):
    codes = [rest(attacked, "sec-flood", "hola").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    assert rest(attacked, "sec-other", "hola").status_code == 200


def test_rest_is_closed_without_a_token(attacked, tmp_path):
    closed = attacked.sharing_actions(tmp_path, {"REST_API_TOKEN": ""})
    closed.start_rasa()
    try:
        reply = requests.post(
            f"{closed.url}/webhooks/rest/webhook",
            json={"sender": "x", "message": "hola"},
            headers={"Authorization": "Bearer "},
            timeout=30,
        )
        assert reply.status_code == 403
    finally:
        closed.stop_rasa()


def test_rasa_http_api_needs_its_token(attacked):
    assert requests.get(f"{attacked.url}/conversations/{CUSTOMER}/tracker", timeout=30).status_code == 401


# --- the action server trusts only Rasa ----------------------------------------------------


def action_call(action, sender, slots=None, text="sí"):
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots or {},
            "events": [],
            "paused": False,
            "latest_message": {"text": text, "intent": {"name": "affirm", "confidence": 1.0}},
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def call_actions(servers, body, token="", **kwargs):
    headers = {"X-Action-Token": token} if token else {}
    return requests.post(f"{servers.actions_url}/webhook", json=body, headers=headers, timeout=30, **kwargs)


def test_the_action_server_refuses_calls_without_rasas_secret(attacked, visit):
    body = action_call("action_cancel_appointment", CUSTOMER, {"appointment_to_cancel": float(visit)})
    for token in ("", "wrong"):
        reply = call_actions(attacked, body, token)
        assert reply.status_code == 401 and "Lucía" not in reply.text
    reply = call_actions(attacked, action_call("action_show_appointments", CUSTOMER), "nope")
    assert reply.status_code == 401 and "Lucía" not in reply.text
    with session_scope(attacked.env["DATABASE_URL"]) as session:
        assert session.get(Appointment, visit).status == "booked"
    assert requests.get(f"{attacked.actions_url}/health", timeout=5).json()["status"] == "ok"


def test_with_the_secret_actions_still_act_only_for_the_conversations_own_sender(attacked, visit):
    token = attacked.env["ACTION_SERVER_TOKEN"]
    reply = call_actions(
        attacked,
        action_call("action_cancel_appointment", "sec-intruder", {"appointment_to_cancel": float(visit)}),
        token,
    )
    assert reply.status_code == 200
    reply = call_actions(attacked, action_call("action_show_appointments", "sec-intruder"), token)
    assert "Lucía" not in reply.text
    with session_scope(attacked.env["DATABASE_URL"]) as session:
        assert session.get(Appointment, visit).status == "booked"


def test_a_forged_booking_outside_opening_hours_is_refused(attacked, database_url):
    token = attacked.env["ACTION_SERVER_TOKEN"]
    car = new_car(database_url)
    day = datetime.now(timezone.utc).date() + timedelta(days=1)
    while day.weekday() != 1:  # a Tuesday
        day += timedelta(days=1)
    slots = {
        "car_in_focus": car.stock_id,
        "appointment_date": day.isoformat(),
        "appointment_time": "07:00",
        "customer_name": "Forjado Falso",
    }
    reply = call_actions(attacked, action_call("action_book_appointment", "whatsapp:+5215599990000", slots), token)
    assert reply.status_code == 200 and "atendemos" in reply.text
    far = {
        **slots,
        "appointment_date": (datetime.now(timezone.utc).date() + timedelta(days=200)).isoformat(),
        "appointment_time": "11:00",
    }
    call_actions(attacked, action_call("action_book_appointment", "whatsapp:+5215599990000", far), token)
    with session_scope(database_url) as session:
        assert not session.scalars(select(Appointment).where(Appointment.customer_name == "Forjado Falso")).all()


def test_a_forged_score_outside_1_to_5_is_not_stored(attacked, database_url):
    token = attacked.env["ACTION_SERVER_TOKEN"]
    for score in (99, -3, 0):
        call_actions(attacked, action_call("action_save_rating", f"sec-score-{score}", {"msat_score": score}), token)
    with session_scope(database_url) as session:
        assert not session.scalars(select(Rating).where(Rating.sender_id.like("sec-score-%"))).all()


def test_action_errors_are_answered_without_internals(attacked):
    token = attacked.env["ACTION_SERVER_TOKEN"]
    reply = requests.post(
        f"{attacked.actions_url}/webhook",
        data="{not json",
        timeout=30,
        headers={"X-Action-Token": token, "Content-Type": "application/json"},
    )
    assert reply.status_code >= 400
    assert "Traceback" not in reply.text and "not json" not in reply.text
    body = {"next_action": "action_show_appointments", "domain": {}, "sender_id": "sec-secreto"}  # no tracker
    reply = call_actions(attacked, body, token)
    assert reply.status_code == 500 and reply.json() == {"error": "internal error"}


def test_the_action_server_caps_bodies_and_listens_on_loopback_only(attacked):
    big = {"next_action": "action_show_appointments", "padding": "x" * (9 * 1024 * 1024)}
    assert call_actions(attacked, big, attacked.env["ACTION_SERVER_TOKEN"]).status_code == 413
    addresses = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    outside = next((a for a in addresses if "." in a and not a.startswith("127.")), None)
    if outside is None:
        pytest.skip("no address other than loopback on this machine")
    with pytest.raises(OSError):
        socket.create_connection((outside, attacked.actions_port), timeout=2).close()


# --- the Twilio webhook --------------------------------------------------------------------


def twilio_form(sender=CUSTOMER, body="hola", sid=None, **extra):
    sid = sid or "SM" + uuid4().hex
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": sender,
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
        "MessageType": "text",
        **extra,
    }


def signed_post(servers, form, url=None, headers=None, data=None):
    url = url or f"{servers.url}{PATH}"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(servers.env["TWILIO_WEBHOOK_URL"], form)
    return requests.post(
        url,
        data=data if data is not None else form,
        headers={"X-Twilio-Signature": signature, **(headers or {})},
        timeout=60,
    )


def test_a_replayed_message_with_its_fields_run_together_is_refused(attacked):
    """Twilio signs keys and values without separators: 'MessageSid=<sid>MessageTypetext' with no
    MessageType field keeps the signature; the id is then not in Twilio's form."""
    form = twilio_form(body="¿cuándo es mi cita?")
    assert signed_post(attacked, form).status_code == 200
    replay = {k: v for k, v in form.items() if k != "MessageType"}
    replay["MessageSid"] = form["MessageSid"] + "MessageTypetext"
    url = attacked.env["TWILIO_WEBHOOK_URL"]
    validator = RequestValidator(TWILIO_TOKEN)
    assert validator.compute_signature(url, replay) == validator.compute_signature(url, form)  # still signed
    reply = signed_post(attacked, replay)
    assert reply.status_code == 400 and "Lucía" not in reply.text


def test_another_twilio_account_is_refused(attacked):
    reply = signed_post(attacked, twilio_form(AccountSid="AC" + "2" * 32))
    assert reply.status_code == 403


def test_the_signed_url_is_pinned_not_taken_from_the_host_header(attacked):
    form = twilio_form()
    forged_url = f"http://evil.example{PATH}"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(forged_url, form)
    reply = requests.post(
        f"{attacked.url}{PATH}",
        data=form,
        timeout=30,
        headers={"X-Twilio-Signature": signature, "Host": "evil.example"},
    )
    assert reply.status_code == 403


def test_big_bodies_are_refused_before_they_are_parsed(attacked):
    form = twilio_form(body="a" * 20_000)
    assert signed_post(attacked, form).status_code == 413
    huge = "Body=" + "a" * 200_000
    reply = requests.post(
        f"{attacked.url}{PATH}", data=huge, timeout=30, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert reply.status_code == 413


def test_a_long_whatsapp_message_gets_a_note_not_the_bot(attacked):
    sender = "whatsapp:+5215544449999"
    reply = signed_post(attacked, twilio_form(sender=sender, body="busco un auto " * 40))
    assert reply.status_code == 200 and "muy largo" in reply.text
    assert not [e for e in attacked.tracker(sender)["events"] if e["event"] == "user"]


def test_rasa_reads_at_most_its_body_limit_on_any_route(attacked):
    reply = requests.post(
        f"{attacked.url}/webhooks/rest/webhook",
        data=json.dumps({"x": "y" * 100_000}),
        headers={**attacked.rest_headers, "Content-Type": "application/json"},
        timeout=30,
    )
    assert reply.status_code == 413


# --- the production deployment -------------------------------------------------------------


def test_docker_compose_publishes_only_the_rasa_port_and_requires_the_secrets():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    published = {name: service["ports"] for name, service in services.items() if service.get("ports")}
    assert published == {"rasa": ["5005:5005"]}
    assert compose["networks"]["backend"] == {"internal": True}
    for name in ("postgres", "redis", "migrate"):
        assert services[name]["networks"] == ["backend"], name
    settings = services["actions"]["environment"]
    for name in ("ACTION_SERVER_TOKEN", "TWILIO_WEBHOOK_URL"):
        assert settings[name].startswith("${" + name + ":?"), f"{name} must be required"
    assert services["rasa"]["environment"]["REST_API_TOKEN"] == "${REST_API_TOKEN:-}"  # closed by default
    assert "--enable-api" not in services["rasa"]["command"]
