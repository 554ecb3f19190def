"""Transports turn a flow's Call into a Reply: in process against the domain, or over live HTTP."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote

import requests

from mockgc.flows.effects import OPERATIONS, Reply
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import PlatformError
from mockgc.platform.domain.publish_lock import Waited
from mockgc.platform.http import analytics, conversations, scripts, wfm
from mockgc.platform.http.errors import error_body


def build_request(op: str, params: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
    """(method, path, JSON body) for an operation; path parameters are taken out of the body."""
    try:
        method, template = OPERATIONS[op]
    except KeyError:
        raise ValueError(f"unknown operation {op!r}") from None
    body = dict(params)
    path = template
    while "{" in path:
        name = path[path.index("{") + 1 : path.index("}")]
        path = path.replace("{" + name + "}", quote(str(body.pop(name)), safe=""))
    if op == "create_call":
        body = {"callUserId": body.pop("userId"), **body}
    return method, path, (body if method != "GET" else None)


MAX_RETRY_AFTER = 3600.0  # a client must never be told to sleep forever


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # the HTTP-date form: Genesys always sends seconds
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def reply_from(status: int, text: str | bytes | None, headers: Any) -> Reply:
    """A Reply from a raw HTTP answer; a body that is not JSON is kept as text."""
    body: Any = None
    if text:
        try:
            body = json.loads(text)
        except ValueError:
            body = text if isinstance(text, str) else text.decode(errors="replace")
    return Reply(status, body, retry_after=parse_retry_after(headers.get("Retry-After")))


def _body(params: dict[str, Any], *path: str) -> dict[str, Any]:
    """The JSON body of a call: its params without the ones the route takes from the path."""
    return {k: v for k, v in params.items() if k not in path}


class InProcessTransport:
    """Calls the domain directly, through the HTTP layer's own parsers and serializers: its replies
    (a PlatformError's included) are the ones the HTTP layer would give."""

    def __init__(self, platform: Platform) -> None:
        p = platform
        self._handlers: dict[str, Any] = {
            "create_call": lambda a: p.conversations.create_call(
                conversations.parse_call({"callUserId": a["userId"]})
            ).reference_to_api(),
            "create_session": lambda a: p.scripts.create(*scripts.parse_new_session(a)).to_api(),
            "set_data": lambda a: p.scripts.set_variable(
                a["sessionId"], *scripts.parse_write(a["name"], _body(a, "sessionId", "name"))
            ),
            "read_session": lambda a: p.scripts.get(a["sessionId"]),
            "evaluate": lambda a: p.scripts.evaluate(a["sessionId"], scripts.parse_evaluate(_body(a, "sessionId"))),
            "attach": lambda a: p.scripts.attach(a["sessionId"]).to_api(),
            "patch_attributes": lambda a: p.conversations.patch_attributes(
                a["conversationId"],
                a["participantId"],
                conversations.parse_attributes(_body(a, "conversationId", "participantId")),
            ),
            "list_operations": lambda a: wfm.operations_to_api(p.wfm.list_operations(a["businessUnitId"])),
            "script_data": lambda a: p.scripts.update_many(
                analytics.parse_script_data(a, p.settings.script_data_chunk_limit)
            ),
        }
        self._statuses = {"create_session": 201, "patch_attributes": 202}

    def register(self, op: str, handler: Any, status: int = 200) -> None:
        """Add an operation served in process (e.g. a simulated worker or store service)."""
        self._handlers[op] = handler
        self._statuses[op] = status

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        try:
            result = self._handlers[op](params)
        except PlatformError as error:
            return Reply(error.status, error_body(error, ""), retry_after=error.retry_after)
        if isinstance(result, Waited):
            return Reply(200, result.value.to_api(), ready_at=result.ready_at)
        return Reply(self._statuses.get(op, 200), result)


class HttpTransport:
    """Live HTTP with requests and a keep-alive session; no answer at all becomes status 0."""

    def __init__(
        self, base_url: str, token: str | None = None, *, timeout: float = 30.0, session: requests.Session | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = session or requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def authenticate(self, client_id: str, client_secret: str) -> str:
        response = self.http.post(
            f"{self.base_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
            timeout=self.timeout,
        )
        if response.status_code != 200:
            raise PermissionError(f"token request answered {response.status_code}: {response.text[:200]}")
        token = str(response.json()["access_token"])
        self.http.headers["Authorization"] = f"Bearer {token}"
        return token

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        method, path, body = build_request(op, params)
        try:
            response = self.http.request(method, self.base_url + path, json=body, timeout=self.timeout)
        except requests.RequestException as error:
            return Reply(0, None, error=f"{type(error).__name__}: {error}"[:300])
        return reply_from(response.status_code, response.content, response.headers)
