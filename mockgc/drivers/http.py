"""The HTTP transport: each platform operation a flow may call, as the request it is, over live HTTP."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote

import requests

from mockgc.flows.effects import Reply

# Every platform operation a flow may call, and the HTTP request each one is.
ROUTES: dict[str, tuple[str, str]] = {
    "create_call": ("POST", "/api/v2/conversations/calls"),
    "create_session": ("POST", "/api/v2/scripts/sessions"),
    "set_data": ("PUT", "/api/v2/scripts/sessions/{sessionId}/variables/{name}"),
    "read_session": ("GET", "/api/v2/scripts/sessions/{sessionId}"),
    "evaluate": ("POST", "/api/v2/scripts/sessions/{sessionId}/evaluate"),
    "attach": ("POST", "/api/v2/scripts/sessions/{sessionId}/attach"),
    "patch_attributes": ("PATCH", "/api/v2/conversations/{conversationId}/participants/{participantId}/attributes"),
    "list_operations": ("GET", "/api/v2/workforcemanagement/businessunits/{businessUnitId}/operations"),
    "script_data": ("PUT", "/api/v2/analytics/script-data"),
}


def build_request(op: str, params: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
    """(method, path, JSON body) for an operation; path parameters are taken out of the body."""
    try:
        method, template = ROUTES[op]
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
