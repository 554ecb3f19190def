"""Bad input sweep: every registered route gets bad bodies, hostile values and unknown ids; never a 500."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mockgc.clock import VirtualClock
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import MAX_BODY_BYTES, Settings
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET, basic

WFM = "/api/v2/workforcemanagement/businessunits"
ANALYTICS = "/api/v2/analytics"
INTERVAL = "2026-11-15T00:00:00Z/2026-11-22T00:00:00Z"  # the week around the fixtures' clocks (2026-11-18)
WEEK = "2026-11-23"
SCHEDULE = WFM + "/<bu_id>/weeks/<week_id>/schedules/<schedule_id>"
SESSION = "/api/v2/scripts/sessions/<session_id>"
CHANNEL = "/api/v2/notifications/channels/<channel_id>"
ERROR_KEYS = {"message", "code", "status", "contextId", "details", "errors"}
OAUTH_KEYS = {"error", "description", "error_description"}

World = dict[str, str]
BodyFactory = Callable[[World], Any]

# A valid body for every route that reads one; None marks a route that takes no body.
# A route added to the app without an entry here fails test_every_route_is_in_the_sweep.
ROUTES: dict[tuple[str, str], BodyFactory | None] = {
    ("POST", "/oauth/token"): lambda w: {"grant_type": "client_credentials"},
    ("DELETE", "/api/v2/tokens/me"): None,
    ("GET", "/api/v2/users"): None,
    ("GET", "/api/v2/users/<user_id>/routingstatus"): None,
    ("PUT", "/api/v2/users/<user_id>/routingstatus"): lambda w: {"userId": w["user_id"], "status": "IDLE"},
    ("GET", "/api/v2/users/<user_id>/presences/<source_id>"): None,
    ("PATCH", "/api/v2/users/<user_id>/presences/<source_id>"): lambda w: {
        "presenceDefinition": {"systemPresence": "Busy"},
        "message": "m",
    },
    ("PUT", "/api/v2/users/presences/bulk"): lambda w: [
        {"id": w["user_id"], "presenceDefinition": {"systemPresence": "Away"}}
    ],
    ("GET", "/api/v2/users/presences/<source_id>/bulk"): None,
    ("GET", "/api/v2/users/<user_id>"): None,
    ("POST", "/api/v2/users"): lambda w: {
        "name": "Nova Person",
        "email": "nova.person@example.com",
        "addresses": [{"address": "+13125550199", "mediaType": "PHONE", "type": "WORK"}],
    },
    ("POST", "/api/v2/users/search"): lambda w: SEARCH,
    ("GET", "/api/v2/users/search"): None,
    ("PATCH", "/api/v2/users/<user_id>"): lambda w: {"version": 1, "title": "Senior agent"},
    ("DELETE", "/api/v2/users/<user_id>"): None,
    ("GET", "/api/v2/voicemail/userpolicies/<user_id>"): None,
    ("PATCH", "/api/v2/voicemail/userpolicies/<user_id>"): lambda w: {"enabled": True, "alertTimeoutSeconds": 20},
    ("GET", "/api/v2/users/<user_id>/queues"): None,
    ("PATCH", "/api/v2/users/<user_id>/queues"): lambda w: [{"id": w["member_queue_id"], "joined": True}],
    ("PATCH", "/api/v2/users/<user_id>/queues/<queue_id>"): lambda w: {"joined": True},
    ("GET", "/api/v2/presencedefinitions"): None,
    ("GET", "/api/v2/presencedefinitions/<presence_id>"): None,
    ("GET", "/api/v2/presence/definitions"): None,
    ("GET", "/api/v2/presence/definitions/<definition_id>"): None,
    ("GET", "/api/v2/systempresences"): None,
    ("GET", "/api/v2/routing/skills"): None,
    ("GET", "/api/v2/routing/skills/<skill_id>"): None,
    ("GET", "/api/v2/routing/queues"): None,
    ("GET", "/api/v2/routing/queues/<queue_id>"): None,
    ("GET", "/api/v2/routing/queues/<queue_id>/members"): None,
    ("GET", "/api/v2/routing/queues/<queue_id>/users"): None,
    ("POST", "/api/v2/routing/queues/<queue_id>/members"): lambda w: [{"id": w["user_id"]}],
    ("POST", "/api/v2/routing/queues/<queue_id>/users"): lambda w: [{"id": w["user_id"]}],
    ("PATCH", "/api/v2/routing/queues/<queue_id>/members"): lambda w: [{"id": w["user_id"], "joined": False}],
    ("PATCH", "/api/v2/routing/queues/<queue_id>/users"): lambda w: [{"id": w["user_id"], "joined": True}],
    ("GET", "/api/v2/groups"): None,
    ("GET", "/api/v2/groups/<group_id>"): None,
    ("POST", "/api/v2/conversations/calls"): lambda w: {"callUserId": w["user_id"], "phoneNumber": "+13125550111"},
    ("GET", "/api/v2/conversations/<conversation_id>"): None,
    ("GET", "/api/v2/conversations/calls/<conversation_id>"): None,
    ("PATCH", "/api/v2/conversations/calls/<conversation_id>/participants/<participant_id>/attributes"): lambda w: {
        "attributes": {"k": "v"}
    },
    ("PATCH", "/api/v2/conversations/<conversation_id>/participants/<participant_id>/attributes"): lambda w: {
        "attributes": {"k": "v"}
    },
    ("POST", "/api/v2/scripts/sessions"): lambda w: {"userId": w["user_id"], "conversationId": w["conversation_id"]},
    ("GET", SESSION): None,
    ("PUT", SESSION + "/variables/<name>"): lambda w: {"value": "v", "expectedVersion": 0},
    ("POST", SESSION + "/evaluate"): lambda w: {"variable": "pref"},
    ("POST", SESSION + "/attach"): None,
    ("PUT", "/api/v2/analytics/script-data"): lambda w: {
        "updates": [{"sessionId": w["session_id"], "variables": {"pref": "v"}}]
    },
    ("POST", ANALYTICS + "/users/details/query"): lambda w: {
        "interval": INTERVAL,
        "userFilters": [{"type": "or", "predicates": [{"dimension": "userId", "value": w["user_id"]}]}],
        "presenceAggregations": [{"type": "termFrequency", "dimension": "systemPresence"}],
        "paging": {"pageSize": 10, "pageNumber": 1},
    },
    ("POST", ANALYTICS + "/conversations/details/query"): lambda w: {
        "interval": INTERVAL,
        "segmentFilters": [{"type": "and", "predicates": [{"dimension": "userId", "value": w["user_id"]}]}],
        "order": "desc",
    },
    ("POST", ANALYTICS + "/conversations/aggregates/query"): lambda w: {
        "interval": INTERVAL,
        "granularity": "PT1H",
        "groupBy": ["userId"],
        "metrics": ["nOffered", "tAnswered"],
    },
    ("POST", ANALYTICS + "/users/aggregates/query"): lambda w: {
        "interval": INTERVAL,
        "groupBy": ["userId"],
        "metrics": ["tAgentRoutingStatus", "tSystemPresence"],
    },
    ("POST", ANALYTICS + "/queues/observations/query"): lambda w: {
        "filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": w["queue_id"]}]},
        "metrics": ["oOnQueueUsers", "oActiveUsers"],
    },
    ("POST", ANALYTICS + "/conversations/details/jobs"): lambda w: {"interval": INTERVAL},
    ("GET", ANALYTICS + "/conversations/details/jobs/availability"): None,
    ("GET", ANALYTICS + "/conversations/details/jobs/<job_id>"): None,
    ("DELETE", ANALYTICS + "/conversations/details/jobs/<job_id>"): None,
    ("GET", ANALYTICS + "/conversations/details/jobs/<job_id>/results"): None,
    ("POST", ANALYTICS + "/users/details/jobs"): lambda w: {"interval": INTERVAL, "limit": 100},
    ("GET", ANALYTICS + "/users/details/jobs/availability"): None,
    ("GET", ANALYTICS + "/users/details/jobs/<user_job_id>"): None,
    ("DELETE", ANALYTICS + "/users/details/jobs/<user_job_id>"): None,
    ("GET", ANALYTICS + "/users/details/jobs/<user_job_id>/results"): None,
    ("GET", WFM): None,
    ("GET", WFM + "/<bu_id>"): None,
    ("POST", WFM + "/<bu_id>/weeks/<week_id>/schedules"): lambda w: {"description": "d", "weekCount": 2},
    ("GET", SCHEDULE): None,
    ("GET", WFM + "/<bu_id>/weeks/<week_id>/schedules"): None,
    ("GET", WFM + "/<bu_id>/managementunits"): None,
    ("GET", WFM + "/<bu_id>/activitycodes"): None,
    ("POST", SCHEDULE + "/agentschedules/query"): lambda w: {"userIds": [w["user_id"]]},
    ("GET", "/downloads/agentschedules/<download_key>"): None,
    ("POST", SCHEDULE + "/update/uploadurl"): lambda w: {"contentLengthBytes": 64},
    ("POST", SCHEDULE + "/update"): lambda w: {"uploadKey": w["ready_key"]},
    ("GET", WFM + "/<bu_id>/operations"): None,
    ("GET", WFM + "/<bu_id>/operations/<operation_id>"): None,
    ("PUT", "/uploads/schedules/<upload_key>"): lambda w: {"published": False, "metadata": {"version": 2}},
    ("POST", "/mock/reset"): lambda w: {"seed": 7, "agents": 20, "profile": "fast"},
    ("GET", "/mock/info"): None,
    ("GET", "/mock/profiles"): None,
    ("GET", "/mock/faults"): None,
    ("PUT", "/mock/faults/profile"): lambda w: {"name": "fast", "publish": {"batch_size": 5}},
    ("POST", "/mock/faults/toxics"): lambda w: {"name": "t", "type": "latency", "toxicity": 0.0},
    ("DELETE", "/mock/faults/toxics/<name>"): None,
    ("POST", "/mock/faults/reset"): None,
    ("GET", "/mock/clock"): None,
    ("POST", "/mock/clock"): lambda w: {"advanceMs": 1},
    ("GET", "/mock/journal"): None,
    ("GET", "/mock/truth"): None,
    ("GET", "/mock/windows"): None,
    ("GET", "/mock/events"): None,
    ("POST", "/mock/oauth/clients"): lambda w: {"clientId": "c2", "clientSecret": "s2", "rateLimitPerMinute": None},
    ("GET", "/api/v2/notifications/availabletopics"): None,
    ("POST", "/api/v2/notifications/channels"): None,
    ("GET", "/api/v2/notifications/channels"): None,
    ("HEAD", "/api/v2/notifications/channels/<channel_id>"): None,
    ("GET", CHANNEL + "/subscriptions"): None,
    ("POST", CHANNEL + "/subscriptions"): lambda w: [{"id": f"v2.users.{w['user_id']}.presence"}],
    ("PUT", CHANNEL + "/subscriptions"): lambda w: [
        {"id": f"v2.workforcemanagement.businessunits.{w['bu_id']}.schedules"}
    ],
    ("DELETE", CHANNEL + "/subscriptions"): None,
    # Loopback port 9 (discard): a delivery, should one be attempted, is refused at once.
    ("POST", "/mock/webhooks"): lambda w: {"url": "http://127.0.0.1:9/hook", "topics": ["v2.users.*.presence"]},
    ("GET", "/mock/webhooks"): None,
    ("DELETE", "/mock/webhooks/<target_id>"): None,
    ("GET", "/mock/webhooks/deliveries"): None,
    ("DELETE", "/mock/webhooks/deliveries"): None,
    ("GET", "/api/v2/docs/openapi.json"): None,
}

SEARCH = {
    "query": [{"type": "CONTAINS", "fields": ["name", "email"], "value": "a"}],
    "sortBy": "name",
    "expand": ["presence"],
    "pageSize": 5,
}
# A query string some routes need to answer (the rest take none or only optional ones).
QUERIES: dict[tuple[str, str], Callable[[World], str]] = {
    ("GET", "/api/v2/users/search"): lambda w: "q64=" + base64.b64encode(json.dumps(SEARCH).encode()).decode(),
}

# Unknown ids: what to put in each path parameter, and the answer it must get. A week is
# not an entity (any valid week can get a schedule), so only a malformed one is refused.
UNKNOWN: dict[str, tuple[str, int, str]] = {
    "user_id": ("00000000-0000-4000-8000-000000000001", 404, "not.found"),
    "source_id": ("teams", 404, "not.found"),
    "conversation_id": ("unknown-conversation", 404, "not.found"),
    "participant_id": ("unknown-participant", 404, "not.found"),
    "session_id": ("unknown-session", 404, "not.found"),
    "bu_id": ("unknown-bu", 404, "not.found"),
    "week_id": ("2026-13-45", 400, "invalid.value"),
    "schedule_id": ("unknown-schedule", 404, "not.found"),
    "operation_id": ("unknown-operation", 404, "not.found"),
    "upload_key": ("unknown-upload", 404, "not.found"),
    "download_key": ("unknown-download", 404, "not.found"),
    "name": ("unknown-toxic", 404, "not.found"),
    "channel_id": ("streaming-0-unknown", 404, "not.found"),
    "target_id": ("unknown-target", 404, "not.found"),
    "queue_id": ("unknown-queue", 404, "not.found"),
    "group_id": ("unknown-group", 404, "not.found"),
    "skill_id": ("unknown-skill", 404, "not.found"),
    "presence_id": ("unknown-presence", 404, "not.found"),
    "definition_id": ("unknown-definition", 404, "not.found"),
    "job_id": ("unknown-job", 404, "not.found"),
    "user_job_id": ("unknown-job", 404, "not.found"),
}
NOT_IDS = {(SESSION + "/variables/<name>", "name")}  # any variable name is valid: a write creates it

# Routes served outside the platform's content-type rules: the pre-signed upload behaves like
# object storage (the body is opaque bytes, gzip or not) and OAuth reads a form.
RAW_BODY = {"/uploads/schedules/<upload_key>", "/oauth/token"}

OVERSIZED = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
BAD_BODIES: dict[str, tuple[bytes, str, int, set[str]]] = {
    "malformed": (b'{"value": "unterminated', "application/json", 400, {"bad.request"}),
    "truncated": (b"[1, 2,", "application/json", 400, {"bad.request"}),
    "not-utf8": (b'{"value": "\xff\xfe"}', "application/json", 400, {"bad.request"}),
    "nan": (b'{"value": NaN, "advanceMs": NaN}', "application/json", 400, {"bad.request"}),
    "infinity": (b'{"value": 1e999, "advanceMs": Infinity}', "application/json", 400, {"bad.request"}),
    "deeply-nested": (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, {"bad.request"}),
    "oversized": (OVERSIZED, "application/json", 413, {"request.entity.too.large"}),
}
WRONG_TYPES: dict[str, Any] = {"object": {}, "list": [], "number": 42, "string": "text", "null": None}
HOSTILE: list[Any] = [None, True, -1, 0, 2.5, 10**30, "", "x" * 5000, "é\u0000\u202e", [], {}, [[[]]], {"a": {"b": []}}]

_PROBE_APP = create_app(Settings(admin_key="probe", client_secret="probe"))


def _methods(methods: set[str]) -> set[str]:
    """The methods a rule was declared with: Flask adds OPTIONS always, and HEAD to every GET."""
    declared = methods - {"OPTIONS"}
    return declared - {"HEAD"} if "GET" in declared else declared


REGISTERED = sorted(
    (method, rule.rule)
    for rule in _PROBE_APP.url_map.iter_rules()
    if rule.endpoint != "static"
    for method in _methods(set(rule.methods or ()))
)
BODY_ROUTES = [key for key in REGISTERED if ROUTES.get(key) is not None]
# Every JSON type but the one the route takes (the OAuth form has no JSON type to get wrong).
WRONG_TYPE_CASES = [
    (method, rule, wrong)
    for method, rule in BODY_ROUTES
    if rule != "/oauth/token"
    for wrong, value in WRONG_TYPES.items()
    if type(value) is not type(ROUTES[(method, rule)](defaultdict(str)))  # type: ignore[misc]
]
PARAM_CASES = [
    (method, rule, param)
    for method, rule in REGISTERED
    for param in re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule)
    if (rule, param) not in NOT_IDS
]


# -- helpers -----------------------------------------------------------------------


def headers_for(rule: str, world: World) -> dict[str, str]:
    if rule.startswith("/api/v2/"):
        return {"Authorization": world["auth"]}
    if rule.startswith("/mock/"):
        return {"Authorization": world["admin"]}
    return {}


def fill(rule: str, world: World, **override: str) -> str:
    def value(match: re.Match[str]) -> str:
        param = match.group(1)
        if param in override:
            return override[param]
        if param == "name":
            return world["toxic"] if rule.startswith("/mock/") else "pref"
        return world[param]

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", value, rule)


def send(
    client: FlaskClient,
    method: str,
    rule: str,
    world: World,
    *,
    data: bytes | None = None,
    content_type: str | None = None,
    **override: str,
) -> TestResponse:
    if rule.startswith("/uploads/") and "upload_key" not in override:
        override["upload_key"] = upload_key_for(client, world, len(data or b""))
    query = QUERIES.get((method, rule))
    return client.open(
        fill(rule, world, **override) + ("" if query is None else "?" + query(world)),
        method=method,
        data=data,
        content_type=content_type,
        headers=headers_for(rule, world),
    )


def upload_key_for(client: FlaskClient, world: World, length: int) -> str:
    """A fresh key issued for exactly `length` bytes: an upload URL takes one upload of its declared size."""
    schedule_url = fill(SCHEDULE, world)
    reply = client.post(
        f"{schedule_url}/update/uploadurl",
        json={"contentLengthBytes": max(1, length)},
        headers={"Authorization": world["auth"]},
    )
    assert reply.status_code == 200, reply.get_json(silent=True)
    return str(reply.json["uploadKey"])


def assert_platform_error(response: TestResponse, status: int | None = None) -> dict[str, Any]:
    """A 4xx with the platform's error body, whose contextId is the correlation id."""
    body = response.get_json(silent=True)
    assert 400 <= response.status_code < 500, (response.status_code, response.data[:300])
    assert status is None or response.status_code == status, (response.status_code, body)
    assert isinstance(body, dict) and set(body) >= ERROR_KEYS, body
    assert body["status"] == response.status_code
    assert isinstance(body["message"], str) and body["message"]
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    return body


def assert_oauth_or_platform_error(response: TestResponse) -> None:
    body = response.get_json(silent=True)
    if isinstance(body, dict) and set(body) >= OAUTH_KEYS:
        assert response.status_code in (400, 401)
        assert response.headers["ININ-Correlation-Id"]
    else:
        assert_platform_error(response)


def assert_nothing_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.name.startswith("mockgc") and r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def encode(rule: str, value: Any) -> bytes:
    raw = json.dumps(value).encode()
    return gzip.compress(raw) if rule.startswith("/uploads/") else raw


# -- the world every case runs in ------------------------------------------------------

Case = tuple[FlaskClient, World]


def build_world(app: Flask) -> Case:
    """Valid ids for every path parameter: a call with a script session, a schedule with a finished
    (non-publishing) update, an upload key with a document ready, an empty upload slot, a toxic,
    a notification channel and a webhook target."""
    client = app.test_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic()})
    auth, admin = {"Authorization": f"Bearer {token.json['access_token']}"}, {"Authorization": f"Bearer {ADMIN_KEY}"}
    info = client.get("/mock/info", headers=admin).json
    user, bu = info["users"][0]["id"], info["businessUnits"][0]["id"]
    call = client.post("/api/v2/conversations/calls", json={"callUserId": user}, headers=auth).json["id"]
    participants = client.get(f"/api/v2/conversations/{call}", headers=auth).json["participants"]
    session = client.post("/api/v2/scripts/sessions", json={"userId": user, "conversationId": call}, headers=auth)
    schedule = client.post(f"{WFM}/{bu}/weeks/{WEEK}/schedules", json={}, headers=auth).json["id"]
    schedule_url = f"{WFM}/{bu}/weeks/{WEEK}/schedules/{schedule}"

    def slot(document: dict[str, Any] | None) -> str:
        payload = gzip.compress(json.dumps(document).encode())
        reply = client.post(
            f"{schedule_url}/update/uploadurl", json={"contentLengthBytes": len(payload)}, headers=auth
        ).json
        if document is not None:
            put = client.put(urlsplit(reply["url"]).path, data=payload)
            assert put.status_code == 200
        return str(reply["uploadKey"])

    # An update that does not publish holds nobody, so no session is locked during the sweep.
    first = slot({"published": False, "metadata": {"version": 1}})
    operation = client.post(f"{schedule_url}/update", json={"uploadKey": first}, headers=auth).json["operationId"]
    query = f"{schedule_url}/agentschedules/query?forceDownloadService=true"
    download = client.post(query, json={}, headers=auth).json["downloadUrl"].rsplit("/", 1)[1]
    toxic = client.post("/mock/faults/toxics", json={"name": "idle", "type": "latency", "toxicity": 0.0}, headers=admin)
    channel = client.post("/api/v2/notifications/channels", headers=auth)
    target = client.post("/mock/webhooks", json=ROUTES[("POST", "/mock/webhooks")]({}), headers=admin)  # type: ignore[misc]
    assert (session.status_code, toxic.status_code, channel.status_code, target.status_code) == (201, 201, 200, 201)
    jobs = {
        kind: client.post(f"{ANALYTICS}/{kind}/details/jobs", json={"interval": INTERVAL}, headers=auth).json["jobId"]
        for kind in ("conversations", "users")
    }
    # A job is QUEUED for a second of the org's clock; its results are read once it is FULFILLED.
    assert client.post("/mock/clock", json={"advanceMs": 1500}, headers=admin).status_code == 200
    return client, {
        "job_id": jobs["conversations"],
        "user_job_id": jobs["users"],
        "auth": auth["Authorization"],
        "admin": admin["Authorization"],
        "user_id": user,
        "source_id": "purecloud",
        "conversation_id": call,
        "participant_id": next(p["id"] for p in participants if p.get("userId") == user),
        "session_id": session.json["id"],
        "bu_id": bu,
        "week_id": WEEK,
        "schedule_id": schedule,
        "operation_id": operation,
        "ready_key": slot({"published": False, "metadata": {"version": 2}}),
        "upload_key": slot(None),
        "download_key": download,
        "toxic": "idle",
        "channel_id": channel.json["id"],
        "target_id": target.json["id"],
        "queue_id": client.get(f"/api/v2/users/{user}/queues", headers=auth).json["entities"][0]["id"],
        "member_queue_id": client.get(f"/api/v2/users/{user}/queues", headers=auth).json["entities"][0]["id"],
        "group_id": client.get("/api/v2/groups", headers=auth).json["entities"][0]["id"],
        "skill_id": client.get("/api/v2/routing/skills", headers=auth).json["entities"][0]["id"],
        "presence_id": "6a3af858-942f-489d-9700-5f9bcdcdae9b",
        "definition_id": "6a3af858-942f-489d-9700-5f9bcdcdae9b",
    }


def stop_event_threads(app: Flask) -> None:
    """A channel or webhook starts the app's WebSocket server and delivery thread; stop them."""
    runtime = app.extensions.get("mockgc.events")
    if runtime is not None:
        runtime.stop()


@pytest.fixture
def fresh(app: Flask) -> Iterator[Case]:
    """A new org, for cases whose requests succeed and so change state."""
    yield build_world(app)
    stop_event_threads(app)


@pytest.fixture(scope="module")
def shared() -> Iterator[Case]:
    """One org for the read-only cases: each of their requests must be refused, so none changes
    state, and building an app per case (Werkzeug compiles every rule) would dominate the run.
    The rate limit is off so several hundred requests on one token are not throttled."""
    settings = Settings(
        seed=7,
        agents=20,
        profile="fast",
        admin_key=ADMIN_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        rate_limit_per_minute=0,
    )
    app = create_app(settings, clock=VirtualClock())
    yield build_world(app)
    stop_event_threads(app)


# -- the sweep ---------------------------------------------------------------------


def test_every_route_is_in_the_sweep(app: Flask) -> None:
    assert REGISTERED, "no routes found"
    missing = [key for key in REGISTERED if key not in ROUTES]
    assert missing == [], f"add these routes (with a valid body or None) to ROUTES: {missing}"
    assert sorted(ROUTES) == REGISTERED  # no stale entries either
    params = {param for _, _, param in PARAM_CASES}
    assert params <= set(UNKNOWN), f"add an unknown value for {params - set(UNKNOWN)}"


@pytest.mark.parametrize(("method", "rule"), REGISTERED, ids=[f"{m} {r}" for m, r in REGISTERED])
def test_valid_requests_succeed(fresh: Case, method: str, rule: str, caplog: pytest.LogCaptureFixture) -> None:
    """The baseline: with the valid body, each route answers 2xx, so a 4xx below is the bad input's doing."""
    client, world = fresh
    assert (method, rule) in ROUTES, "see test_every_route_is_in_the_sweep"
    factory = ROUTES[(method, rule)]
    if rule == "/oauth/token":
        response = client.post(
            rule, data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        )
    elif factory is None:
        response = send(client, method, rule, world)
    else:
        response = send(client, method, rule, world, data=encode(rule, factory(world)), content_type="application/json")
    assert 200 <= response.status_code < 300, (response.status_code, response.get_json(silent=True))
    assert response.headers["ININ-Correlation-Id"]
    assert_nothing_logged(caplog)


@pytest.mark.parametrize("kind", list(BAD_BODIES))
@pytest.mark.parametrize(("method", "rule"), BODY_ROUTES, ids=[f"{m} {r}" for m, r in BODY_ROUTES])
def test_bad_bodies_get_a_4xx_platform_error(
    shared: Case, method: str, rule: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    client, world = shared
    data, content_type, status, codes = BAD_BODIES[kind]
    response = send(client, method, rule, world, data=data, content_type=content_type)
    if rule == "/oauth/token" and kind != "oversized":
        # The token endpoint reads a form: a JSON body simply has no grant_type.
        assert response.status_code == 400 and response.json["error"] == "unsupported_grant_type"
    else:
        body = assert_platform_error(response, status)
        assert body["code"] in codes
    assert_nothing_logged(caplog)


@pytest.mark.parametrize(
    ("method", "rule", "wrong"), WRONG_TYPE_CASES, ids=[f"{m} {r} {w}" for m, r, w in WRONG_TYPE_CASES]
)
def test_json_of_the_wrong_type_is_a_400(
    shared: Case, method: str, rule: str, wrong: str, caplog: pytest.LogCaptureFixture
) -> None:
    client, world = shared
    value = WRONG_TYPES[wrong]
    response = send(client, method, rule, world, data=encode(rule, value), content_type="application/json")
    body = assert_platform_error(response, 400)
    assert body["code"] in ("bad.request", "invalid.value")
    assert_nothing_logged(caplog)


@pytest.mark.parametrize(("method", "rule"), [k for k in BODY_ROUTES if k[1] not in RAW_BODY], ids=lambda v: str(v))
def test_a_wrong_content_type_is_a_415(shared: Case, method: str, rule: str, caplog: pytest.LogCaptureFixture) -> None:
    client, world = shared
    factory = ROUTES[(method, rule)]
    assert factory is not None
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        data = json.dumps(factory(world)).encode()  # a valid body: only the content type is wrong
        response = send(client, method, rule, world, data=data, content_type=content_type)
        assert assert_platform_error(response, 415)["code"] == "unsupported.media.type"
    assert_nothing_logged(caplog)


@pytest.mark.parametrize(("method", "rule"), BODY_ROUTES, ids=[f"{m} {r}" for m, r in BODY_ROUTES])
def test_hostile_values_anywhere_in_a_valid_body_never_500(
    fresh: Case, method: str, rule: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Replace each value of the valid body, at any depth, with each hostile value."""
    client, world = fresh
    factory = ROUTES[(method, rule)]
    assert factory is not None
    valid = factory(world)
    cases = 0
    for path in _paths(valid):
        for hostile in HOSTILE:
            mutated = _replace(valid, path, hostile)
            if rule == "/oauth/token":
                response = client.post(rule, data={k: str(v) for k, v in mutated.items()})
                check: Callable[[TestResponse], Any] = assert_oauth_or_platform_error
            else:
                response = send(
                    client, method, rule, world, data=encode(rule, mutated), content_type="application/json"
                )
                check = assert_platform_error
            assert response.status_code < 500, (path, hostile, response.get_json(silent=True))
            if response.status_code >= 400:
                check(response)
            cases += 1
    assert cases >= len(HOSTILE)
    assert_nothing_logged(caplog)


@pytest.mark.parametrize(("method", "rule", "param"), PARAM_CASES, ids=[f"{m} {r} <{p}>" for m, r, p in PARAM_CASES])
def test_unknown_ids_in_the_path(
    shared: Case, method: str, rule: str, param: str, caplog: pytest.LogCaptureFixture
) -> None:
    client, world = shared
    assert (method, rule) in ROUTES and param in UNKNOWN, "see test_every_route_is_in_the_sweep"
    unknown, status, code = UNKNOWN[param]
    factory = ROUTES[(method, rule)]
    data = encode(rule, factory(world)) if factory is not None else None
    response = send(client, method, rule, world, data=data, content_type="application/json", **{param: unknown})
    if method == "HEAD":  # a HEAD answer has no body to check
        assert response.status_code == status and response.headers["ININ-Correlation-Id"]
    else:
        assert assert_platform_error(response, status)["code"] == code
    assert_nothing_logged(caplog)


BODY_AND_ID_CASES = [(m, r, p) for m, r, p in PARAM_CASES if ROUTES.get((m, r)) is not None and r not in RAW_BODY]


@pytest.mark.parametrize(
    ("method", "rule", "param"), BODY_AND_ID_CASES, ids=[f"{m} {r} <{p}>" for m, r, p in BODY_AND_ID_CASES]
)
def test_the_body_is_refused_before_the_paths_ids_are_looked_up(
    shared: Case, method: str, rule: str, param: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The HTTP layer parses the body before the domain looks anything up: an unknown id with a body of
    the wrong type is the body's 400, on every route (the upload target alone checks its key first)."""
    client, world = shared
    unknown = UNKNOWN[param][0]
    response = send(client, method, rule, world, data=b"42", content_type="application/json", **{param: unknown})
    assert assert_platform_error(response, 400)["code"] in ("bad.request", "invalid.value")
    assert_nothing_logged(caplog)


@pytest.mark.parametrize(
    ("method", "rule"),
    [k for k in REGISTERED if k in ROUTES and ROUTES[k] is None],
    ids=[f"{m} {r}" for m, r in REGISTERED if (m, r) in ROUTES and ROUTES[(m, r)] is None],
)
def test_routes_without_a_body_ignore_junk_and_never_500(
    fresh: Case, method: str, rule: str, caplog: pytest.LogCaptureFixture
) -> None:
    client, world = fresh
    for data, content_type, _, _ in BAD_BODIES.values():
        response = send(client, method, rule, world, data=data, content_type=content_type)
        assert response.status_code < 500
        if len(data or b"") > 512_000:  # the platform refuses any body over the limit, read or not
            assert response.status_code == 413
        if response.status_code >= 400 and method != "HEAD":  # HEAD answers carry no body
            assert_platform_error(response)
    assert_nothing_logged(caplog)


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_head_and_options_never_500(fresh: Case, method: str, caplog: pytest.LogCaptureFixture) -> None:
    client, world = fresh
    for _, rule in REGISTERED:
        response = send(client, method, rule, world)
        assert response.status_code < 500, (method, rule)
    assert_nothing_logged(caplog)


def test_missing_or_bad_tokens_on_every_api_route(shared: Case, caplog: pytest.LogCaptureFixture) -> None:
    client, world = shared
    # The OpenAPI document is public, as the platform's API docs are.
    api = [(m, r) for m, r in REGISTERED if r.startswith("/api/v2/") and r != "/api/v2/docs/openapi.json"]
    assert len(api) > 15
    for method, rule in api:
        url = fill(rule, world)
        missing = client.open(url, method=method, json={})
        bad = client.open(url, method=method, json={}, headers={"Authorization": "Bearer forged"})
        if method == "HEAD":  # no body to check
            assert (missing.status_code, bad.status_code) == (401, 401), rule
            continue
        assert assert_platform_error(missing, 401)["code"] == "authentication.required", rule
        assert assert_platform_error(bad, 401)["code"] == "bad.credentials", rule
    for method, rule in [(m, r) for m, r in REGISTERED if r.startswith("/mock/")]:
        response = client.open(fill(rule, world), method=method, json={})
        assert assert_platform_error(response, 401)["code"] == "authentication.required", rule
    assert_nothing_logged(caplog)


def test_an_unexpected_error_is_a_logged_500_with_the_error_body(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The net under the sweep: if a route did crash, the checks above would see it."""
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.json
    assert (body["code"], body["status"]) == ("internal.server.error", 500)
    assert "kaboom" not in response.get_data(as_text=True)  # no traceback or detail leaks
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    with pytest.raises(AssertionError):
        assert_nothing_logged(caplog)


# -- value paths for the hostile sweep -----------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _paths(item, (*prefix, index))
    return paths


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy
