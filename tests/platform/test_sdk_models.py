"""Every real route's answer, checked against the official SDK's model for it (tests/platform/sdk_conformance.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from mockgc.platform.api import ROUTES
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import Settings
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET, AutoClock
from tests.platform.sdk_conformance import assert_sdk_conforms, sdk_problems
from tests.platform.test_http_bad_bodies import ROUTES as VALID_BODIES
from tests.platform.test_http_bad_bodies import build_world, encode, send, stop_event_threads

# Each real route (by operationId, as in mockgc/platform/api) -> the SDK's type of its answer (the
# `response_type` of the SDK's method for it), or None for an answer without a body.
SDK_MODELS: dict[str, str | None] = {
    "postOauthToken": None,  # OAuth's own token answer (RFC 6749), not a platform API model
    "deleteTokensMe": None,
    "getUsers": "UserEntityListing",
    "getUser": "User",
    "postUsers": "User",
    "patchUser": "User",
    "deleteUser": "Empty",
    "postUsersSearch": "UsersSearchResponse",
    "getUsersSearch": "UsersSearchResponse",
    "getVoicemailUserpolicy": "VoicemailUserPolicy",
    "patchVoicemailUserpolicy": "VoicemailUserPolicy",
    "getUsersPresenceBulk": "list[UcUserPresence]",
    "putUsersPresencesBulk": "list[UserPresence]",
    "getUserQueues": "UserQueueEntityListing",
    "patchUserQueues": "UserQueueEntityListing",
    "patchUserQueue": "UserQueue",
    "getPresencedefinitions": "OrganizationPresenceEntityListing",
    "getPresencedefinition": "OrganizationPresence",
    "getPresenceDefinitions": "OrganizationPresenceDefinitionEntityListing",
    "getPresenceDefinition": "OrganizationPresenceDefinition",
    "getSystempresences": "list[SystemPresence]",
    "getRoutingSkills": "SkillEntityListing",
    "getRoutingSkill": "RoutingSkill",
    "getRoutingQueues": "QueueEntityListing",
    "getRoutingQueue": "Queue",
    "getRoutingQueueMembers": "QueueMemberEntityListing",
    "getRoutingQueueUsers": "QueueMemberEntityListingV1",
    "postRoutingQueueMembers": None,  # 204, no body (the SDK's method returns None)
    "postRoutingQueueUsers": None,
    "patchRoutingQueueMembers": "QueueMemberEntityListing",
    "patchRoutingQueueUsers": "QueueMemberEntityListingV1",
    "getGroups": "GroupEntityListing",
    "getGroup": "Group",
    "getUserRoutingstatus": "RoutingStatus",
    "putUserRoutingstatus": "RoutingStatus",
    "getUserPresence": "UserPresence",
    "patchUserPresence": "UserPresence",
    "postConversationsCalls": "CreateCallResponse",
    "getConversation": "Conversation",
    "getConversationsCall": "CallConversation",
    "patchConversationsCallParticipantAttributes": "ParticipantAttributes",
    "patchConversationParticipantAttributes": None,  # 202, no body (the SDK's method returns None)
    "postAnalyticsUsersDetailsQuery": "AnalyticsUserDetailsQueryResponse",
    "postAnalyticsConversationsDetailsQuery": "AnalyticsConversationQueryResponse",
    "postAnalyticsConversationsAggregatesQuery": "ConversationAggregateQueryResponse",
    "postAnalyticsUsersAggregatesQuery": "UserAggregateQueryResponse",
    "postAnalyticsQueuesObservationsQuery": "QueueObservationQueryResponse",
    "postAnalyticsConversationsDetailsJobs": "AsyncQueryResponse",
    "getAnalyticsConversationsDetailsJob": "AsyncQueryStatus",
    "deleteAnalyticsConversationsDetailsJob": None,  # 204, no body
    "getAnalyticsConversationsDetailsJobResults": "AnalyticsConversationAsyncQueryResponse",
    "getAnalyticsConversationsDetailsJobsAvailability": "DataAvailabilityResponse",
    "postAnalyticsUsersDetailsJobs": "AsyncQueryResponse",
    "getAnalyticsUsersDetailsJob": "AsyncQueryStatus",
    "deleteAnalyticsUsersDetailsJob": None,
    "getAnalyticsUsersDetailsJobResults": "AnalyticsUserDetailsAsyncQueryResponse",
    "getAnalyticsUsersDetailsJobsAvailability": "DataAvailabilityResponse",
    "getWorkforcemanagementBusinessunits": "BusinessUnitListing",
    "getWorkforcemanagementBusinessunit": "BusinessUnitResponse",
    "getWorkforcemanagementBusinessunitManagementunits": "ManagementUnitListing",
    "getWorkforcemanagementBusinessunitActivitycodes": "BusinessUnitActivityCodeListing",
    "getWorkforcemanagementBusinessunitWeekSchedules": "BuScheduleListing",
    "postWorkforcemanagementBusinessunitWeekScheduleAgentschedulesQuery": "BuAsyncAgentSchedulesQueryResponse",
    "postWorkforcemanagementBusinessunitWeekSchedules": "BuScheduleMetadata",
    "getWorkforcemanagementBusinessunitWeekSchedule": "BuScheduleMetadata",
    "postWorkforcemanagementBusinessunitWeekScheduleUpdateUploadurl": "UpdateScheduleUploadResponse",
    "postWorkforcemanagementBusinessunitWeekScheduleUpdate": "BuAsyncScheduleResponse",
    "getNotificationsAvailabletopics": "AvailableTopicEntityListing",
    "postNotificationsChannels": "Channel",
    "getNotificationsChannels": "ChannelEntityListing",
    "headNotificationsChannel": None,
    "getNotificationsChannelSubscriptions": "ChannelTopicEntityListing",
    "postNotificationsChannelSubscriptions": "ChannelTopicEntityListing",
    "putNotificationsChannelSubscriptions": "ChannelTopicEntityListing",
    "deleteNotificationsChannelSubscriptions": None,
}
REAL = sorted(route.name for route in ROUTES if route.origin == "real")
BY_NAME = {route.name: route for route in ROUTES}


@pytest.fixture
def world() -> Iterator[tuple[Flask, Any, dict[str, str]]]:
    settings = Settings(
        seed=7, agents=5, profile="fast", admin_key=ADMIN_KEY, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    app = create_app(settings, clock=AutoClock())
    client, ids = build_world(app)
    yield app, client, ids
    stop_event_threads(app)


def test_every_real_route_has_its_sdk_model() -> None:
    assert sorted(SDK_MODELS) == REAL, "a real route needs its SDK model here (None if it answers no body)"


def test_mock_only_routes_are_not_claimed_real() -> None:
    mock_only = {route.name for route in ROUTES if route.origin == "mock-only"}
    assert not mock_only & set(SDK_MODELS)
    assert {"putScriptsSessionVariable", "mockReset", "getMockWorkforcemanagementOperations"} <= mock_only


@pytest.mark.parametrize("name", REAL)
def test_the_answer_is_the_sdk_models(world: tuple[Flask, Any, dict[str, str]], name: str) -> None:
    _, client, ids = world
    route = BY_NAME[name]
    if name == "postOauthToken":
        response = client.post(
            route.path,
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        )
    else:
        factory = VALID_BODIES[(route.method, route.rule)]
        body = None if factory is None else encode(route.rule, factory(ids))
        response = send(
            client, route.method, route.rule, ids, data=body, content_type=None if body is None else "application/json"
        )
    assert 200 <= response.status_code < 300, response.get_data(as_text=True)[:300]
    sdk_type = SDK_MODELS[name]
    if sdk_type is None:
        assert name == "postOauthToken" or not response.get_data()
        return
    assert_sdk_conforms(response.json, sdk_type)


def test_the_helper_catches_an_unknown_field_a_missing_required_one_and_a_lossy_value() -> None:
    """The checks can fail: each kind of deviation is caught."""
    assert sdk_problems({"userId": "u", "status": "IDLE", "mood": "sunny"}, "RoutingStatus") == [
        "$.mood: not an attribute of the SDK's RoutingStatus"
    ]
    assert sdk_problems({"id": "c", "participants": []}, "Conversation") == [
        "$.startTime: required by the SDK's Conversation, missing"
    ]
    assert sdk_problems({"entities": [{"id": 5}]}, "ChannelTopicEntityListing") == [
        "$.entities[0].id: 5 is not the SDK's str"
    ]
    with pytest.raises(AssertionError, match="does not read the answer back"):
        assert_sdk_conforms({"userId": "u", "status": "ASLEEP"}, "RoutingStatus")  # not one of its enum values
