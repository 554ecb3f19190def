"""Notifications API: channels, subscriptions and a real WebSocket client receiving platform events."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mockgc.clock import VirtualClock
from mockgc.platform.domain.notifications import MAX_CHANNELS_PER_CLIENT
from mockgc.platform.domain.topics import BUSINESS_UNIT, QUEUE, TOPICS, USER
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.platform.settings import Settings
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
    # Off queue first, so leaving the queue below makes no presence change of its own.
    client.patch(
        f"/api/v2/users/{user}/presences/purecloud",
        json={"presenceDefinition": {"systemPresence": "Away"}},
        headers=auth,
    )
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


# -- the topic grammar and ignoreErrors ----------------------------------------------------------


def test_any_topic_of_the_grammar_naming_an_existing_entity_is_accepted(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    queue = client.application.extensions["mockgc"].platform.routing.queues
    by_kind = {USER: ids["user"], BUSINESS_UNIT: ids["bu"], QUEUE: next(iter(queue))}
    topics = [pattern.template.replace("{id}", by_kind[pattern.entities[0]]) for pattern in TOPICS]
    response = client.put(subscriptions(channel), json=[{"id": t} for t in topics], headers=auth)
    assert response.status_code == 200, response.json
    assert [e["id"] for e in response.json["entities"]] == topics
    listed = client.get("/api/v2/notifications/availabletopics", headers=auth).json["entities"]
    assert [t["id"] for t in listed] == [p.template for p in TOPICS]


def test_a_topic_naming_no_entity_of_its_kind_is_refused(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    # A business unit's id where a user's belongs, and a user's where a business unit's belongs.
    for topic in (f"v2.users.{ids['bu']}.presence", f"v2.workforcemanagement.businessunits.{ids['user']}.schedules"):
        response = client.post(subscriptions(channel), json=[{"id": topic}], headers=auth)
        assert response.status_code == 400 and response.json["details"][0]["entityId"] == topic


def test_ignore_errors_marks_bad_topics_rejected_and_subscribes_the_rest(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    good = f"v2.users.{ids['user']}.presence"
    unknown_user = "v2.users.00000000-0000-4000-8000-000000000000.presence"
    not_a_topic = "v2.users.someone.favouriteColour"
    body = [{"id": good}, {"id": unknown_user}, {"id": not_a_topic}]
    answer = client.post(subscriptions(channel) + "?ignoreErrors=true", json=body, headers=auth)
    assert answer.status_code == 200, answer.json
    by_id = {e["id"]: e for e in answer.json["entities"]}
    assert by_id[good] == {"id": good, "state": "Permitted"}
    assert by_id[unknown_user]["state"] == by_id[not_a_topic]["state"] == "Rejected"
    assert "user" in by_id[unknown_user]["rejectionReason"]
    assert "not a valid notification topic" in by_id[not_a_topic]["rejectionReason"]
    assert client.get(subscriptions(channel), headers=auth).json == {"entities": [{"id": good}]}
    # Without the flag the same request is the platform's 400 and changes nothing.
    refused = client.put(subscriptions(channel), json=body, headers=auth)
    assert refused.status_code == 400
    assert {d["entityId"] for d in refused.json["details"]} == {unknown_user, not_a_topic}
    assert client.get(subscriptions(channel), headers=auth).json == {"entities": [{"id": good}]}
    bad_flag = client.post(subscriptions(channel) + "?ignoreErrors=maybe", json=body, headers=auth)
    assert bad_flag.status_code == 400 and bad_flag.json["details"] == [{"fieldName": "ignoreErrors"}]


def test_event_bodies_are_the_topic_models(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    user = ids["user"]
    client.put(
        subscriptions(channel),
        json=[{"id": f"v2.users.{user}.routingStatus"}, {"id": f"v2.users.{user}.presence"}],
        headers=auth,
    )
    with connect(channel["connectUri"]) as ws:
        client.put(f"/api/v2/users/{user}/routingstatus", json={"status": "OFF_QUEUE"}, headers=auth)
        client.patch(
            f"/api/v2/users/{user}/presences/purecloud",
            json={"presenceDefinition": {"systemPresence": "Busy"}, "message": "lunch"},
            headers=auth,
        )
        routing = receive(ws, lambda m: m["topicName"].endswith("routingStatus"))["eventBody"]
        presence = receive(ws, lambda m: m["topicName"].endswith("presence"))["eventBody"]
    assert routing["id"] == user and set(routing) == {"id", "routingStatus"}
    assert set(routing["routingStatus"]) == {"status", "startTime"}
    assert set(presence) == {"source", "presenceDefinition", "primary", "message", "modifiedDate"}
    assert set(presence["presenceDefinition"]) == {"id", "systemPresence"}
    assert presence["message"] == "lunch"


# -- the WebSocket's client messages ----------------------------------------------------------


def test_websocket_subscribe_and_unsubscribe_agree_with_the_rest_list(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    topic = f"v2.users.{ids['user']}.routingStatus"
    with connect(channel["connectUri"]) as ws:
        ws.send(json.dumps({"message": "subscribe", "topics": [topic], "correlationId": "c-1"}))
        answer = receive(ws, lambda m: "result" in m)
        assert answer == {"correlationId": "c-1", "topics": [topic], "result": "200", "status": "subscribed"}
        assert client.get(subscriptions(channel), headers=auth).json == {"entities": [{"id": topic}]}
        client.put(f"/api/v2/users/{ids['user']}/routingstatus", json={"status": "OFF_QUEUE"}, headers=auth)
        assert receive(ws, lambda m: m.get("topicName") == topic)["eventBody"]["id"] == ids["user"]

        ws.send(json.dumps({"message": "unsubscribe", "topics": [topic], "correlationId": "c-2"}))
        gone = receive(ws, lambda m: "result" in m)
        assert gone == {"correlationId": "c-2", "topics": [topic], "result": "200", "status": "unsubscribed"}
        assert client.get(subscriptions(channel), headers=auth).json == {"entities": []}


def test_websocket_subscribe_failures_carry_the_correlation_id_and_change_nothing(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], ids: dict[str, str]
) -> None:
    good = f"v2.users.{ids['user']}.presence"
    with connect(channel["connectUri"]) as ws:
        ws.send(json.dumps({"message": "subscribe", "topics": [good, "v2.nothing"], "correlationId": "bad-topic"}))
        failed = receive(ws, lambda m: "result" in m)
        assert (failed["correlationId"], failed["result"], failed["status"]) == ("bad-topic", "400", "failure")
        assert "v2.nothing" in failed["message"]
        ws.send(json.dumps({"message": "subscribe", "correlationId": "no-topics"}))
        missing = receive(ws, lambda m: "result" in m)
        assert missing == {
            "correlationId": "no-topics",
            "topics": [],
            "result": "400",
            "status": "error",
            "message": "Required data missing from subscribe request.",
        }
        ws.send(json.dumps({"message": "dance", "correlationId": "what"}))
        unknown = receive(ws, lambda m: "result" in m)
        assert (unknown["correlationId"], unknown["status"]) == ("what", "error")
    assert client.get(subscriptions(channel), headers=auth).json == {"entities": []}


def closing_then_closed(ws: ClientConnection) -> None:
    """The socket gets v2.system.socket_closing, then the server closes it."""
    warning = receive(ws, lambda m: m.get("topicName") != "channel.metadata")
    assert warning["topicName"] == "v2.system.socket_closing"
    with pytest.raises(ConnectionClosed):
        for _ in range(20):
            ws.recv(timeout=5)


def test_a_socket_is_warned_a_minute_before_its_channel_expires_on_the_org_clock(
    channel: dict[str, Any], clock: VirtualClock
) -> None:
    with connect(channel["connectUri"]) as ws:
        clock.advance(86_400 - 90)  # a minute and a half before: no warning yet
        ws.send(json.dumps({"message": "ping"}))
        assert receive(ws, lambda m: m["topicName"] != "channel.metadata" or m["eventBody"]["message"] == "pong")[
            "eventBody"
        ] == {"message": "pong"}
        clock.advance(60)
        warning = receive(ws, lambda m: m["topicName"] != "channel.metadata")
        assert warning["topicName"] == "v2.system.socket_closing"
        clock.advance(31)
        with pytest.raises(ConnectionClosed):
            for _ in range(20):
                ws.recv(timeout=5)


def test_an_org_reset_warns_and_closes_open_sockets_but_keeps_the_channel(
    client: FlaskClient, admin: dict[str, str], channel: dict[str, Any]
) -> None:
    with connect(channel["connectUri"]) as ws:
        assert client.post("/mock/reset", json={}, headers=admin).status_code == 200
        closing_then_closed(ws)
    with connect(channel["connectUri"]) as again:
        assert json.loads(again.recv(timeout=5))["topicName"] == "channel.metadata"


def test_a_server_stop_warns_open_sockets(app: Flask, channel: dict[str, Any]) -> None:
    with connect(channel["connectUri"]) as ws:
        json.loads(ws.recv(timeout=5))  # live
        events_runtime(app).stop()
        closing_then_closed(ws)


def test_a_channel_pushed_out_by_the_clients_twenty_first_warns_its_socket(
    client: FlaskClient, auth: dict[str, str], channel: dict[str, Any], clock: VirtualClock
) -> None:
    with connect(channel["connectUri"]) as ws:
        for _ in range(MAX_CHANNELS_PER_CLIENT):
            clock.advance(1)
            client.post(CHANNELS, headers=auth)
        closing_then_closed(ws)


HALF_OPEN = 2000


@pytest.mark.skipif(not hasattr(select, "epoll"), reason="the opening gate needs edge-triggered epoll (Linux)")
def test_connections_that_never_open_hold_no_thread_and_are_closed_at_their_deadline(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    """Issue 19: 2,000 connections to the WebSocket port that never sent their opening request held
    1,893 threads. Now they wait without one, and a real client is served meanwhile."""
    app.config["MOCKGC_WS_HANDSHAKE_SECONDS"] = 2.0  # read as the first channel starts the socket server
    channel = client.post(CHANNELS, headers=auth).json
    assert channel is not None
    server = events_runtime(app).socket_server()
    host, port = server.host, server.port
    threads = threading.active_count()
    half_open = []
    try:
        for index in range(HALF_OPEN):
            sock = socket.create_connection((host, port), timeout=30)
            if index % 2:  # half of them send part of a request, the rest nothing
                sock.sendall(b"GET /channels/x HTTP/1.1\r\nHost: x\r\n")
            half_open.append(sock)
        with connect(channel["connectUri"], open_timeout=30) as ws:
            assert json.loads(ws.recv(timeout=30))["topicName"] == "channel.metadata"
            # A handful for the one open socket (the server's handler, reader and keepalive, the
            # client's own two), none for the 2,000.
            assert threading.active_count() <= threads + 10
        # Each is closed by the server once its opening deadline passed: EOF, or a reset where
        # the server closed with the partial request unread.
        for sock in half_open:
            sock.settimeout(30)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1) == b""
    finally:
        for sock in half_open:
            sock.close()
