"""The mock-only admin API under /mock: credential, reset, faults and toxics, clock, journal, truth, windows."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockgc.clock import SystemClock, VirtualClock
from mockgc.faults import PROFILES
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import Settings
from tests.conftest import ADMIN_KEY, AutoClock, basic

TOKEN_FORM = {"grant_type": "client_credentials"}


def set_variable(client: FlaskClient, auth: dict[str, str], session: str, value: str) -> Any:
    return client.put(f"/api/v2/scripts/sessions/{session}/variables/pref", json={"value": value}, headers=auth)


# -- the admin credential ------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "authentication.required"),
        ({"Authorization": basic()}, "authentication.required"),
        ({"Authorization": "Bearer wrong-key"}, "bad.credentials"),
        ({"Authorization": "Bearer clé"}, "bad.credentials"),
        ({"Authorization": f"Bearer {ADMIN_KEY}x"}, "bad.credentials"),
    ],
)
def test_admin_api_needs_the_admin_key(client: FlaskClient, headers: dict[str, str], code: str) -> None:
    for method, path in (("GET", "/mock/info"), ("POST", "/mock/reset"), ("GET", "/mock/truth")):
        response = client.open(path, method=method, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.json["code"] == code
        assert response.json["contextId"] == response.headers["ININ-Correlation-Id"]


def test_an_api_token_is_not_the_admin_key(client: FlaskClient, auth: dict[str, str]) -> None:
    assert client.get("/mock/info", headers=auth).status_code == 401


def test_info(client: FlaskClient, admin: dict[str, str], clock: VirtualClock, settings: Settings) -> None:
    info = client.get("/mock/info", headers=admin).json
    assert info["seed"] == settings.org.seed
    assert info["profile"]["name"] == "fast"
    assert info["clock"] == {"kind": "virtual", "nowEpochMs": int(clock.now() * 1000)}
    assert len(info["users"]) == settings.org.agents and len(info["businessUnits"]) == 1
    assert info["memory"] == {"sessionsInMemory": 0, "conversationsInMemory": 0, "sessionsArchived": 0}


# -- reset ---------------------------------------------------------------------------


def test_reset_rebuilds_the_org(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], org: dict[str, str]
) -> None:
    set_variable(client, auth, org["session"], "A")
    assert list(client.get("/mock/truth", headers=admin).json["sessions"]) == [org["session"]]
    users_before = [u["id"] for u in client.get("/mock/info", headers=admin).json["users"]]

    same = client.post("/mock/reset", headers=admin)
    assert same.status_code == 200
    assert client.get("/mock/truth", headers=admin).json["sessions"] == {}
    assert [u["id"] for u in same.json["users"]] == users_before  # same seed, same org

    other = client.post("/mock/reset", json={"seed": 99, "agents": 3, "profile": "seed-clobber"}, headers=admin).json
    assert other["seed"] == 99 and len(other["users"]) == 3
    assert other["profile"]["publish"]["kind"] == "clobber"
    assert {u["id"] for u in other["users"]}.isdisjoint(users_before)


@pytest.mark.parametrize(
    "body",
    [{"seed": -1}, {"agents": 0}, {"seed": "7"}, {"agents": True}, {"profile": "nope"}, {"profile": {"name": 3}}, []],
)
def test_reset_rejects_bad_changes(client: FlaskClient, admin: dict[str, str], body: Any) -> None:
    response = client.post("/mock/reset", json=body, headers=admin)
    assert response.status_code == 400 and response.json["code"] == "invalid.value"


def test_registered_clients_survive_a_reset(client: FlaskClient, admin: dict[str, str]) -> None:
    created = client.post(
        "/mock/oauth/clients",
        json={"clientId": "load", "clientSecret": "pw", "rateLimitPerMinute": None},
        headers=admin,
    )
    assert created.status_code == 201 and created.json == {"clientId": "load", "rateLimitPerMinute": None}
    client.post("/mock/reset", headers=admin)
    creds = {"Authorization": "Basic " + base64.b64encode(b"load:pw").decode()}
    token = client.post("/oauth/token", data=TOKEN_FORM, headers=creds).json["access_token"]
    response = client.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    # An unlimited client still sees its count, against an allowance it never reaches.
    assert response.headers["inin-ratelimit-count"] == "1"
    assert int(response.headers["inin-ratelimit-allowed"]) >= 2**31 - 1


@pytest.mark.parametrize(
    "body",
    [
        {"clientId": "x"},
        {"clientId": 1, "clientSecret": "s"},
        {"clientId": "x", "clientSecret": "s", "rateLimitPerMinute": "fast"},
        {"clientId": "x", "clientSecret": "s", "rateLimitPerMinute": 0},
        {"clientId": "x", "clientSecret": "s", "rateLimitPerMinute": 1.5},
    ],
)
def test_bad_client_registrations(client: FlaskClient, admin: dict[str, str], body: dict[str, Any]) -> None:
    response = client.post("/mock/oauth/clients", json=body, headers=admin)
    assert response.status_code == 400 and response.json["code"] == "invalid.value"


# -- profiles and faults -------------------------------------------------------------------


def test_profiles_are_listed_as_data(client: FlaskClient, admin: dict[str, str]) -> None:
    entities = client.get("/mock/profiles", headers=admin).json["entities"]
    assert [p["name"] for p in entities] == list(PROFILES)
    assert entities[0] == PROFILES[entities[0]["name"]].to_dict()


def test_set_profile_by_name_and_by_value_then_reset_faults(
    client: FlaskClient, admin: dict[str, str], org: dict[str, str]
) -> None:
    assert client.get("/mock/faults", headers=admin).json["profile"]["name"] == "fast"
    by_name = client.put("/mock/faults/profile", json={"name": "long-hold"}, headers=admin)
    assert by_name.status_code == 200 and by_name.json["publish"]["hold_ms"] == 6000

    custom = {"name": "custom", "description": "d", "publish": {"batch_size": 4, "interval_ms": 10, "hold_ms": 20}}
    assert client.put("/mock/faults/profile", json=custom, headers=admin).status_code == 200
    client.application.extensions["mockgc"].platform.publish_schedule(org["bu"])
    [window] = client.get("/mock/windows", headers=admin).json["operations"]
    batches = window["batches"]
    assert len(batches) == 5  # 20 agents in batches of 4
    assert [b - a for a, b in batches] == [20] * 5
    assert [b[0] - batches[0][0] for b in batches] == [0, 10, 20, 30, 40]

    reset = client.post("/mock/faults/reset", headers=admin)
    assert reset.status_code == 200 and reset.json["name"] == "fast"
    assert client.get("/mock/faults", headers=admin).json["profile"]["name"] == "fast"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "nope"},
        {"name": "x", "publish": {"batch_size": 0}},
        {"name": "x", "publish": {"batch_size": 1.5}},
        {"name": "x", "publish": {"kind": "explode"}},
        ["fast"],
    ],
)
def test_bad_profiles_are_rejected(client: FlaskClient, admin: dict[str, str], body: Any) -> None:
    response = client.put("/mock/faults/profile", json=body, headers=admin)
    assert response.status_code == 400 and response.json["code"] == "invalid.value"
    assert client.get("/mock/faults", headers=admin).json["profile"]["name"] == "fast"


def test_http_error_toxic_fires_on_matching_api_paths_until_deleted(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str]
) -> None:
    toxic = {
        "name": "outage",
        "type": "http_error",
        "path_prefix": "/api/v2/users",
        "attributes": {"status": 503, "code": "service.unavailable", "message": "injected outage"},
    }
    created = client.post("/mock/faults/toxics", json=toxic, headers=admin)
    assert created.status_code == 201 and created.json["toxicity"] == 1.0
    assert [t["name"] for t in client.get("/mock/faults", headers=admin).json["toxics"]] == ["outage"]

    hit = client.get("/api/v2/users", headers=auth)
    assert hit.status_code == 503
    assert (hit.json["code"], hit.json["message"]) == ("service.unavailable", "injected outage")
    assert hit.json["contextId"] == hit.headers["ININ-Correlation-Id"]
    assert client.get("/api/v2/workforcemanagement/businessunits", headers=auth).status_code == 200  # other prefix
    assert client.get("/mock/info", headers=admin).status_code == 200  # never the admin API
    assert client.get("/api/v2/users").status_code == 401  # authentication comes first

    assert client.delete("/mock/faults/toxics/outage", headers=admin).status_code == 204
    assert client.get("/api/v2/users", headers=auth).status_code == 200
    missing = client.delete("/mock/faults/toxics/outage", headers=admin)
    assert missing.status_code == 404 and missing.json["code"] == "not.found"


def test_rate_limit_toxic_gives_a_normalized_429(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str]
) -> None:
    toxic = {"name": "storm", "type": "rate_limit", "attributes": {"retry_after": 7}}
    client.post("/mock/faults/toxics", json=toxic, headers=admin)
    response = client.get("/api/v2/users", headers=auth)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json["message"] == "Rate limit exceeded the maximum. Retry the request in [7] seconds"
    assert response.json["code"] == "too.many.requests.retry.after"


def test_toxicity_zero_never_fires_and_faults_reset_clears_toxics(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str]
) -> None:
    client.post("/mock/faults/toxics", json={"name": "off", "type": "http_error", "toxicity": 0.0}, headers=admin)
    assert all(client.get("/api/v2/users", headers=auth).status_code == 200 for _ in range(20))
    client.post("/mock/faults/toxics", json={"name": "on", "type": "http_error"}, headers=admin)
    assert client.get("/api/v2/users", headers=auth).status_code == 503
    client.post("/mock/faults/reset", headers=admin)
    assert client.get("/mock/faults", headers=admin).json["toxics"] == []
    assert client.get("/api/v2/users", headers=auth).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"type": "latency"},
        {"name": "t", "type": "teleport"},
        {"name": "t", "type": "latency", "attributes": {"latency_ms": -1}},
        {"name": "t", "type": "http_error", "attributes": {"status": 200}},
        {"name": "t", "type": "latency", "toxicity": 2},
        {"name": "t", "type": "latency", "surprise": True},
        [],
    ],
)
def test_bad_toxics_are_rejected(client: FlaskClient, admin: dict[str, str], body: Any) -> None:
    response = client.post("/mock/faults/toxics", json=body, headers=admin)
    assert response.status_code == 400 and response.json["code"] == "invalid.value"


@pytest.fixture
def auto_app(settings: Settings) -> tuple[Flask, AutoClock]:
    clock = AutoClock()
    return create_app(settings, clock=clock), clock


def test_latency_toxic_delays_api_requests_in_virtual_time(auto_app: tuple[Flask, AutoClock]) -> None:
    app, clock = auto_app
    client = app.test_client()
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    token = client.post("/oauth/token", data=TOKEN_FORM, headers={"Authorization": basic()}).json["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    toxic = {"name": "slow", "type": "latency", "attributes": {"latency_ms": 250, "jitter_ms": 0}}
    assert client.post("/mock/faults/toxics", json=toxic, headers=admin).status_code == 201
    before = clock.now()
    assert client.get("/api/v2/users", headers=auth).status_code == 200
    assert clock.waits == [pytest.approx(0.25)]
    assert clock.now() == pytest.approx(before + 0.25)
    client.get("/mock/info", headers=admin)
    assert len(clock.waits) == 1  # the admin API is never slowed
    client.delete("/mock/faults/toxics/slow", headers=admin)
    client.get("/api/v2/users", headers=auth)
    assert len(clock.waits) == 1


# -- the virtual clock -------------------------------------------------------------


def test_clock_advance_and_set_apply_due_events(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], org: dict[str, str], clock: VirtualClock
) -> None:
    start_ms = client.get("/mock/clock", headers=admin).json["nowEpochMs"]
    client.application.extensions["mockgc"].platform.publish_schedule(org["bu"])
    assert set_variable(client, auth, org["session"], "x").status_code == 400
    moved = client.post("/mock/clock", json={"advanceMs": 300}, headers=admin)
    assert moved.status_code == 200 and moved.json == {"kind": "virtual", "nowEpochMs": start_ms + 300}
    assert clock.now() * 1000 == pytest.approx(start_ms + 300)
    user = client.get("/mock/info", headers=admin).json["users"][0]
    assert user["mockgcScenarioStatus"] == "Reserved"  # the flip happened when the clock moved
    assert set_variable(client, auth, org["session"], "y").status_code == 200

    assert client.post("/mock/clock", json={"setEpochMs": start_ms + 5000}, headers=admin).json["nowEpochMs"] == (
        start_ms + 5000
    )


@pytest.mark.parametrize(
    "body",
    [
        {"advanceMs": -1},
        {"setEpochMs": 0},
        {"advanceMs": 1, "setEpochMs": 1},
        {},
        {"advanceMs": "10"},
        {"advanceMs": True},
        {"advanceMs": 10**30},
        {"setEpochMs": 10**4000},
        [],
    ],
)
def test_bad_clock_moves_are_rejected(client: FlaskClient, admin: dict[str, str], body: Any) -> None:
    before = client.get("/mock/clock", headers=admin).json
    response = client.post("/mock/clock", json=body, headers=admin)
    assert response.status_code == 400 and response.json["code"] == "invalid.value"
    assert client.get("/mock/clock", headers=admin).json == before


def test_clock_control_needs_a_virtual_clock(settings: Settings) -> None:
    client = create_app(settings, clock=SystemClock()).test_client()
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    assert client.get("/mock/clock", headers=admin).json["kind"] == "system"
    response = client.post("/mock/clock", json={"advanceMs": 1000}, headers=admin)
    assert response.status_code == 400 and "system clock" in response.json["message"]


# -- journal, truth, windows, events -----------------------------------------------------


def test_journal_pages_with_since_and_limit(client: FlaskClient, auth: dict[str, str], admin: dict[str, str]) -> None:
    for _ in range(5):
        client.get("/api/v2/users", headers=auth)
    client.get("/api/v2/users/ghost/routingstatus", headers=auth)
    page = client.get("/mock/journal?limit=3", headers=admin).json
    assert page["dropped"] == 0
    assert [e["seq"] for e in page["entries"]] == [1, 2, 3]
    everything = client.get("/mock/journal", headers=admin).json["entries"]
    last_api = [e for e in everything if e["path"].startswith("/api/v2/users/")][-1]
    assert (last_api["method"], last_api["status"], last_api["client_id"]) == ("GET", 404, "test-client")
    assert len(last_api["correlation_id"]) == 36
    after = client.get(f"/mock/journal?since={everything[-1]['seq']}", headers=admin).json["entries"]
    assert [e["path"] for e in after] == ["/mock/journal"]  # the previous journal read itself
    for query in ("since=-1", "limit=x", "since=1.5"):
        response = client.get(f"/mock/journal?{query}", headers=admin)
        assert response.status_code == 400 and response.json["code"] == "invalid.value"


def test_journal_is_bounded(clock: VirtualClock) -> None:
    settings = Settings(seed=1, agents=2, profile="fast", admin_key=ADMIN_KEY, client_secret="s", journal_size=5)
    client = create_app(settings, clock=clock).test_client()
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    for _ in range(12):
        client.get("/mock/clock", headers=admin)
    page = client.get("/mock/journal", headers=admin).json
    assert page["dropped"] == 7
    assert [e["seq"] for e in page["entries"]] == [8, 9, 10, 11, 12]


def test_truth_shows_stored_variables_even_when_clients_cannot(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], org: dict[str, str]
) -> None:
    client.put("/mock/faults/profile", json={"name": "seed-invalidate"}, headers=admin)
    set_variable(client, auth, org["session"], "kept")
    client.application.extensions["mockgc"].platform.publish_schedule(org["bu"])
    client.post("/mock/clock", json={"advanceMs": 2500}, headers=admin)
    visible = client.get(f"/api/v2/scripts/sessions/{org['session']}", headers=auth).json
    assert visible["variables"] == {} and visible["attached"] is False
    truth = client.get("/mock/truth", headers=admin).json["sessions"][org["session"]]
    assert truth == {
        "userId": org["user"],
        "conversationId": org["conversation"],
        "variables": {"pref": "kept"},
        "version": 1,
        "attached": False,
        "evaluatedPersonalized": {},
    }


def test_truth_logs_what_evaluate_answered_personalized_bounded_and_latest_last(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], org: dict[str, str]
) -> None:
    def evaluate(variable: str) -> Any:
        path = f"/api/v2/scripts/sessions/{org['session']}/evaluate"
        return client.post(path, json={"variable": variable}, headers=auth).json

    def log() -> Any:
        return client.get("/mock/truth", headers=admin).json["sessions"][org["session"]]["evaluatedPersonalized"]

    assert evaluate("pref")["branch"] == "default" and log() == {}  # a default answer is not logged
    set_variable(client, auth, org["session"], "A")
    for _ in range(3):
        evaluate("pref")
    assert log() == {"pref": ["A"]}  # distinct answers only
    for value in ("B", "C", "D", "A", "E"):
        set_variable(client, auth, org["session"], value)
        answer = evaluate("pref")
        assert (answer["branch"], answer["value"]) == ("personalized", value)
    # At most 4 answers, the latest kept: A moved to the end when answered again, so B went first.
    assert log() == {"pref": ["C", "D", "A", "E"]}
    client.put(f"/api/v2/scripts/sessions/{org['session']}/variables/other", json={"value": "E"}, headers=auth)
    evaluate("other")
    assert log() == {"pref": ["D", "A", "E"], "other": ["E"]}  # answers are per variable


def test_windows_and_events(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], org: dict[str, str], clock: VirtualClock
) -> None:
    assert client.get("/mock/windows", headers=admin).json == {"operations": []}
    # Off queue first (the seeded mix may have the agent On Queue), so the PUT below changes routing only.
    client.patch(
        f"/api/v2/users/{org['user']}/presences/purecloud",
        json={"presenceDefinition": {"systemPresence": "Away"}},
        headers=auth,
    )
    since_ms = int(clock.now() * 1000)
    clock.advance(1)
    t0_ms = int(clock.now() * 1000)
    client.put(f"/api/v2/users/{org['user']}/routingstatus", json={"status": "OFF_QUEUE"}, headers=auth)
    clock.advance(1)
    op = client.application.extensions["mockgc"].platform.publish_schedule(org["bu"])
    [window] = client.get("/mock/windows", headers=admin).json["operations"]
    assert window["operationId"] == op.id and window["status"] == "Processing"
    assert window["batches"][0] == [t0_ms + 1000, t0_ms + 1300]
    assert window["completesEpochMs"] == t0_ms + 1600

    client.post("/mock/clock", json={"advanceMs": 600}, headers=admin)
    events = client.get("/mock/events", headers=admin).json["entities"]
    assert events[0]["topicName"] == f"v2.users.{org['user']}.conversations.calls"  # the fixture's call
    events = [e for e in events if e["atEpochMs"] > since_ms]
    assert [e["topicName"] for e in events] == [
        f"v2.users.{org['user']}.routingStatus",
        f"v2.users.{org['user']}.activity",  # the same change, on the user's activity topic
        f"v2.workforcemanagement.businessunits.{org['bu']}.schedules",
    ]
    assert events[2]["atEpochMs"] == t0_ms + 1600
    later = client.get(f"/mock/events?sinceEpochMs={t0_ms + 1}", headers=admin).json["entities"]
    assert [e["eventBody"]["operationId"] for e in later] == [op.id]
    assert client.get("/mock/windows", headers=admin).json["operations"][0]["status"] == "Complete"
