"""The staff inbox: open handoffs with their summary and messages; reply over WhatsApp, hand back.

Server-rendered HTML that works on a phone, behind STAFF_TOKEN (a login form sets
an HttpOnly, SameSite=Strict cookie; with STAFF_TOKEN empty nobody gets in). Its
own process, so the action server stays private:

    python -m actions.handoff.inbox        (`make run` starts it on ACTIONS_HOST:STAFF_INBOX_PORT)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.handoff.handoffs import hand_back, open_handoffs, staff_reply
from settings import current as current_settings

logger = logging.getLogger(__name__)

COOKIE = "kavak_staff"
MAX_REPLY_CHARS = 1500
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html"])
)


def _session_value(token: str) -> str:
    """What the cookie holds: a digest of the token, not the token itself."""
    return hashlib.sha256(f"kavak-staff:{token}".encode()).hexdigest()


def _signed_in(request: Request) -> bool:
    token = current_settings().staff_token
    given = request.cookies.get(COOKIE, "")
    return bool(token) and hmac.compare_digest(given.encode(), _session_value(token).encode())


def _page(name: str, status: int = 200, **values) -> HTTPResponse:
    return response.html(_templates.get_template(name).render(**values), status=status)


def create_app() -> Sanic:
    app = Sanic("kavak_staff_inbox")

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/login")
    async def login_form(_: Request) -> HTTPResponse:
        return _page("login.html")

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        token = current_settings().staff_token
        given = (request.form.get("token") or "").strip()
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            logger.warning("Staff inbox: wrong token")
            return _page("login.html", status=401, error="Clave incorrecta.")
        answer = response.redirect("/")
        answer.add_cookie(COOKIE, _session_value(token), httponly=True, samesite="Strict", secure=False, path="/")
        return answer

    @app.get("/")
    async def inbox(request: Request) -> HTTPResponse:
        if not _signed_in(request):
            return response.redirect("/login")
        return _page("inbox.html", held=await asyncio.to_thread(open_handoffs))

    @app.post("/handoffs/<handoff_id:int>/reply")
    async def reply(request: Request, handoff_id: int) -> HTTPResponse:
        if not _signed_in(request):
            return response.redirect("/login")
        text = (request.form.get("text") or "").strip()[:MAX_REPLY_CHARS]
        if text:
            await asyncio.to_thread(staff_reply, handoff_id, text)
        return response.redirect(f"/#h{handoff_id}")

    @app.post("/handoffs/<handoff_id:int>/return")
    async def give_back(request: Request, handoff_id: int) -> HTTPResponse:
        if not _signed_in(request):
            return response.redirect("/login")
        await asyncio.to_thread(hand_back, handoff_id)
        return response.redirect("/")

    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    given = current_settings()
    if not given.staff_token:
        logger.warning("STAFF_TOKEN is empty: the staff inbox lets nobody in")
    create_app().run(
        host=given.actions_host, port=given.staff_inbox_port, single_process=True, access_log=False, motd=False
    )


if __name__ == "__main__":
    main()
