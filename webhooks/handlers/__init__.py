"""The one place where event families are composed: event name → handler."""

from __future__ import annotations

from collections.abc import Callable

from webhooks.handlers import installation, issues, pull_request, push
from webhooks.handlers.base import Decision, Payload

Handler = Callable[[str, Payload], Decision]

HANDLERS: dict[str, Handler] = {
    event: module.handle for module in (push, issues, pull_request, installation) for event in module.EVENTS
}

__all__ = ["HANDLERS", "Decision", "Handler"]
