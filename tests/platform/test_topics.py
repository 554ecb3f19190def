"""Every notification topic of the grammar is fired by the mock's own changes, each body in its SDK model."""

from __future__ import annotations

from flask.testing import FlaskClient

from mockgc.clock import VirtualClock
from mockgc.platform.domain.topics import TOPICS
from tests.platform.sdk_conformance import assert_sdk_conforms

WFM = "/api/v2/workforcemanagement/businessunits"


def test_every_topic_fires_on_the_mocks_own_changes_with_its_sdk_model(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], org: dict[str, str], clock: VirtualClock
) -> None:
    user, bu = org["user"], org["bu"]
    platform = client.application.extensions["mockgc"].platform
    queue = next(q for q, joined in platform.users.agents[user].queues.items() if joined)
    # A user's presence and routing status (and so its activity), and a queue's membership.
    client.patch(
        f"/api/v2/users/{user}/presences/purecloud",
        json={"presenceDefinition": {"systemPresence": "On Queue"}},
        headers=auth,
    )
    client.put(f"/api/v2/users/{user}/routingstatus", json={"status": "INTERACTING"}, headers=auth)
    client.patch(f"/api/v2/users/{user}/queues/{queue}", json={"joined": False}, headers=auth)
    client.patch(f"/api/v2/users/{user}/queues/{queue}", json={"joined": True}, headers=auth)
    # A call on the user's queue, and its participant's attributes.
    call = client.post("/api/v2/conversations/calls", json={"callUserId": user}, headers=auth).json["id"]
    agent = next(
        p for p in client.get(f"/api/v2/conversations/{call}", headers=auth).json["participants"] if p.get("userId")
    )
    client.patch(
        f"/api/v2/conversations/{call}/participants/{agent['id']}/attributes",
        json={"attributes": {"k": "v"}},
        headers=auth,
    )
    # A schedule published, and an asynchronous agent schedules query.
    schedule = client.post(f"{WFM}/{bu}/weeks/2026-11-23/schedules", json={}, headers=auth).json["id"]
    query = f"{WFM}/{bu}/weeks/2026-11-23/schedules/{schedule}/agentschedules/query?forceAsync=true"
    assert client.post(query, json={}, headers=auth).status_code == 200
    operation = platform.publish_schedule(bu)
    clock.set(operation.completes_at + 2)
    client.get("/mock/info", headers=admin)  # any request runs what fell due

    events = client.get("/mock/events", headers=admin).json["entities"]
    fired: set[str] = set()
    for event in events:
        [pattern] = [p for p in TOPICS if p.ids(event["topicName"]) is not None]
        assert_sdk_conforms(event["eventBody"], pattern.model)
        fired.add(pattern.template)
    assert fired == {p.template for p in TOPICS}, sorted({p.template for p in TOPICS} - fired)
    on_queue_calls = [e for e in events if e["topicName"] == f"v2.routing.queues.{queue}.conversations.calls"]
    assert on_queue_calls and on_queue_calls[-1]["eventBody"]["id"] == call
    attributes = [
        e["eventBody"]
        for e in events
        if e["topicName"] == f"v2.users.{user}.conversations" and e["eventBody"]["id"] == call
    ]
    assert next(p for p in attributes[-1]["participants"] if p.get("userId"))["attributes"] == {"k": "v"}
