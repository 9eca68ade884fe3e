"""The action server trusts only Rasa: a shared secret on every call, bounded bodies, no internals in errors.

Attached to rasa-sdk's Sanic app by its plugin hook (rasa_sdk_plugins/). Rasa sends
`X-Action-Token: <ACTION_SERVER_TOKEN>` on every call (endpoints.yml). A call without
it, or with another, gets 401 and runs nothing; with ACTION_SERVER_TOKEN empty every
call is refused (`make run` and `make shell` make one up for each start). Bodies over
ACTIONS_MAX_BODY_BYTES (8 MB: a long conversation's tracker) get 413 before they are
read. An error is logged in full (by rasa-sdk) and answered with a plain message. The server binds
to SANIC_HOST, which the scripts set to 127.0.0.1 unless ACTIONS_HOST says otherwise.
"""

from __future__ import annotations

import hmac
import logging

from sanic import Sanic, response
from sanic.request import Request

from settings import current as current_settings

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Action-Token"
OPEN_PATHS = {"/health"}


def expected_token() -> str:
    return current_settings().action_server_token


def authorised(request: Request, token: str) -> bool:
    given = request.headers.get(TOKEN_HEADER, "")
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def attach(app: Sanic) -> None:
    """Add the token check, the body limit and the plain error answers to the app."""
    limit = current_settings().actions_max_body_bytes
    app.config.REQUEST_MAX_SIZE = limit  # a body without Content-Length is cut there
    token = expected_token()
    if not token:
        logger.error("ACTION_SERVER_TOKEN is empty: every action call will be refused (401)")

    @app.on_request
    async def check_token(request: Request):
        if request.path not in OPEN_PATHS and not authorised(request, token):
            logger.warning("Action call refused: missing or wrong %s", TOKEN_HEADER)
            return response.json({"error": "unauthorised"}, status=401)
        declared = request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            return response.json({"error": "body too large"}, status=413)

    @app.on_response
    async def plain_errors(request: Request, answer):
        # rasa-sdk logs the error in full; its answer carries the exception and the request body.
        if answer.status >= 500:
            return response.json({"error": "internal error"}, status=answer.status)
