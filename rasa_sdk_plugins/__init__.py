"""rasa-sdk's plugin hook: rasa-sdk imports this package at start and calls `init_hooks`.

It attaches `actions.guard` to the action server's Sanic app: only callers with the
shared ACTION_SERVER_TOKEN run actions, bodies are bounded, and errors are answered
without internals.
"""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("rasa_sdk")


class _Guard:
    @hookimpl
    def attach_sanic_app_extensions(self, app) -> None:
        from actions.guard import attach

        attach(app)


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(_Guard())
