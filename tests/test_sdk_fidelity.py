"""Issues 12 and 13 through the official SDK: WFM, conversations and notifications answers conform to its models."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from typing import Any

import PureCloudPlatformClientV2 as gc
import pytest
import requests
from PureCloudPlatformClientV2.rest import ApiException

from mockgc.clock import VirtualClock
from mockgc.platform.http.app import create_app
from mockgc.server import ServerThread
from mockgc.settings import Settings
from tests.test_sdk import ADMIN, WEEK, SdkFactory, admin_get, admin_post, build, make_sdk, sdk_globals  # noqa: F401

pytestmark = pytest.mark.timeout(60)

_LIST = re.compile(r"^list\[(.+)\]$")
_DICT = re.compile(r"^dict\(str, (.+)\)$")


def conforms(body: Any, model: str, path: str = "$") -> None:
    """Every field the mock sent is an attribute of the SDK's model (recursively), and the SDK reads it
    back without losing any: deserialized and serialized again, it has the same fields."""
    _fields_in_model(body, model, path)
    api = gc.ApiClient()
    typed = api._ApiClient__deserialize(body, model)  # the SDK's own reader of a response body
    assert _shape(api.sanitize_for_serialization(typed)) == _shape(body), f"{model} lost fields"


def _fields_in_model(body: Any, type_name: str, path: str) -> None:
    if body is None:
        return
    if match := _LIST.match(type_name):
        assert isinstance(body, list), f"{path}: not a list"
        for index, item in enumerate(body):
            _fields_in_model(item, match.group(1), f"{path}[{index}]")
        return
    if match := _DICT.match(type_name):
        assert isinstance(body, dict), f"{path}: not an object"
        for key, item in body.items():
            _fields_in_model(item, match.group(1), f"{path}.{key}")
        return
    model_class = getattr(gc, type_name, None)
    if model_class is None:  # a primitive (str, int, bool, datetime, date, object)
        assert not isinstance(body, dict | list) or type_name == "object", f"{path}: {type_name} got {body!r}"
        return
    model = model_class()
    by_json = {json_name: attr for attr, json_name in model.attribute_map.items()}
    assert isinstance(body, dict), f"{path}: {type_name} must be an object"
    unknown = set(body) - set(by_json)
    assert not unknown, f"{path}: {sorted(unknown)} are not fields of {type_name}"
    for key, item in body.items():
        _fields_in_model(item, model.swagger_types[by_json[key]], f"{path}.{key}")


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__ if not isinstance(value, str) else "str"


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerThread]:
    with ServerThread(create_app(settings, clock=VirtualClock(1_795_000_000.0))) as live:
        yield live


@pytest.fixture
def api(server: ServerThread, make_sdk: SdkFactory) -> Any:
    return make_sdk(server.url)


def raw(server: ServerThread, api: Any, method: str, path: str, **kwargs: Any) -> requests.Response:
    """The same request the SDK makes, answered as bytes, to check the body field by field."""
    headers = {"Authorization": f"Bearer {api.access_token}"}
    return requests.request(method, server.url + path, headers=headers, timeout=10, **kwargs)


def ids(server: ServerThread) -> dict[str, str]:
    info = admin_get(server, "/mock/info")
    return {"bu": info["businessUnits"][0]["id"], "user": info["users"][0]["id"]}


# -- conversations ------------------------------------------------------------------------------


def test_a_call_reads_as_call_conversation_and_conversation(server: ServerThread, api: Any) -> None:
    user = ids(server)["user"]
    conversations = gc.ConversationsApi(api)
    created = conversations.post_conversations_calls(
        build(gc.CreateCallRequest, call_user_id=user, phone_number="+13125550111")
    )
    call = conversations.get_conversations_call(created.id)
    assert call.id == created.id
    agent = next(p for p in call.participants if p.purpose == "agent")
    customer = next(p for p in call.participants if p.purpose == "customer")
    assert agent.state == customer.state == "connected"
    assert agent.user.id == user and agent.name
    assert customer.name == "Customer"
    conforms(raw(server, api, "GET", f"/api/v2/conversations/calls/{created.id}").json(), "CallConversation")

    conversation = conversations.get_conversation(created.id)
    participant = next(p for p in conversation.participants if p.purpose == "agent")
    assert participant.name == agent.name and participant.user_id == user
    assert [c.state for c in participant.calls] == ["connected"]
    conforms(raw(server, api, "GET", f"/api/v2/conversations/{created.id}").json(), "Conversation")


def test_call_participant_attributes_patch_answers_the_merged_attributes(server: ServerThread, api: Any) -> None:
    conversations = gc.ConversationsApi(api)
    created = conversations.post_conversations_calls(
        build(gc.CreateCallRequest, call_user_id=ids(server)["user"], phone_number="+13125550111")
    )
    customer = next(p for p in conversations.get_conversations_call(created.id).participants if p.purpose == "customer")
    first = conversations.patch_conversations_call_participant_attributes(
        created.id, customer.id, build(gc.ParticipantAttributes, attributes={"a": "1"})
    )
    assert first.attributes == {"a": "1"}
    merged = conversations.patch_conversations_call_participant_attributes(
        created.id, customer.id, build(gc.ParticipantAttributes, attributes={"b": "2"})
    )
    assert merged.attributes == {"a": "1", "b": "2"}
    again = conversations.get_conversations_call(created.id)
    assert next(p for p in again.participants if p.id == customer.id).attributes == {"a": "1", "b": "2"}
    with pytest.raises(ApiException) as missing:
        conversations.patch_conversations_call_participant_attributes(
            created.id, "nobody", build(gc.ParticipantAttributes, attributes={"b": "2"})
        )
    assert missing.value.status == 404


# -- notifications -------------------------------------------------------------------------------


def test_ignore_errors_through_the_sdk_marks_rejected_channel_topics(server: ServerThread, api: Any) -> None:
    notifications = gc.NotificationsApi(api)
    channel = notifications.post_notifications_channels()
    user = ids(server)["user"]
    topics = [build(gc.ChannelTopic, id=f"v2.users.{user}.presence"), build(gc.ChannelTopic, id="v2.users.x.mood")]
    listing = notifications.post_notifications_channel_subscriptions(channel.id, topics, ignore_errors=True)
    states = {t.id: (t.state, t.rejection_reason) for t in listing.entities}
    assert states[f"v2.users.{user}.presence"] == ("Permitted", None)
    assert states["v2.users.x.mood"][0] == "Rejected" and states["v2.users.x.mood"][1]
    with pytest.raises(ApiException) as refused:
        notifications.post_notifications_channel_subscriptions(channel.id, topics)
    assert refused.value.status == 400
    kept = notifications.get_notifications_channel_subscriptions(channel.id)
    assert [t.id for t in kept.entities] == [f"v2.users.{user}.presence"]


def test_event_bodies_conform_to_the_sdk_topic_models(server: ServerThread, api: Any) -> None:
    user, bu = ids(server)["user"], ids(server)["bu"]
    users = gc.UsersApi(api)
    users.put_user_routingstatus(user, build(gc.RoutingStatus, user_id=user, status="OFF_QUEUE"))
    gc.PresenceApi(api).patch_user_presence(user, "purecloud", build(gc.UserPresence, message="lunch"))
    admin_post(server, "/mock/clock", {"advanceMs": 1})
    events = admin_get(server, "/mock/events")["entities"]
    by_topic = {e["topicName"]: e["eventBody"] for e in events}
    conforms(by_topic[f"v2.users.{user}.routingStatus"], "UserRoutingStatusUserRoutingStatus")
    assert by_topic[f"v2.users.{user}.routingStatus"]["id"] == user
    conforms(by_topic[f"v2.users.{user}.presence"], "PresenceEventUserPresence")
    assert bu  # the schedules topic is checked with the publish below
