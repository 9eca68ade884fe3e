"""A person when the customer asks, end to end against the running servers: the request, the
staff notice (a local fake of Twilio and a local webhook receiver), the assistant silent while
held, staff's reply delivered over WhatsApp, the hand-back, and the hold timing out."""

from __future__ import annotations

import json
import random
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import select, update

from actions import db
from actions.appointments.times import Settings
from actions.handoff.handoffs import Summary, last_messages, when_answered
from actions.knowledge.actions import misunderstood_last_time
from actions.texts import say
from tests.fake_twilio import FakeTwilio
from tests.servers import ROOT, Servers

STAFF = "whatsapp:+5215599990000"


class WebhookReceiver:
    """Records the JSON bodies POSTed to it, like a CRM's endpoint."""

    def __init__(self) -> None:
        self.received: list = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/handoffs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def wait_for(condition, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


@pytest.fixture(scope="module")
def staffed(tmp_path_factory, database_url):
    """Servers whose handoffs reach staff through the fake Twilio and a webhook, with the inbox."""
    with FakeTwilio() as twilio:
        webhook = WebhookReceiver()
        env = {**twilio.env(), "STAFF_WHATSAPP_NUMBER": STAFF, "HANDOFF_WEBHOOK_URL": webhook.url}
        running = Servers(tmp_path_factory.mktemp("staffed"), database_url, env=env).start()
        running.start_inbox()
        yield running, twilio, webhook
        running.stop()
        webhook.server.shutdown()


def customer() -> str:
    return f"whatsapp:+52155{random.randint(10**7, 10**8 - 1)}"


def staff_session(servers: Servers) -> requests.Session:
    session = requests.Session()
    answer = session.post(f"{servers.inbox_url}/login", data={"token": servers.env["STAFF_TOKEN"]}, timeout=10)
    assert answer.ok and "Asesorías abiertas" in answer.text
    return session


def open_handoff_of(database_url: str, sender: str) -> db.Handoff:
    with db.session_scope(database_url) as session:
        found = session.scalars(select(db.Handoff).where(db.Handoff.sender_id == sender)).all()
        session.expunge_all()
    return found[-1] if found else None


def test_a_handoff_from_request_to_hand_back(staffed, database_url):
    servers, twilio, webhook = staffed
    sender = customer()
    assert "Nissan Versa" in servers.say_text(sender, "busco un nissan versa")
    servers.say_text(sender, "el 1")
    reply = servers.say_text(sender, "pasame con un asesor porfa")
    assert "asesor" in reply and "horario" in reply

    notice = wait_for(lambda: [m for m in twilio.messages if m["To"] == STAFF])[0]
    assert "Un cliente pide un asesor" in notice["Body"] and "Nissan Versa" in notice["Body"]
    posted = wait_for(lambda: [b for b in webhook.received if b["sender_id"] == sender])[0]
    assert posted["event"] == "handoff" and posted["reason"] == "asked" and "Nissan Versa" in posted["car"]
    assert posted["last_messages"][-1]["text"] == "pasame con un asesor porfa"

    # held: the assistant says once that a person will reply, then nothing; staff get every message
    assert servers.say_text(sender, "hola? sigues ahi") == say("utter_handoff_held")
    assert servers.say_text(sender, "es que lo quiero para el sabado") == ""
    user_texts = [e.get("text") for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    assert "es que lo quiero para el sabado" not in user_texts  # the assistant never saw it

    staff = staff_session(servers)
    handoff = open_handoff_of(database_url, sender)
    page = staff.get(f"{servers.inbox_url}/", timeout=10).text
    assert "es que lo quiero para el sabado" in page and "Nissan Versa" in page
    staff.post(f"{servers.inbox_url}/handoffs/{handoff.id}/reply", data={"text": "Hola, soy Ana de Kavak"}, timeout=10)
    delivered = wait_for(lambda: [m for m in twilio.messages if m["To"] == sender])
    assert delivered[0]["Body"] == "Hola, soy Ana de Kavak"

    staff.post(f"{servers.inbox_url}/handoffs/{handoff.id}/return", timeout=10)
    assert wait_for(lambda: len([m for m in twilio.messages if m["To"] == sender]) == 2)
    assert [m for m in twilio.messages if m["To"] == sender][1]["Body"] == say("utter_handoff_back")
    assert f'id="h{handoff.id}"' not in staff.get(f"{servers.inbox_url}/", timeout=10).text  # off the list

    details = servers.say_text(sender, "dame mas detalles del 1")  # the assistant again, with its list
    assert "Nissan Versa" in details and "Precio" in details
    with db.session_scope(database_url) as session:
        closed = session.get(db.Handoff, handoff.id)
        kept = session.scalars(select(db.HandoffMessage).where(db.HandoffMessage.handoff_id == handoff.id)).all()
        assert (closed.status, closed.closed_reason) == ("closed", "staff") and closed.first_reply_at
        assert [(m.author, m.text) for m in kept][:3] == [
            ("customer", "hola? sigues ahi"),
            ("customer", "es que lo quiero para el sabado"),
            ("staff", "Hola, soy Ana de Kavak"),
        ]


def test_without_a_staff_reply_the_hold_times_out_and_the_assistant_is_back(staffed, database_url):
    servers, _, _ = staffed
    sender = customer()
    servers.say_text(sender, "quiero hablar con una persona")
    assert servers.say_text(sender, "bueno?") == say("utter_handoff_held")
    with db.session_scope(database_url) as session:  # no staff reply for longer than the timeout
        session.execute(
            update(db.Handoff)
            .where(db.Handoff.sender_id == sender)
            .values(last_activity_at=datetime.now(timezone.utc) - timedelta(minutes=31))
        )
    reply = servers.say_text(sender, "busco un nissan versa")
    assert reply.startswith(say("utter_handoff_back_timeout")) and "Nissan Versa" in reply
    assert open_handoff_of(database_url, sender).closed_reason == "timeout"


def test_the_inbox_refuses_without_the_staff_token(staffed):
    servers, _, _ = staffed
    assert "/login" in requests.get(f"{servers.inbox_url}/", timeout=10).url
    wrong = requests.post(f"{servers.inbox_url}/login", data={"token": "guess"}, timeout=10)
    assert wrong.status_code == 401 and "Clave incorrecta" in wrong.text
    forged = requests.post(f"{servers.inbox_url}/handoffs/1/return", allow_redirects=False, timeout=10)
    assert forged.status_code in (302, 303) and forged.headers["Location"] == "/login"


SCREENSHOT = ROOT / "var" / "test-results" / "staff-inbox.png"


@pytest.fixture
def browser():
    """Debian's chromium, headless, at a phone's size (make test installs it: scripts/browser.sh)."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium and chromedriver not installed (scripts/browser.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    # A phone's screen (a window cannot be made this narrow on the desktop).
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 1400, "pixelRatio": 2}}
    )
    driver = webdriver.Chrome(service=ChromeService(shutil.which("chromedriver")), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def submit_and_reload(browser, button) -> None:
    """Click a form's button and wait until the page it posts to has replaced this one."""
    old_page = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 20).until(expected_conditions.staleness_of(old_page))
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return document.readyState") == "complete")


def test_the_staff_inbox_in_a_browser_lists_replies_and_hands_back(staffed, database_url, browser):
    servers, twilio, _ = staffed
    sender = customer()
    servers.say_text(sender, "busco una camioneta automatica")
    servers.say_text(sender, "el 2")
    servers.say_text(sender, "quiero hablar con un asesor")
    servers.say_text(sender, "¿me la pueden apartar hoy?")
    number = sender.replace("whatsapp:", "")

    browser.get(f"{servers.inbox_url}/")
    assert browser.current_url.endswith("/login")  # not signed in
    browser.find_element(By.NAME, "token").send_keys(servers.env["STAFF_TOKEN"])
    submit_and_reload(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    card = browser.find_element(By.XPATH, f"//section[contains(@class, 'handoff')][.//h2[contains(., '{number}')]]")
    assert "¿me la pueden apartar hoy?" in card.text and "Auto" in card.text
    assert browser.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]") == [390, 390]
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))

    card.find_element(By.NAME, "text").send_keys("¡Claro! Te la aparto hasta las 6 pm. Soy Luis, de Kavak.")
    submit_and_reload(browser, card.find_element(By.CSS_SELECTOR, "button.send"))
    to_customer = wait_for(lambda: [m for m in twilio.messages if m["To"] == sender])
    assert to_customer[0]["Body"] == "¡Claro! Te la aparto hasta las 6 pm. Soy Luis, de Kavak."
    card = browser.find_element(By.XPATH, f"//section[contains(@class, 'handoff')][.//h2[contains(., '{number}')]]")
    assert "Soy Luis, de Kavak" in card.text  # kept with the conversation

    submit_and_reload(browser, card.find_element(By.CSS_SELECTOR, "button.back"))
    assert number not in browser.find_element(By.TAG_NAME, "main").text
    back = wait_for(lambda: [m for m in twilio.messages if m["To"] == sender][1:])
    assert back[0]["Body"] == say("utter_handoff_back")
    assert "Precio" in servers.say_text(sender, "dame mas detalles del 2")  # the assistant answers again


# --------------------------------------------------------------------------- plain Python


def test_staff_are_told_when_the_customer_will_hear_from_them():
    hours = Settings.from_env()  # lun-vie 09:00-18:00; sab 09:00-14:00
    wednesday_noon = datetime(2026, 12, 2, 12, 0, tzinfo=hours.tz)
    assert when_answered(wednesday_noon, hours) == "en unos minutos"
    assert when_answered(wednesday_noon.replace(hour=20), hours) == "mañana a partir de las 9:00"
    saturday_evening = datetime(2026, 12, 5, 16, 0, tzinfo=hours.tz)
    assert when_answered(saturday_evening, hours).startswith("el lunes 7 de diciembre a partir de las 9:00")


def test_a_person_is_offered_after_two_misunderstood_messages_in_a_row():
    default = say("utter_default")
    first = [{"event": "user", "text": "asdf"}, {"event": "bot", "text": default}]
    assert not misunderstood_last_time([{"event": "user", "text": "asdf"}])
    assert misunderstood_last_time([*first, {"event": "user", "text": "qwer"}])
    understood = [*first, {"event": "user", "text": "hola"}, {"event": "bot", "text": "¡Hola!"}]
    assert not misunderstood_last_time([*understood, {"event": "user", "text": "qwer"}])


def test_the_staff_notice_carries_what_they_need_and_fits_whatsapp():
    summary = Summary(
        sender_id="whatsapp:+5215512345678",
        reason="asked",
        name="Andrea López",
        car="Nissan Versa 2021 (stock 123)",
        search="Nissan · hasta $300,000",
        plan="$60,000 de enganche, 48 meses de $6,000",
        visit="lunes 7 de diciembre 10:30, Nissan Versa 2021",
        last_messages=[{"author": "cliente", "text": "x" * 900}] * 8,
    )
    notice = summary.as_text()
    for part in ("+5215512345678", "Andrea López", "Nissan Versa 2021", "hasta $300,000", "48 meses", "10:30"):
        assert part in notice
    assert len(notice) <= 1600


def test_a_long_message_in_the_summary_is_cut_at_a_line_never_inside_a_price():
    listing = "\n".join(f"{n}️⃣ 🚗 *Nissan Versa 2021*\n💰 $289,999 · 🛣️ 38,500 km" for n in range(1, 13))
    shown = last_messages([{"event": "user", "text": "busco un versa"}, {"event": "bot", "text": listing}])
    assert [m["author"] for m in shown] == ["cliente", "asistente"]
    text = shown[1]["text"]
    assert len(text) <= 502 and text.endswith("\n…")
    assert all(line.endswith(("*", "km")) for line in text.split("\n")[:-1])  # whole lines only
