"""The official Genesys Cloud Python SDK (purecloudplatformclientv2) as a real client of a live mock."""

from __future__ import annotations

import gzip
import json
import math
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import PureCloudPlatformClientV2 as gc
import pytest
import requests
from PureCloudPlatformClientV2.configuration import Configuration
from PureCloudPlatformClientV2.default_http_client import DefaultHttpClient
from PureCloudPlatformClientV2.rest import ApiException

from mockgc.clock import VirtualClock
from mockgc.faults import get_profile
from mockgc.platform.domain.users import PRESENCE_DEFINITIONS, ROUTING_STATUSES
from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET

# The SDK sets no socket timeout of its own, so a hung mock would otherwise hang the run.
pytestmark = pytest.mark.timeout(60)

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
WEEK = date(2026, 11, 23)  # a Monday, as in the field report
OUTDATED = "outdated_sdk_version"  # what the SDK turns an enum value it does not know into

SdkFactory = Callable[..., Any]


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def sdk_globals() -> Iterator[None]:
    """The SDK keeps a module-global Configuration singleton; every test gets it clean and leaves it so.

    An ApiClient without a token of its own falls back to Configuration().access_token, so a
    token left there by one test would silently authenticate another.
    """
    config = Configuration()
    saved = (config.host, config.access_token, config.api_client)
    config.access_token, config.api_client = "", None
    yield
    host = config.host
    config.host, config.access_token, config.api_client = saved
    assert host == saved[0], "a test changed the SDK's global host"


@pytest.fixture
def make_sdk() -> Iterator[SdkFactory]:
    """Build ApiClients pointed at a live mock; each owns its http client, whose pools close afterwards."""
    built: list[Any] = []

    def make(url: str, *, login: bool = True, retry: dict[str, Any] | None = None) -> Any:
        api = gc.ApiClient(host=url)
        http = DefaultHttpClient()
        if retry:
            # Start from the SDK's own urllib3 Retry so only the named knobs differ from stock behaviour.
            pool_kw = http.rest_client.pool_manager.connection_pool_kw
            pool_kw["retries"] = pool_kw["retries"].new(**retry)
        api.set_http_client(http)
        built.append(api)
        if login:
            api.get_client_credentials_token(CLIENT_ID, CLIENT_SECRET)
        return api

    yield make
    for api in built:
        api.get_http_client().rest_client.pool_manager.clear()


@pytest.fixture
def sdk(live_server: ServerThread, make_sdk: SdkFactory) -> Any:
    return make_sdk(live_server.url)


@pytest.fixture
def virtual_server(settings: Settings) -> Iterator[ServerThread]:
    """A live mock whose time moves only through POST /mock/clock, so publish windows are exact."""
    with ServerThread(create_app(settings, clock=VirtualClock())) as server:
        yield server


def admin_get(server: ServerThread, path: str) -> Any:
    response = requests.get(server.url + path, headers=ADMIN, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def admin_post(server: ServerThread, path: str, body: Any) -> Any:
    response = requests.post(server.url + path, json=body, headers=ADMIN, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def build(cls: type, **fields: Any) -> Any:
    """An SDK model from snake_case fields; a misspelt field is an error rather than silently dropped."""
    model = cls()
    for name, value in fields.items():
        if name not in model.swagger_types:
            raise AttributeError(f"{cls.__name__} has no field {name}")
        setattr(model, name, value)
    return model


def assert_current(model: Any) -> None:
    """Nothing in a deserialized response fell back to the SDK's unknown-enum sentinel."""
    dumped = json.dumps([m.to_dict() for m in model] if isinstance(model, list) else model.to_dict(), default=str)
    assert OUTDATED not in dumped, dumped


def error_of(excinfo: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    """The platform error body an ApiException carries, checked against its correlation header."""
    error = excinfo.value
    body: dict[str, Any] = json.loads(error.body)
    assert body["status"] == error.status
    assert body["contextId"] == error.headers["ININ-Correlation-Id"]
    assert isinstance(body["message"], str) and body["message"]
    return body


def publish(wfm: Any, bu_id: str) -> tuple[Any, Any]:
    """Create a schedule and publish it through the update-upload flow, as a real client does."""
    schedule = wfm.post_workforcemanagement_businessunit_week_schedules(
        bu_id, WEEK, build(gc.BuCreateBlankScheduleRequest, description="week 48", week_count=1)
    )
    document = {"published": True, "metadata": {"version": schedule.metadata.version}}
    payload = gzip.compress(json.dumps(document).encode())
    upload = wfm.post_workforcemanagement_businessunit_week_schedule_update_uploadurl(
        bu_id, WEEK, schedule.id, build(gc.UploadUrlRequestBody, content_length_bytes=len(payload))
    )
    # The pre-signed URL takes no bearer token: the returned headers are all a real client sends.
    put = requests.put(upload.url, data=payload, headers=upload.headers, timeout=10)
    assert put.status_code == 200, put.text
    operation = wfm.post_workforcemanagement_businessunit_week_schedule_update(
        bu_id, WEEK, schedule.id, build(gc.ProcessScheduleUpdateUploadRequest, upload_key=upload.upload_key)
    )
    return schedule, operation


def operation_state(api: Any, bu_id: str, operation_id: str, response_type: str) -> Any:
    """The mock-only GET .../operations/{id}, called through the SDK's generic call_api."""
    return api.call_api(
        "/api/v2/workforcemanagement/businessunits/{businessUnitId}/operations/{operationId}",
        "GET",
        path_params={"businessUnitId": bu_id, "operationId": operation_id},
        header_params={"Accept": "application/json"},
        response_type=response_type,
        auth_settings=["PureCloud OAuth"],
    )


# -- OAuth ------------------------------------------------------------------------------------


def test_client_credentials_token_authenticates_api_calls(live_server: ServerThread, make_sdk: SdkFactory) -> None:
    api = make_sdk(live_server.url, login=False)
    assert api.get_client_credentials_token(CLIENT_ID, CLIENT_SECRET) is api
    assert api.access_token
    user_id = admin_get(live_server, "/mock/info")["users"][0]["id"]

    status = gc.UsersApi(api).get_user_routingstatus(user_id)

    assert status.user_id == user_id
    assert api.last_response.getheader("inin-ratelimit-allowed") == "300"
    assert api.last_response.getheader("inin-ratelimit-count") == "1"
    assert Configuration().access_token == "", "the token must stay on this ApiClient"


def test_bad_client_secret_is_an_api_exception_with_the_oauth_body(
    live_server: ServerThread, make_sdk: SdkFactory
) -> None:
    api = make_sdk(live_server.url, login=False)
    with pytest.raises(ApiException) as excinfo:
        api.get_client_credentials_token(CLIENT_ID, "not-the-secret")
    assert excinfo.value.status == 401
    body = json.loads(excinfo.value.body)
    assert body["error"] == "invalid_client"
    assert body["error_description"] == body["description"]
    assert not api.access_token

    with pytest.raises(ApiException) as unknown:
        api.get_client_credentials_token("no-such-client", CLIENT_SECRET)
    assert unknown.value.status == 401
    assert json.loads(unknown.value.body)["error"] == "invalid_client"


def test_missing_and_unknown_tokens_are_401s_with_the_platform_body(
    live_server: ServerThread, make_sdk: SdkFactory
) -> None:
    api = make_sdk(live_server.url, login=False)
    users = gc.UsersApi(api)
    user_id = admin_get(live_server, "/mock/info")["users"][0]["id"]

    with pytest.raises(ApiException) as missing:
        users.get_user_routingstatus(user_id)
    assert missing.value.status == 401
    assert error_of(missing)["code"] == "authentication.required"

    api.access_token = "forged-token"
    with pytest.raises(ApiException) as forged:
        users.get_user_routingstatus(user_id)
    assert forged.value.status == 401
    assert error_of(forged)["code"] == "bad.credentials"


# -- users: routing status and presence ---------------------------------------------------------


def test_routing_status_reads_and_every_real_status_round_trips(live_server: ServerThread, sdk: Any) -> None:
    users = gc.UsersApi(sdk)
    user_id = admin_get(live_server, "/mock/info")["users"][0]["id"]

    current = users.get_user_routingstatus(user_id)
    assert current.status == "IDLE"
    assert isinstance(current.start_time, datetime) and current.start_time.tzinfo is not None
    assert_current(current)

    for status in ROUTING_STATUSES:
        written = users.put_user_routingstatus(user_id, build(gc.RoutingStatus, status=status))
        assert (written.user_id, written.status) == (user_id, status)
        assert users.get_user_routingstatus(user_id).status == status


def test_the_sdk_cannot_send_a_status_outside_its_enum(live_server: ServerThread, sdk: Any) -> None:
    """The scenario's "Reserved" is no Genesys routing status: the SDK's model rewrites it, the mock refuses."""
    users = gc.UsersApi(sdk)
    user_id = admin_get(live_server, "/mock/info")["users"][0]["id"]
    body = build(gc.RoutingStatus, status="Reserved")
    assert body.status == OUTDATED

    with pytest.raises(ApiException) as excinfo:
        users.put_user_routingstatus(user_id, body)
    assert excinfo.value.status == 400
    assert error_of(excinfo)["code"] == "invalid.value"
    assert users.get_user_routingstatus(user_id).status == "IDLE"


def test_presence_reads_and_patches_through_the_purecloud_source(live_server: ServerThread, sdk: Any) -> None:
    presence = gc.PresenceApi(sdk)
    user_id = admin_get(live_server, "/mock/info")["users"][0]["id"]

    current = presence.get_user_presence(user_id, "purecloud")
    system = current.presence_definition.system_presence
    assert current.presence_definition.id == PRESENCE_DEFINITIONS[system]  # the seeded mix: any of them
    assert current.primary is True and current.source == "PURECLOUD"
    assert isinstance(current.modified_date, datetime)
    assert_current(current)

    # The platform needs only the definition's id to change presence.
    away = build(gc.PresenceDefinition, id=PRESENCE_DEFINITIONS["Away"])
    patched = presence.patch_user_presence(user_id, "purecloud", build(gc.UserPresence, presence_definition=away))
    assert patched.presence_definition.system_presence == "Away"
    assert_current(patched)

    with_message = presence.patch_user_presences_purecloud(user_id, build(gc.UserPresence, message="back at 10"))
    assert with_message.message == "back at 10"
    reread = presence.get_user_presences_purecloud(user_id)
    assert (reread.presence_definition.system_presence, reread.message) == ("Away", "back at 10")


def test_bulk_presence_update_and_its_limit_of_50(live_server: ServerThread, sdk: Any) -> None:
    presence = gc.PresenceApi(sdk)
    user_ids = [u["id"] for u in admin_get(live_server, "/mock/info")["users"][:3]]
    busy = build(gc.PresenceDefinition, id=PRESENCE_DEFINITIONS["Busy"])

    updated = presence.put_users_presences_bulk(
        [build(gc.MutableUserPresence, id=uid, presence_definition=busy) for uid in user_ids]
    )
    assert [p.presence_definition.system_presence for p in updated] == ["Busy"] * 3
    assert_current(updated)
    assert all(
        presence.get_user_presence(uid, "purecloud").presence_definition.system_presence == "Busy" for uid in user_ids
    )

    too_many = [build(gc.MutableUserPresence, id=user_ids[0], presence_definition=busy)] * 51
    with pytest.raises(ApiException) as excinfo:
        presence.put_users_presences_bulk(too_many)
    assert excinfo.value.status == 400
    assert error_of(excinfo)["code"] == "invalid.value"


# -- conversations: participant attributes -----------------------------------------------------


def test_participant_attributes_patch_is_a_202_on_a_call_the_sdk_created(live_server: ServerThread, sdk: Any) -> None:
    conversations = gc.ConversationsApi(sdk)
    user_id = admin_get(live_server, "/mock/info")["users"][0]["id"]

    call = conversations.post_conversations_calls(build(gc.CreateCallRequest, call_user_id=user_id))
    assert call.id
    conversation = conversations.get_conversation(call.id)
    customer = next(p for p in conversation.participants if p.purpose == "customer")
    agent = next(p for p in conversation.participants if p.purpose == "agent")
    assert agent.user_id == user_id

    result = conversations.patch_conversation_participant_attributes(
        call.id, customer.id, build(gc.ParticipantAttributes, attributes={"preferenceCode": "PX-42"})
    )
    assert result is None
    assert sdk.last_response.status == 202

    reread = conversations.get_conversation(call.id)
    assert next(p for p in reread.participants if p.id == customer.id).attributes == {"preferenceCode": "PX-42"}
    assert_current(reread)


# -- WFM: schedules and the update-upload publish ----------------------------------------------


def test_schedule_publish_through_update_upload_holds_agents(live_server: ServerThread, sdk: Any) -> None:
    wfm = gc.WorkforceManagementApi(sdk)
    org = admin_get(live_server, "/mock/info")

    units = wfm.get_workforcemanagement_businessunits()
    assert [bu.id for bu in units.entities] == [bu["id"] for bu in org["businessUnits"]]
    bu_id = units.entities[0].id

    schedule, operation = publish(wfm, bu_id)
    assert schedule.week_date == WEEK
    assert schedule.published is False and schedule.metadata.version == 1
    assert operation.status == "Processing"
    assert operation.operation_id
    assert_current(operation)

    # B agents every I ms, each held H ms; epoch milliseconds are truncated, hence the 1 ms slack.
    lock = get_profile("fast").publish
    windows = {w["operationId"]: w for w in admin_get(live_server, "/mock/windows")["operations"]}
    batches = windows[operation.operation_id]["batches"]
    assert len(batches) == math.ceil(len(org["users"]) / lock.batch_size) > 1
    assert all(abs(end - start - lock.hold_ms) <= 1 for start, end in batches)
    assert all(abs(b[0] - batches[0][0] - k * lock.interval_ms) <= 1 for k, b in enumerate(batches))
    state = operation_state(sdk, bu_id, operation.operation_id, "object")
    assert state["mockgc"]["publishes"] is True
    assert state["mockgc"]["agentsHeld"] == len(org["users"])


def test_publish_lifecycle_in_virtual_time(virtual_server: ServerThread, make_sdk: SdkFactory) -> None:
    """Held writes fail, then the publish completes, flips agents to Reserved, and the SDK still reads real enums."""
    api = make_sdk(virtual_server.url)
    wfm, users, presence = gc.WorkforceManagementApi(api), gc.UsersApi(api), gc.PresenceApi(api)
    org = admin_get(virtual_server, "/mock/info")
    bu_id, agent_id = org["businessUnits"][0]["id"], org["users"][0]["id"]
    auth = {"Authorization": f"Bearer {api.access_token}"}

    call = gc.ConversationsApi(api).post_conversations_calls(build(gc.CreateCallRequest, call_user_id=agent_id))
    session = requests.post(
        virtual_server.url + "/api/v2/scripts/sessions",
        json={"userId": agent_id, "conversationId": call.id},
        headers=auth,
        timeout=10,
    ).json()
    set_data = virtual_server.url + f"/api/v2/scripts/sessions/{session['id']}/variables/preferenceCode"

    schedule, operation = publish(wfm, bu_id)
    assert operation.status == "Processing"

    held = requests.put(set_data, json={"value": "PX-1"}, headers=auth, timeout=10)
    assert held.status_code == 400
    assert held.json()["code"] == "bad.request"
    assert held.json()["details"][0]["lock"]["operationId"] == operation.operation_id

    window = next(w for w in admin_get(virtual_server, "/mock/windows")["operations"])
    admin_post(virtual_server, "/mock/clock", {"setEpochMs": window["completesEpochMs"]})

    # The mock-only operation endpoint answers in the SDK's own BuAsyncScheduleResponse shape.
    done = operation_state(api, bu_id, operation.operation_id, "BuAsyncScheduleResponse")
    assert done.status == "Complete"
    assert done.result.id == schedule.id and done.result.published is True
    reread = wfm.get_workforcemanagement_businessunit_week_schedule(bu_id, WEEK, schedule.id)
    assert reread.published is True and reread.metadata.version == 2

    assert {u["mockgcScenarioStatus"] for u in admin_get(virtual_server, "/mock/info")["users"]} == {"Reserved"}
    routing = users.get_user_routingstatus(agent_id)
    current = presence.get_user_presence(agent_id, "purecloud")
    assert routing.status in ROUTING_STATUSES
    assert current.presence_definition.system_presence in PRESENCE_DEFINITIONS
    assert_current(routing)
    assert_current(current)
    assert requests.put(set_data, json={"value": "PX-2"}, headers=auth, timeout=10).status_code == 200


# -- errors ------------------------------------------------------------------------------------


def test_unknown_ids_are_404_api_exceptions_with_the_platform_body(live_server: ServerThread, sdk: Any) -> None:
    org = admin_get(live_server, "/mock/info")
    user_id, bu_id = org["users"][0]["id"], org["businessUnits"][0]["id"]
    missing = "00000000-0000-4000-8000-000000000000"
    users, presence = gc.UsersApi(sdk), gc.PresenceApi(sdk)
    conversations, wfm = gc.ConversationsApi(sdk), gc.WorkforceManagementApi(sdk)
    call = conversations.post_conversations_calls(build(gc.CreateCallRequest, call_user_id=user_id))
    attributes = build(gc.ParticipantAttributes, attributes={"k": "v"})
    blank = build(gc.BuCreateBlankScheduleRequest, week_count=1)

    calls: dict[str, Callable[[], Any]] = {
        "routing status": lambda: users.get_user_routingstatus(missing),
        "presence": lambda: presence.get_user_presence(missing, "purecloud"),
        "conversation": lambda: conversations.get_conversation(missing),
        "participant": lambda: conversations.patch_conversation_participant_attributes(call.id, missing, attributes),
        "business unit": lambda: wfm.post_workforcemanagement_businessunit_week_schedules(missing, WEEK, blank),
        "schedule": lambda: wfm.get_workforcemanagement_businessunit_week_schedule(bu_id, WEEK, missing),
    }
    for name, attempt in calls.items():
        with pytest.raises(ApiException) as excinfo:
            attempt()
        assert excinfo.value.status == 404, name
        assert error_of(excinfo)["code"] == "not.found", name


# -- rate limits -------------------------------------------------------------------------------


def test_the_sdk_by_default_retries_429s_that_carry_retry_after() -> None:
    """Pins the SDK behaviour the next test leans on: urllib3 Retry, 10 tries, Retry-After honoured."""
    retry = DefaultHttpClient().rest_client.pool_manager.connection_pool_kw["retries"]
    assert retry.total == 10
    assert retry.respect_retry_after_header is True
    assert retry.is_retry("PUT", 429, has_retry_after=True)
    assert not retry.is_retry("PUT", 429, has_retry_after=False)


def test_a_rate_limited_client_sees_a_429_api_exception(live_server: ServerThread, make_sdk: SdkFactory) -> None:
    admin_post(
        live_server,
        "/mock/oauth/clients",
        {"clientId": "sdk-limited", "clientSecret": "s3cret", "rateLimitPerMinute": 2},
    )
    # With Retry-After honoured the SDK would sleep out the rest of the minute; this client surfaces the 429.
    api = make_sdk(live_server.url, login=False, retry={"respect_retry_after_header": False})
    api.get_client_credentials_token("sdk-limited", "s3cret")
    users = gc.UsersApi(api)
    user_id = admin_get(live_server, "/mock/info")["users"][0]["id"]

    for expected_count in ("1", "2"):
        users.get_user_routingstatus(user_id)
        assert api.last_response.getheader("inin-ratelimit-count") == expected_count
        assert api.last_response.getheader("inin-ratelimit-allowed") == "2"
    with pytest.raises(ApiException) as excinfo:
        users.get_user_routingstatus(user_id)

    assert excinfo.value.status == 429
    body = error_of(excinfo)
    retry_after = int(excinfo.value.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["code"] == "too.many.requests.retry.after"
    assert body["message"] == f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds"
    assert body["messageParams"] == {"retryAfter": str(retry_after)}


def test_the_sdk_retries_a_429_after_retry_after_then_surfaces_it(
    live_server: ServerThread, make_sdk: SdkFactory
) -> None:
    """A persistent 429 is retried after sleeping Retry-After; once the budget is spent urllib3 hands
    back the last 429 and the SDK raises it as an ApiException (stock budget: 10 retries, 10 x Retry-After)."""
    user_id = admin_get(live_server, "/mock/info")["users"][0]["id"]
    path = f"/api/v2/users/{user_id}/routingstatus"
    admin_post(
        live_server,
        "/mock/faults/toxics",
        {"name": "storm", "type": "rate_limit", "path_prefix": path, "attributes": {"retry_after": 1}},
    )
    api = make_sdk(live_server.url, retry={"total": 1})  # one retry: the test spends one Retry-After second
    since = admin_get(live_server, "/mock/journal")["entries"][-1]["seq"]

    started = time.monotonic()
    with pytest.raises(ApiException) as excinfo:
        gc.UsersApi(api).get_user_routingstatus(user_id)
    elapsed = time.monotonic() - started

    assert excinfo.value.status == 429
    assert error_of(excinfo)["code"] == "too.many.requests.retry.after"
    assert elapsed >= 1.0, "the retry did not wait for Retry-After"
    hits = [e for e in admin_get(live_server, f"/mock/journal?since={since}")["entries"] if e["path"] == path]
    assert [e["status"] for e in hits] == [429, 429]
