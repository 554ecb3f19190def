"""The in-process transport answers as the HTTP layer does: the same calls, the same statuses and bodies."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from mockgc.clock import VirtualClock
from mockgc.drivers.http import build_request
from mockgc.drivers.inprocess import InProcessTransport
from mockgc.faults import get_profile
from mockgc.platform.domain.backend import Platform
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import Settings
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET, basic

T0 = 1_795_000_000.0


def twin_orgs() -> tuple[InProcessTransport, Platform, FlaskClient, Platform, list[VirtualClock]]:
    """Two orgs built alike: one called in process, one over the app (archive off in both)."""
    settings = Settings(
        seed=5,
        agents=20,
        profile="seed-default",
        admin_key=ADMIN_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        rate_limit_per_minute=0,
        archive_after_seconds=0,
    )
    local_clock, served_clock = VirtualClock(T0), VirtualClock(T0)
    local = Platform(settings.org, get_profile("seed-default"), local_clock)
    app = create_app(settings, clock=served_clock)
    client = app.test_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic()})
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token.json['access_token']}"
    served = app.extensions["mockgc"].platform
    return InProcessTransport(local), local, client, served, [local_clock, served_clock]


def over_http(client: FlaskClient, op: str, params: dict[str, Any]) -> tuple[int, Any]:
    method, path, body = build_request(op, params)
    response = client.open(path, method=method, json=body)
    answer = response.get_json(silent=True)
    if isinstance(answer, dict):
        answer.pop("contextId", None)  # the correlation id: the one field in process has none of
    return response.status_code, answer


def test_every_operation_answers_alike_in_process_and_over_http() -> None:
    transport, local, client, served, clocks = twin_orgs()
    agent, bu = next(iter(local.agents)), next(iter(local.business_units))
    assert (agent, bu) == (next(iter(served.agents)), next(iter(served.business_units)))  # same seed, same ids
    answers: list[tuple[str, Any, Any]] = []

    def both(op: str, params: dict[str, Any]) -> Any:
        reply = transport.call(op, params)
        body = dict(reply.body) if isinstance(reply.body, dict) else reply.body
        if isinstance(body, dict):
            body.pop("contextId", None)
        answers.append((op, (reply.status, body), over_http(client, op, params)))
        return reply.body

    call = both("create_call", {"userId": agent})["id"]
    both("create_call", {"userId": "nobody"})
    session = both("create_session", {"userId": agent, "conversationId": call})["id"]
    both("create_session", {"userId": agent, "conversationId": "no-such-call"})
    both("set_data", {"sessionId": session, "name": "pref", "value": "A"})
    both("set_data", {"sessionId": session, "name": "pref", "value": 5})
    both("set_data", {"sessionId": session, "name": "pref", "value": "B", "expectedVersion": 0})
    both("set_data", {"sessionId": "no-such-session", "name": "pref", "value": "B"})
    both("read_session", {"sessionId": session})
    both("evaluate", {"sessionId": session, "variable": "pref"})
    both("evaluate", {"sessionId": session, "variable": ""})
    participant = local.conversations.get(call).participants[1].id
    both("patch_attributes", {"conversationId": call, "participantId": participant, "attributes": {"a": "b"}})
    both("patch_attributes", {"conversationId": call, "participantId": "nobody", "attributes": {"a": "b"}})
    both("patch_attributes", {"conversationId": call, "participantId": "nobody", "attributes": {"a": 1}})
    both("list_operations", {"businessUnitId": bu})
    both("list_operations", {"businessUnitId": "no-such-bu"})
    too_many = [{"sessionId": session, "variables": {"n": "1"}}] * (local.settings.script_data_chunk_limit + 1)
    both("script_data", {"updates": too_many})

    operation = local.publish_schedule(bu)
    assert served.publish_schedule(bu).id == operation.id
    for clock in clocks:
        clock.advance(0.05)  # inside the first batch's hold: the agent is held
    both("set_data", {"sessionId": session, "name": "pref", "value": "C"})
    both("read_session", {"sessionId": session})
    both("attach", {"sessionId": session})
    both(
        "script_data",
        {"updates": [{"sessionId": session, "variables": {"pref": "D"}}, {"sessionId": "x", "variables": {}}]},
    )
    both("list_operations", {"businessUnitId": bu})
    for clock in clocks:
        clock.set(operation.completes_at)
    both("evaluate", {"sessionId": session, "variable": "pref"})
    both("list_operations", {"businessUnitId": bu})

    statuses = [local_answer[0] for _, local_answer, _ in answers]
    assert {200, 201, 202, 400, 404, 409} <= set(statuses)  # every kind of answer was compared
    for op, local_answer, served_answer in answers:
        assert local_answer == served_answer, op
    assert local.ground_truth() == served.ground_truth()
