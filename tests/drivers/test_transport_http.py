"""The live HTTP transport's error classification and request building, against requests-mock (no server)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import requests_mock as rm

from mockgc.drivers.http import ROUTES, HttpTransport, build_request, reply_from
from mockgc.flows.effects import Reply, completion_type
from mockgc.flows.history import History

BASE = "http://mock.test"
SET_DATA_URL = f"{BASE}/api/v2/scripts/sessions/s1/variables/preferenceCode"
SET_DATA = {"sessionId": "s1", "name": "preferenceCode", "value": "PREF-AB-1234"}
LOCKED_BODY = {
    "message": "Script session s1 is locked: agent a1 is held by WFM schedule publish operation op1",
    "code": "bad.request",
    "status": 400,
    "contextId": "ctx-1",
    "details": [{"errorCode": "script.session.locked", "fieldName": "sessionId", "entityId": "s1"}],
    "errors": [],
}


@pytest.fixture
def transport() -> HttpTransport:
    return HttpTransport(BASE, token="tok", timeout=2.5)


# --- classification ---------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202])
def test_2xx_is_ok(transport: HttpTransport, requests_mock: rm.Mocker, status: int) -> None:
    body = {"sessionId": "s1", "name": "preferenceCode", "value": "PREF-AB-1234", "version": 2}
    requests_mock.put(SET_DATA_URL, status_code=status, json=body)
    reply = transport.call("set_data", SET_DATA)
    assert reply.status == status
    assert reply.ok
    assert completion_type(reply) == "ok"
    assert reply.body == body
    assert reply.error is None


def test_202_without_body(transport: HttpTransport, requests_mock: rm.Mocker) -> None:
    url = f"{BASE}/api/v2/conversations/c1/participants/p1/attributes"
    requests_mock.patch(url, status_code=202, content=b"")
    reply = transport.call(
        "patch_attributes", {"conversationId": "c1", "participantId": "p1", "attributes": {"a": "b"}}
    )
    assert (reply.status, reply.body, completion_type(reply)) == (202, None, "ok")


def test_400_platform_error_is_a_definite_failure(transport: HttpTransport, requests_mock: rm.Mocker) -> None:
    requests_mock.put(SET_DATA_URL, status_code=400, json=LOCKED_BODY, headers={"ININ-Correlation-Id": "ctx-1"})
    reply = transport.call("set_data", SET_DATA)
    assert reply.status == 400
    assert not reply.ok
    assert reply.definite_failure
    assert completion_type(reply) == "fail"
    assert reply.code == "bad.request"
    assert reply.detail_code == "script.session.locked"
    assert reply.retry_after is None


def test_400_detail_code_lands_in_the_history(transport: HttpTransport, requests_mock: rm.Mocker) -> None:
    requests_mock.put(SET_DATA_URL, status_code=400, json=LOCKED_BODY)
    history = History()
    history.complete("p0", "k1", "set_data", transport.call("set_data", SET_DATA), 1.0)
    entry = history.entries[0]
    assert (entry["type"], entry["status"], entry["code"], entry["value"]) == (
        "fail",
        400,
        "script.session.locked",
        None,
    )


def test_error_without_details_has_only_a_code(transport: HttpTransport, requests_mock: rm.Mocker) -> None:
    requests_mock.put(SET_DATA_URL, status_code=400, json={"code": "invalid.value", "status": 400, "details": []})
    reply = transport.call("set_data", SET_DATA)
    assert (reply.code, reply.detail_code) == ("invalid.value", None)


@pytest.mark.parametrize(("header", "expected"), [("3", 3.0), ("0.5", 0.5), ("-2", 0.0), ("soon", None)])
def test_429_retry_after(
    transport: HttpTransport, requests_mock: rm.Mocker, header: str, expected: float | None
) -> None:
    body = {"message": "Rate limit exceeded the maximum. Retry the request in [3] seconds", "code": "too.many.requests.retry.after", "status": 429}  # fmt: skip
    requests_mock.put(SET_DATA_URL, status_code=429, json=body, headers={"Retry-After": header})
    reply = transport.call("set_data", SET_DATA)
    assert reply.status == 429
    assert completion_type(reply) == "fail"
    assert reply.code == "too.many.requests.retry.after"
    assert reply.retry_after == expected


def test_429_without_retry_after(transport: HttpTransport, requests_mock: rm.Mocker) -> None:
    requests_mock.put(SET_DATA_URL, status_code=429, json={"code": "too.many.requests"})
    assert transport.call("set_data", SET_DATA).retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_indeterminate(transport: HttpTransport, requests_mock: rm.Mocker, status: int) -> None:
    requests_mock.put(SET_DATA_URL, status_code=status, json={"code": "internal.server.error", "status": status})
    reply = transport.call("set_data", SET_DATA)
    assert reply.status == status
    assert not reply.ok
    assert not reply.definite_failure
    assert completion_type(reply) == "info"


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectionError("connection reset by peer"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("body cut short"),
    ],
    ids=["connection-error", "connect-timeout", "read-timeout", "chunked"],
)
def test_no_answer_is_status_0(transport: HttpTransport, requests_mock: rm.Mocker, exc: Exception) -> None:
    requests_mock.put(SET_DATA_URL, exc=exc)
    reply = transport.call("set_data", SET_DATA)
    assert reply.status == 0
    assert reply.body is None
    assert completion_type(reply) == "info"
    assert reply.error is not None
    assert type(exc).__name__ in reply.error
    assert str(exc) in reply.error
    assert len(reply.error) <= 300


def test_timeout_is_passed_to_requests(transport: HttpTransport, requests_mock: rm.Mocker) -> None:
    requests_mock.put(SET_DATA_URL, json={})
    transport.call("set_data", SET_DATA)
    assert requests_mock.last_request.timeout == 2.5


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"), (b"\xffnot utf8", "\ufffdnot utf8")],
)
def test_non_json_body_is_kept_as_text(
    transport: HttpTransport, requests_mock: rm.Mocker, content: bytes, expected: str
) -> None:
    requests_mock.put(SET_DATA_URL, status_code=502, content=content, headers={"Content-Type": "text/html"})
    reply = transport.call("set_data", SET_DATA)
    assert reply.status == 502
    assert reply.body == expected
    assert reply.code is None and reply.detail_code is None
    assert completion_type(reply) == "info"


def test_reply_from_text_and_empty() -> None:
    assert reply_from(200, '{"a": 1}', {}).body == {"a": 1}
    assert reply_from(200, "plain", {}).body == "plain"
    assert reply_from(204, b"", {}).body is None
    assert reply_from(204, None, {}).body is None
    assert reply_from(429, b"{}", {"Retry-After": "7"}) == Reply(429, {}, retry_after=7.0)


# --- the requests it sends ------------------------------------------------------------

PARAMS: dict[str, dict[str, Any]] = {
    "create_call": {"userId": "a1"},
    "create_session": {"userId": "a1", "conversationId": "c1"},
    "set_data": {"sessionId": "s1", "name": "preferenceCode", "value": "V"},
    "read_session": {"sessionId": "s1"},
    "evaluate": {"sessionId": "s1", "variable": "preferenceCode"},
    "attach": {"sessionId": "s1"},
    "patch_attributes": {"conversationId": "c1", "participantId": "p1", "attributes": {"err": "400"}},
    "list_operations": {"businessUnitId": "bu1"},
    "script_data": {"updates": [{"sessionId": "s1", "name": "preferenceCode", "value": "V"}]},
}
EXPECTED: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "create_call": ("POST", "/api/v2/conversations/calls", {"callUserId": "a1"}),
    "create_session": ("POST", "/api/v2/scripts/sessions", {"userId": "a1", "conversationId": "c1"}),
    "set_data": ("PUT", "/api/v2/scripts/sessions/s1/variables/preferenceCode", {"value": "V"}),
    "read_session": ("GET", "/api/v2/scripts/sessions/s1", None),
    "evaluate": ("POST", "/api/v2/scripts/sessions/s1/evaluate", {"variable": "preferenceCode"}),
    "attach": ("POST", "/api/v2/scripts/sessions/s1/attach", {}),
    "patch_attributes": (
        "PATCH",
        "/api/v2/conversations/c1/participants/p1/attributes",
        {"attributes": {"err": "400"}},
    ),
    "list_operations": ("GET", "/api/v2/workforcemanagement/businessunits/bu1/operations", None),
    "script_data": (
        "PUT",
        "/api/v2/analytics/script-data",
        {"updates": [{"sessionId": "s1", "name": "preferenceCode", "value": "V"}]},
    ),
}


def test_every_operation_is_covered() -> None:
    assert set(PARAMS) == set(ROUTES) == set(EXPECTED)


@pytest.mark.parametrize("op", sorted(ROUTES))
def test_build_request(op: str) -> None:
    params = dict(PARAMS[op])
    assert build_request(op, params) == EXPECTED[op]
    assert params == PARAMS[op]  # the caller's params are not consumed


@pytest.mark.parametrize("op", sorted(ROUTES))
def test_each_operation_on_the_wire(transport: HttpTransport, requests_mock: rm.Mocker, op: str) -> None:
    method, path, body = EXPECTED[op]
    requests_mock.register_uri(method, BASE + path, status_code=200, json={"ok": True})
    assert transport.call(op, PARAMS[op]).ok
    sent = requests_mock.last_request
    assert sent.method == method
    assert sent.path == path.lower()  # requests-mock lower-cases the path it reports
    assert sent.headers["Authorization"] == "Bearer tok"
    assert (sent.json() if sent.body else None) == body


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("my var", "my%20var"), ("a/b", "a%2Fb"), ("x?y#z", "x%3Fy%23z"), ("100%", "100%25"), ("ü", "%C3%BC")],
)
def test_path_params_are_url_quoted(name: str, quoted: str) -> None:
    _method, path, body = build_request("set_data", {"sessionId": "s/1", "name": name, "value": "V"})
    assert path == f"/api/v2/scripts/sessions/s%2F1/variables/{quoted}"
    assert body == {"value": "V"}


def test_quoted_path_reaches_the_wire_unchanged(transport: HttpTransport, requests_mock: rm.Mocker) -> None:
    requests_mock.put(rm.ANY, json={})
    transport.call("set_data", {"sessionId": "s1", "name": "pref code/v2", "value": "V"})
    assert requests_mock.last_request.url == f"{BASE}/api/v2/scripts/sessions/s1/variables/pref%20code%2Fv2"


def test_unknown_operation_and_missing_path_param() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        build_request("drop_table", {})
    with pytest.raises(KeyError):
        build_request("set_data", {"name": "x", "value": "V"})


def test_create_call_sends_call_user_id(transport: HttpTransport, requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE}/api/v2/conversations/calls", json={"id": "c1"})
    reply = transport.call("create_call", {"userId": "agent-7"})
    assert reply.body == {"id": "c1"}
    assert requests_mock.last_request.json() == {"callUserId": "agent-7"}


def test_base_url_trailing_slash(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/api/v2/scripts/sessions/s1", json={"id": "s1"})
    assert HttpTransport(BASE + "/").call("read_session", {"sessionId": "s1"}).body == {"id": "s1"}


# --- authentication ---------------------------------------------------------------------


def test_authenticate_sets_the_bearer(requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE}/oauth/token", json={"access_token": "abc", "token_type": "bearer", "expires_in": 86400})
    requests_mock.get(f"{BASE}/api/v2/scripts/sessions/s1", json={})
    transport = HttpTransport(BASE)
    assert transport.authenticate("id", "secret") == "abc"
    token_request = requests_mock.request_history[0]
    assert token_request.headers["Authorization"] == "Basic aWQ6c2VjcmV0"  # base64("id:secret")
    assert token_request.text == "grant_type=client_credentials"
    transport.call("read_session", {"sessionId": "s1"})
    assert requests_mock.last_request.headers["Authorization"] == "Bearer abc"


def test_authenticate_failure_raises(requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE}/oauth/token", status_code=401, json={"error": "invalid_client"})
    with pytest.raises(PermissionError, match="401"):
        HttpTransport(BASE).authenticate("id", "wrong")
