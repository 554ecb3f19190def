"""Notifications API: channels, subscriptions and a real WebSocket client receiving platform events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mockgc.clock import VirtualClock
from mockgc.platform.domain.notifications import MAX_CHANNELS_PER_CLIENT
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.settings import Settings
from tests.conftest import basic

CHANNELS = "/api/v2/notifications/channels"


@pytest.fixture
def app(settings: Settings, clock: VirtualClock) -> Iterator[Flask]:
    from mockgc.platform.http.app import create_app

    app = create_app(settings, clock=clock)
    app.config["MOCKGC_WS_HEARTBEAT_SECONDS"] = 0.2  # short, so a test sees one without waiting 30 s
    yield app
    events_runtime(app).stop()


@pytest.fixture
def channel(client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    response = client.post(CHANNELS, headers=auth)
    assert response.status_code == 200, response.json
    return dict(response.json)


@pytest.fixture
def ids(client: FlaskClient, admin: dict[str, str]) -> dict[str, str]:
    info = client.get("/mock/info", headers=admin).json
    return {"bu": info["businessUnits"][0]["id"], "user": info["users"][0]["id"], "other": info["users"][1]["id"]}


def subscriptions(channel: dict[str, Any]) -> str:
    return f"{CHANNELS}/{channel['id']}/subscriptions"


def receive(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool], limit: int = 20) -> dict[str, Any]:
    """The first message that matches, skipping heartbeats and others (each recv waits at most 5 s)."""
    for _ in range(limit):
        message = json.loads(ws.recv(timeout=5))
        if wanted(message):
            return message
    raise AssertionError("no matching message arrived")


def test_create_channel_returns_connect_uri_id_and_expiry(channel: dict[str, Any]) -> None:
    assert set(channel) == {"connectUri", "id", "expires"}
    assert channel["id"].startswith("streaming-0-")
    assert channel["connectUri"].startswith("ws://127.0.0.1:")
    assert channel["connectUri"].endswith(f"/channels/{channel['id']}")
    assert channel["expires"].endswith("Z")


def test_subscriptions_put_post_get_delete(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    schedules = f"v2.workforcemanagement.businessunits.{ids['bu']}.schedules"
    presence = f"v2.users.{ids['user']}.presence"
    routing = f"v2.users.{ids['user']}.routingStatus"
    url = subscriptions(channel)
    assert client.get(url, headers=auth).json == {"entities": []}
    put = client.put(url, json=[{"id": schedules}, {"id": presence}], headers=auth)
    assert put.status_code == 200 and put.json["entities"] == [{"id": schedules}, {"id": presence}]
    post = client.post(url, json=[{"id": routing}, {"id": presence}], headers=auth)
    assert [e["id"] for e in post.json["entities"]] == [schedules, presence, routing]  # POST adds, no duplicates
    replaced = client.put(url, json=[{"id": routing}], headers=auth)
    assert replaced.json["entities"] == [{"id": routing}]  # PUT replaces
    assert client.delete(url, headers=auth).status_code == 204
    assert client.get(url, headers=auth).json == {"entities": []}


def test_an_invalid_topic_is_rejected_with_the_platform_error_body(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    url = subscriptions(channel)
    good = f"v2.users.{ids['user']}.presence"
    client.put(url, json=[{"id": good}], headers=auth)
    response = client.post(url, json=[{"id": good}, {"id": "v2.users.someone.favouriteColour"}], headers=auth)
    assert response.status_code == 400
    body = response.json
    assert body["code"] == "bad.request" and body["status"] == 400
    assert set(body) >= {"message", "code", "status", "contextId", "details", "errors"}
    assert "v2.users.someone.favouriteColour" in body["message"]
    assert body["details"][0]["entityId"] == "v2.users.someone.favouriteColour"
    # Nothing changed: a request with any invalid topic is refused whole.
    assert client.get(url, headers=auth).json == {"entities": [{"id": good}]}
    for bad_body in ({"id": good}, ["plain string"], [{"id": ""}]):
        assert client.put(url, json=bad_body, headers=auth).status_code == 400


def test_channels_belong_to_their_client(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], channel: dict[str, Any]
) -> None:
    client.post("/mock/oauth/clients", json={"clientId": "other", "clientSecret": "s"}, headers=admin)
    token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic("other", "s")}
    ).json["access_token"]
    other = {"Authorization": f"Bearer {token}"}
    assert client.get(subscriptions(channel), headers=other).status_code == 404
    assert client.get(CHANNELS, headers=other).json == {"entities": []}
    assert [c["id"] for c in client.get(CHANNELS, headers=auth).json["entities"]] == [channel["id"]]
    assert client.head(f"{CHANNELS}/{channel['id']}", headers=auth).status_code == 200
    assert client.get(f"{CHANNELS}/streaming-0-nope/subscriptions", headers=auth).status_code == 404
    assert client.post(CHANNELS).status_code == 401


def test_a_client_keeps_at_most_twenty_channels_oldest_go_first(
    client: FlaskClient, auth: dict[str, str], clock: VirtualClock
) -> None:
    made = []
    for _ in range(MAX_CHANNELS_PER_CLIENT + 2):
        made.append(client.post(CHANNELS, headers=auth).json["id"])
        clock.advance(1)
    listed = [c["id"] for c in client.get(CHANNELS, headers=auth).json["entities"]]
    assert listed == made[2:]


def test_channels_expire_after_a_day(client: FlaskClient, channel: dict[str, Any], clock: VirtualClock) -> None:
    clock.advance(86_400)
    # The token from before has expired too: a fresh one sees that the channel is gone.
    token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic()}
    ).json["access_token"]
    assert client.get(subscriptions(channel), headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_websocket_gets_heartbeats_and_pong(channel: dict[str, Any]) -> None:
    with connect(channel["connectUri"]) as ws:
        heartbeat = json.loads(ws.recv(timeout=5))
        assert heartbeat == {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}
        ws.send(json.dumps({"message": "ping"}))
        pong = receive(ws, lambda m: m["eventBody"].get("message") == "pong")
        assert pong["topicName"] == "channel.metadata"


def test_websocket_for_an_unknown_channel_is_refused(channel: dict[str, Any]) -> None:
    unknown = channel["connectUri"].rsplit("/", 1)[0] + "/streaming-0-unknown"
    with pytest.raises(InvalidStatus) as refused:
        connect(unknown, open_timeout=5)
    assert refused.value.response.status_code == 404


def test_websocket_delivers_subscribed_user_events_only(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    user, other = ids["user"], ids["other"]
    client.put(
        subscriptions(channel),
        json=[{"id": f"v2.users.{user}.routingStatus"}, {"id": f"v2.users.{user}.presence"}],
        headers=auth,
    )
    with connect(channel["connectUri"]) as ws:
        # The other user's change is not subscribed: it must not arrive before ours.
        client.put(f"/api/v2/users/{other}/routingstatus", json={"status": "OFF_QUEUE"}, headers=auth)
        client.put(f"/api/v2/users/{user}/routingstatus", json={"status": "OFF_QUEUE"}, headers=auth)
        client.patch(
            f"/api/v2/users/{user}/presences/purecloud",
            json={"presenceDefinition": {"systemPresence": "Busy"}},
            headers=auth,
        )
        routing = receive(ws, lambda m: m["topicName"] != "channel.metadata")
        assert routing["topicName"] == f"v2.users.{user}.routingStatus"
        assert routing["version"] == "2"
        assert routing["eventBody"]["routingStatus"]["status"] == "OFF_QUEUE"
        assert routing["metadata"]["CorrelationId"]
        presence = receive(ws, lambda m: m["topicName"] != "channel.metadata")
        assert presence["topicName"] == f"v2.users.{user}.presence"
        assert presence["eventBody"]["presenceDefinition"]["systemPresence"] == "Busy"


def test_websocket_announces_a_publish_when_it_completes(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str], clock: VirtualClock
) -> None:
    topic = f"v2.workforcemanagement.businessunits.{ids['bu']}.schedules"
    client.put(subscriptions(channel), json=[{"id": topic}], headers=auth)
    platform = client.application.extensions["mockgc"].platform
    with connect(channel["connectUri"]) as ws:
        operation = platform.publish_schedule(ids["bu"])
        # No request comes after this: the events thread's settle tick must fire the completion.
        clock.set(operation.completes_at + 0.01)
        message = receive(ws, lambda m: m["topicName"] == topic)
    body = message["eventBody"]
    assert body["operationId"] == operation.id
    assert (body["status"], body["eventType"]) == ("Complete", "Update")
    assert body["result"]["published"] is True


def test_channels_survive_an_org_reset(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    user = ids["user"]
    client.put(subscriptions(channel), json=[{"id": f"v2.users.{user}.routingStatus"}], headers=auth)
    assert client.post("/mock/reset", json={}, headers=admin).status_code == 200
    token = client.post(  # the new org issued no tokens yet
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic()}
    ).json["access_token"]
    with connect(channel["connectUri"]) as ws:
        changed = client.put(
            f"/api/v2/users/{user}/routingstatus", json={"status": "IDLE"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert changed.status_code == 200
        message = receive(ws, lambda m: m["topicName"] != "channel.metadata")
    assert message["topicName"] == f"v2.users.{user}.routingStatus"


def test_a_new_connection_replaces_the_old_one(channel: dict[str, Any]) -> None:
    with connect(channel["connectUri"]) as first:
        json.loads(first.recv(timeout=5))  # the first is live
        with connect(channel["connectUri"]) as second:
            assert json.loads(second.recv(timeout=5))["topicName"] == "channel.metadata"
            with pytest.raises(Exception):  # noqa: B017 - closed by the server, however it is reported
                for _ in range(20):
                    first.recv(timeout=5)


def test_a_channel_nobody_reads_keeps_only_its_newest_messages() -> None:
    import queue

    from mockgc.platform.domain.notifications import Channel

    channel = Channel("c", "owner", 0.0, 10.0, outbox=queue.Queue(3))
    for n in range(5):
        channel.offer({"n": n})
    assert [channel.outbox.get_nowait()["n"] for _ in range(3)] == [2, 3, 4]
    assert channel.dropped == 2
