"""Issues 12 and 13 through the official SDK: WFM, conversations and notifications answers conform to its models."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import PureCloudPlatformClientV2 as gc
import pytest
import requests
from PureCloudPlatformClientV2.rest import ApiException
from websockets.sync.client import connect

from mockgc.clock import VirtualClock
from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings
from tests.platform.sdk_conformance import assert_sdk_conforms as conforms
from tests.platform.test_sdk import ADMIN, WEEK, SdkFactory, admin_get, admin_post, build, make_sdk, sdk_globals  # noqa: F401

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerThread]:
    with ServerThread(create_app(settings, clock=VirtualClock(1_795_000_000.0))) as live:
        yield live


@pytest.fixture
def api(server: ServerThread, make_sdk: SdkFactory) -> Any:  # noqa: F811 - the imported fixture
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


def test_a_call_and_its_attribute_changes_are_announced_on_the_users_calls_topic(
    server: ServerThread, api: Any
) -> None:
    user = ids(server)["user"]
    conversations = gc.ConversationsApi(api)
    created = conversations.post_conversations_calls(
        build(gc.CreateCallRequest, call_user_id=user, phone_number="+13125550111")
    )
    customer = next(p for p in conversations.get_conversations_call(created.id).participants if p.purpose == "customer")
    conversations.patch_conversations_call_participant_attributes(
        created.id, customer.id, build(gc.ParticipantAttributes, attributes={"a": "1"})
    )
    topic = f"v2.users.{user}.conversations.calls"
    bodies = [e["eventBody"] for e in admin_get(server, "/mock/events")["entities"] if e["topicName"] == topic]
    assert [b["id"] for b in bodies] == [created.id, created.id]
    for body in bodies:
        conforms(body, "ConversationCallEventTopicCallConversation")
    assert next(p for p in bodies[1]["participants"] if p["id"] == customer.id)["attributes"] == {"a": "1"}


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


# -- workforce management ----------------------------------------------------------------------


def new_schedule(wfm: Any, bu: str, week: Any = WEEK, week_count: int = 1) -> Any:
    return wfm.post_workforcemanagement_businessunit_week_schedules(
        bu, week, build(gc.BuCreateBlankScheduleRequest, description="week", week_count=week_count)
    )


def upload_and_update(wfm: Any, bu: str, schedule: Any, version: int) -> Any:
    """The update-upload flow as a client does it, the document filled in from the answer's uploadBodySchema."""
    probe = wfm.post_workforcemanagement_businessunit_week_schedule_update_uploadurl(
        bu, WEEK, schedule.id, build(gc.UploadUrlRequestBody, content_length_bytes=1)
    )
    document = {**api_dict(probe.upload_body_schema), "published": True}
    document["metadata"]["version"] = version
    payload = gzip.compress(json.dumps(document).encode())
    upload = wfm.post_workforcemanagement_businessunit_week_schedule_update_uploadurl(
        bu, WEEK, schedule.id, build(gc.UploadUrlRequestBody, content_length_bytes=len(payload))
    )
    assert requests.put(upload.url, data=payload, headers=upload.headers, timeout=10).status_code == 200
    return wfm.post_workforcemanagement_businessunit_week_schedule_update(
        bu, WEEK, schedule.id, build(gc.ProcessScheduleUpdateUploadRequest, upload_key=upload.upload_key)
    )


def api_dict(model: Any) -> dict[str, Any]:
    return dict(gc.ApiClient().sanitize_for_serialization(model))


def advance(server: ServerThread, seconds: float) -> None:
    admin_post(server, "/mock/clock", {"advanceMs": int(seconds * 1000)})


def test_the_week_schedule_listing_finds_the_schedule_to_publish(server: ServerThread, api: Any) -> None:
    bu = ids(server)["bu"]
    wfm = gc.WorkforceManagementApi(api)
    one = new_schedule(wfm, bu)
    two_weeks = new_schedule(wfm, bu, WEEK - timedelta(weeks=1), week_count=2)  # spans WEEK too
    later = new_schedule(wfm, bu, WEEK + timedelta(weeks=30))
    listed = wfm.get_workforcemanagement_businessunit_week_schedules(bu, WEEK.isoformat())
    assert {s.id for s in listed.entities} == {one.id, two_weeks.id}
    conforms(
        raw(server, api, "GET", f"/api/v2/workforcemanagement/businessunits/{bu}/weeks/{WEEK}/schedules").json(),
        "BuScheduleListing",
    )
    recent = wfm.get_workforcemanagement_businessunit_week_schedules(bu, "recent")
    assert {s.id for s in recent.entities} == {one.id, two_weeks.id}  # `later` is beyond 26 weeks
    ranged = wfm.get_workforcemanagement_businessunit_week_schedules(
        bu, "recent", earliest_week_date=WEEK, latest_week_date=WEEK + timedelta(weeks=40)
    )
    assert {s.id for s in ranged.entities} == {one.id, later.id}
    assert (
        wfm.get_workforcemanagement_businessunit_week_schedules(
            bu, WEEK.isoformat(), include_only_published=True
        ).entities
        == []
    )

    operation = upload_and_update(wfm, bu, one, one.metadata.version)
    state = raw(
        server, api, "GET", f"/api/v2/workforcemanagement/businessunits/{bu}/operations/{operation.operation_id}"
    ).json()
    advance(server, (state["mockgc"]["completesEpochMs"] - state["mockgc"]["startedEpochMs"]) / 1000 + 1)
    published = wfm.get_workforcemanagement_businessunit_week_schedules(
        bu, WEEK.isoformat(), include_only_published=True
    )
    assert [s.id for s in published.entities] == [one.id]
    assert published.entities[0].metadata.version == one.metadata.version + 1


def test_management_units_and_activity_codes(server: ServerThread, api: Any) -> None:
    bu = ids(server)["bu"]
    wfm = gc.WorkforceManagementApi(api)
    units = wfm.get_workforcemanagement_businessunit_managementunits(bu)
    assert len(units.entities) == 2 and all(mu.business_unit.id == bu for mu in units.entities)
    conforms(
        raw(server, api, "GET", f"/api/v2/workforcemanagement/businessunits/{bu}/managementunits").json(),
        "ManagementUnitListing",
    )
    codes = wfm.get_workforcemanagement_businessunit_activitycodes(bu)
    assert {c.category for c in codes.entities} >= {"OnQueueWork", "Break", "Meal"}
    conforms(
        raw(server, api, "GET", f"/api/v2/workforcemanagement/businessunits/{bu}/activitycodes").json(),
        "BusinessUnitActivityCodeListing",
    )
    with pytest.raises(ApiException) as unknown:
        wfm.get_workforcemanagement_businessunit_managementunits("no-such-bu")
    assert unknown.value.status == 404


def test_agent_schedules_query_inline_by_download_url_and_by_notification(server: ServerThread, api: Any) -> None:
    bu, user = ids(server)["bu"], ids(server)["user"]
    wfm = gc.WorkforceManagementApi(api)
    schedule = new_schedule(wfm, bu)
    unit = wfm.get_workforcemanagement_businessunit_managementunits(bu).entities[0].id
    codes = {c.id for c in wfm.get_workforcemanagement_businessunit_activitycodes(bu).entities}
    path = f"/api/v2/workforcemanagement/businessunits/{bu}/weeks/{WEEK}/schedules/{schedule.id}/agentschedules/query"

    inline = wfm.post_workforcemanagement_businessunit_week_schedule_agentschedules_query(
        bu, WEEK, schedule.id, build(gc.BuQueryAgentSchedulesRequest, management_unit_id=unit)
    )
    assert inline.status == "Complete" and inline.operation_id
    agents = inline.result.agent_schedules
    assert len(agents) == 10  # 20 agents over two management units
    shifts = agents[0].shifts
    assert len(shifts) == 5 and all(a.activity_code_id in codes for s in shifts for a in s.activities)
    assert sum(a.length_minutes for a in shifts[0].activities) == shifts[0].length_minutes
    conforms(raw(server, api, "POST", path, json={"userIds": [user]}).json(), "BuAsyncAgentSchedulesQueryResponse")

    downloaded = wfm.post_workforcemanagement_businessunit_week_schedule_agentschedules_query(
        bu, WEEK, schedule.id, build(gc.BuQueryAgentSchedulesRequest, user_ids=[user]), force_download_service=True
    )
    assert downloaded.status == "Complete" and downloaded.result is None
    body = requests.get(downloaded.download_url, timeout=10).json()  # no token: the URL is the credential
    assert [a["user"]["id"] for a in body["agentSchedules"]] == [user]
    conforms(body, "BuAgentSchedulesQueryResponse")

    notifications = gc.NotificationsApi(api)
    channel = notifications.post_notifications_channels()
    topic = f"v2.workforcemanagement.businessunits.{bu}.schedules.query"
    notifications.put_notifications_channel_subscriptions(channel.id, [build(gc.ChannelTopic, id=topic)])
    with connect(channel.connect_uri) as ws:
        pending = wfm.post_workforcemanagement_businessunit_week_schedule_agentschedules_query(
            bu, WEEK, schedule.id, build(gc.BuQueryAgentSchedulesRequest, user_ids=[user]), force_async=True
        )
        assert pending.status == "Processing" and pending.result is None and pending.download_url is None
        advance(server, 2)
        message = next(m for m in (json.loads(ws.recv(timeout=5)) for _ in range(20)) if m["topicName"] == topic)
    event = message["eventBody"]
    conforms(event, "WfmBuScheduleQueryResultTopicBuScheduleSearchResultNotification")
    assert (event["operationId"], event["businessUnitId"]) == (pending.operation_id, bu)
    assert requests.get(event["downloadUrl"], timeout=10).json()["agentSchedules"][0]["user"]["id"] == user
    assert requests.get(event["downloadUrl"] + "x", timeout=10).status_code == 404

    with pytest.raises(ApiException) as foreign_unit:
        wfm.post_workforcemanagement_businessunit_week_schedule_agentschedules_query(
            bu, WEEK, schedule.id, build(gc.BuQueryAgentSchedulesRequest, management_unit_id="elsewhere")
        )
    assert foreign_unit.value.status == 400


def test_upload_url_schema_and_a_stale_publish_failing_through_its_notification(server: ServerThread, api: Any) -> None:
    bu = ids(server)["bu"]
    wfm = gc.WorkforceManagementApi(api)
    schedule = new_schedule(wfm, bu)
    answer = raw(
        server,
        api,
        "POST",
        f"/api/v2/workforcemanagement/businessunits/{bu}/weeks/{WEEK}/schedules/{schedule.id}/update/uploadurl",
        json={"contentLengthBytes": 10},
    ).json()
    conforms(answer, "UpdateScheduleUploadResponse")
    assert answer["uploadBodySchema"]["metadata"]["version"] == schedule.metadata.version

    notifications = gc.NotificationsApi(api)
    channel = notifications.post_notifications_channels()
    topic = f"v2.workforcemanagement.businessunits.{bu}.schedules"
    notifications.put_notifications_channel_subscriptions(channel.id, [build(gc.ChannelTopic, id=topic)])
    with connect(channel.connect_uri) as ws:
        stale = upload_and_update(wfm, bu, schedule, schedule.metadata.version + 7)
        assert stale.status == "Processing"  # accepted: the platform checks the document later
        advance(server, 60)
        message = next(m for m in (json.loads(ws.recv(timeout=5)) for _ in range(20)) if m["topicName"] == topic)
        conforms(message["eventBody"], "WfmBuScheduleTopicBuScheduleNotification")
        assert message["eventBody"] == {"status": "Error", "operationId": stale.operation_id, "eventType": "Update"}

        good = upload_and_update(wfm, bu, schedule, schedule.metadata.version)
        advance(server, 600)
        done = next(m for m in (json.loads(ws.recv(timeout=5)) for _ in range(20)) if m["topicName"] == topic)
    conforms(done["eventBody"], "WfmBuScheduleTopicBuScheduleNotification")
    assert (done["eventBody"]["operationId"], done["eventBody"]["status"]) == (good.operation_id, "Complete")
    assert wfm.get_workforcemanagement_businessunit_week_schedule(bu, WEEK, schedule.id).published is True
