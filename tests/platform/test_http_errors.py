"""OAuth, authentication, rate limiting, correlation ids and the platform error body over HTTP."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mockgc.clock import VirtualClock
from tests.conftest import CLIENT_ID, CLIENT_SECRET, basic

ERROR_KEYS = {"message", "code", "status", "contextId", "details", "errors"}
TOKEN_FORM = {"grant_type": "client_credentials"}


def assert_error(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == status, body
    assert isinstance(body, dict) and set(body) >= ERROR_KEYS, body
    assert (body["status"], body["code"]) == (status, code)
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list) and body["errors"] == []
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    return body


# -- OAuth ---------------------------------------------------------------------


def test_client_credentials_grant(client: FlaskClient, settings: Any) -> None:
    response = client.post("/oauth/token", data=TOKEN_FORM, headers={"Authorization": basic()})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.org.token_ttl_seconds
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 32
    assert response.headers["ININ-Correlation-Id"]
    again = client.post("/oauth/token", data=TOKEN_FORM, headers={"Authorization": basic()}).json
    assert again["access_token"] != body["access_token"]


def test_client_credentials_in_the_form_are_accepted(client: FlaskClient) -> None:
    form = TOKEN_FORM | {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    response = client.post("/oauth/token", data=form)
    assert response.status_code == 200 and response.json["token_type"] == "bearer"


@pytest.mark.parametrize(
    ("headers", "form", "status", "error", "description"),
    [
        # One answer for a wrong secret and an unknown client: no telling which client ids exist.
        ({"Authorization": basic(secret="wrong")}, TOKEN_FORM, 401, "invalid_client", "client authentication failed"),
        (
            {"Authorization": basic(client_id="nobody")},
            TOKEN_FORM,
            401,
            "invalid_client",
            "client authentication failed",
        ),
        ({"Authorization": basic(secret="sécret")}, TOKEN_FORM, 401, "invalid_client", "client authentication failed"),
        ({}, TOKEN_FORM, 401, "invalid_client", "client credentials are required"),
        ({"Authorization": "Basic %%%not-base64"}, TOKEN_FORM, 401, "invalid_client", "malformed basic"),
        ({"Authorization": basic()}, {"grant_type": "password"}, 400, "unsupported_grant_type", "only grant_type"),
        ({"Authorization": basic()}, {}, 400, "unsupported_grant_type", "only grant_type"),
    ],
    ids=["bad-secret", "unknown-client", "non-ascii-secret", "no-credentials", "bad-base64", "password", "none"],
)
def test_oauth_failures_use_the_oauth_error_shape(
    client: FlaskClient, headers: dict[str, str], form: dict[str, str], status: int, error: str, description: str
) -> None:
    response = client.post("/oauth/token", data=form, headers=headers)
    assert response.status_code == status
    body = response.json
    assert set(body) == {"error", "description", "error_description"}
    assert body["error"] == error
    assert body["description"].startswith(description)
    assert body["error_description"] == body["description"]
    assert response.headers["ININ-Correlation-Id"]


def test_oauth_ignores_a_json_body(client: FlaskClient) -> None:
    response = client.post("/oauth/token", json=TOKEN_FORM, headers={"Authorization": basic()})
    assert response.status_code == 400 and response.json["error"] == "unsupported_grant_type"


# -- bearer tokens -------------------------------------------------------------------


def test_missing_token_is_authentication_required(client: FlaskClient) -> None:
    body = assert_error(client.get("/api/v2/users"), 401, "authentication.required")
    assert "bearer" in body["message"].lower()
    assert_error(client.get("/api/v2/users", headers={"Authorization": basic()}), 401, "authentication.required")
    assert_error(client.get("/api/v2/users", headers={"Authorization": "Bearer "}), 401, "authentication.required")


def test_unknown_token_is_bad_credentials(client: FlaskClient) -> None:
    assert_error(client.get("/api/v2/users", headers={"Authorization": "Bearer nope"}), 401, "bad.credentials")


def test_expired_token_is_bad_credentials(
    client: FlaskClient, auth: dict[str, str], clock: VirtualClock, settings: Any
) -> None:
    clock.advance(settings.org.token_ttl_seconds - 1)
    assert client.get("/api/v2/users", headers=auth).status_code == 200
    clock.advance(1)
    body = assert_error(client.get("/api/v2/users", headers=auth), 401, "bad.credentials")
    assert "expired" in body["message"]


def test_the_bearer_scheme_is_case_insensitive(client: FlaskClient, token: str) -> None:
    assert client.get("/api/v2/users", headers={"Authorization": f"bearer {token}"}).status_code == 200


# -- correlation ids and error bodies -------------------------------------------------


def test_every_response_has_a_fresh_correlation_id(client: FlaskClient, auth: dict[str, str]) -> None:
    responses = [
        client.get("/api/v2/users", headers=auth),
        client.get("/api/v2/users"),
        client.get("/no/such/route"),
        client.post("/oauth/token", data=TOKEN_FORM),
        client.get("/mock/info"),
    ]
    ids = [r.headers.get("ININ-Correlation-Id") for r in responses]
    assert all(ids) and len(set(ids)) == len(ids)


def test_unknown_routes_and_methods_get_the_error_body(client: FlaskClient, auth: dict[str, str]) -> None:
    assert_error(client.get("/api/v2/nothing/here", headers=auth), 404, "not.found")
    assert_error(client.get("/nothing"), 404, "not.found")
    assert_error(client.delete("/api/v2/users", headers=auth), 405, "method.not.allowed")
    # Authentication comes before routing under /api/v2, as on the real platform.
    assert_error(client.get("/api/v2/nothing/here"), 401, "authentication.required")


def test_not_found_names_the_entity(client: FlaskClient, auth: dict[str, str]) -> None:
    body = assert_error(client.get("/api/v2/users/ghost/routingstatus", headers=auth), 404, "not.found")
    assert body["details"] == [{"entityId": "ghost", "entityName": "user"}]


def test_session_locked_error_body(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    client.application.extensions["mockgc"].platform.publish_schedule(org["bu"])
    url = f"/api/v2/scripts/sessions/{org['session']}/variables/pref"
    body = assert_error(client.put(url, json={"value": "x"}, headers=auth), 400, "bad.request")
    assert body["details"][0]["errorCode"] == "script.session.locked"
    assert body["details"][0]["entityId"] == org["session"]


# -- rate limits ---------------------------------------------------------------------


def test_normal_responses_carry_rate_limit_headers(
    client: FlaskClient, auth: dict[str, str], clock: VirtualClock
) -> None:
    first = client.get("/api/v2/users", headers=auth)
    assert first.headers["inin-ratelimit-count"] == "1"
    assert first.headers["inin-ratelimit-allowed"] == "300"
    assert first.headers["inin-ratelimit-reset"] == "60"
    clock.advance(20.5)
    second = client.get("/api/v2/users", headers=auth)
    assert (second.headers["inin-ratelimit-count"], second.headers["inin-ratelimit-reset"]) == ("2", "40")
    # Errors after authentication count too (the real platform meters every call).
    missing = client.get("/api/v2/users/ghost/routingstatus", headers=auth)
    assert missing.status_code == 404 and missing.headers["inin-ratelimit-count"] == "3"
    assert "inin-ratelimit-count" not in client.get("/mock/info").headers


def test_the_301st_request_in_a_minute_is_a_429(client: FlaskClient, auth: dict[str, str], clock: VirtualClock) -> None:
    for _ in range(300):
        assert client.get("/api/v2/users", headers=auth).status_code == 200
    clock.advance(12)
    limited = client.get("/api/v2/users", headers=auth)
    body = assert_error(limited, 429, "too.many.requests.retry.after")
    assert body["message"] == "Rate limit exceeded the maximum. Retry the request in [48] seconds"
    assert body["messageWithParams"] == "Rate limit exceeded the maximum. Retry the request in [{retryAfter}] seconds"
    assert body["messageParams"] == {"retryAfter": "48"}
    assert limited.headers["Retry-After"] == "48"
    assert "inin-ratelimit-count" not in limited.headers
    clock.advance(48)
    assert client.get("/api/v2/users", headers=auth).headers["inin-ratelimit-count"] == "1"


def test_the_limit_is_per_token(client: FlaskClient, admin: dict[str, str]) -> None:
    created = client.post(
        "/mock/oauth/clients",
        json={"clientId": "tiny", "clientSecret": "pw", "rateLimitPerMinute": 2},
        headers=admin,
    )
    assert created.status_code == 201
    creds = {"Authorization": "Basic " + base64.b64encode(b"tiny:pw").decode()}

    def fresh() -> dict[str, str]:
        token = client.post("/oauth/token", data=TOKEN_FORM, headers=creds).json["access_token"]
        return {"Authorization": f"Bearer {token}"}

    one, two = fresh(), fresh()
    assert [client.get("/api/v2/users", headers=one).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v2/users", headers=two).headers["inin-ratelimit-allowed"] == "2"
