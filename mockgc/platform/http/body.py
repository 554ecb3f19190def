"""Request parsing shared by the blueprints: JSON bodies, the backend, and v1's delayed answers."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request

from mockgc.platform.domain.backend import Platform, Waited
from mockgc.platform.domain.errors import BadRequest, UnsupportedMediaType

_MISSING = object()


def backend() -> Platform:
    return current_app.extensions["mockgc"].platform


def json_body(default: Any = _MISSING) -> Any:
    """The request's JSON; an empty body gives `default` when one is allowed."""
    raw = request.get_data(cache=True)
    if not raw:
        if default is not _MISSING:
            return default
        raise BadRequest("A JSON request body is required.")
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None


def deliver(waited: Waited) -> dict[str, Any]:
    """Hold the answer until the v1 publish has let go of the agent (no-op on v2)."""
    if waited.ready_at is not None:
        backend().clock.wait_until(waited.ready_at)
    return waited.body
