"""The platform routes over Flask's test client: users, presence, conversations, WFM publish, scripts."""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockgc.clock import VirtualClock
from mockgc.faults import get_profile
from mockgc.platform.domain.users import PRESENCE_DEFINITIONS
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import Settings
from tests.conftest import AutoClock, basic

WFM = "/api/v2/workforcemanagement/businessunits"
WEEK = "2026-11-23"


def platform_of(client: FlaskClient) -> Any:
    return client.application.extensions["mockgc"].platform


# -- users -----------------------------------------------------------------------


def test_list_users(client: FlaskClient, auth: dict[str, str], admin: dict[str, str], settings: Settings) -> None:
    body = client.get("/api/v2/users", headers=auth).json
    assert body["total"] == settings.org.agents == len(body["entities"]) < body["pageSize"] == 25
    assert (body["pageNumber"], body["pageCount"]) == (1, 1) and "nextUri" not in body
    user = body["entities"][0]
    assert {"id", "name", "email", "username", "version", "division", "selfUri"} <= set(user)
    assert not [key for key in user if key.startswith("mockgc")]  # the platform's User has none
    listed = client.get("/mock/info", headers=admin).json["users"][0]
    assert listed["mockgcScenarioStatus"] == "Available" and listed["id"] == user["id"]


def test_routing_status_get_and_put(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    url = f"/api/v2/users/{org['user']}/routingstatus"
    before = client.get(url, headers=auth).json
    assert before["userId"] == org["user"] and before["status"] == "IDLE"
    assert before["startTime"].endswith("Z")
    put = client.put(url, json={"userId": org["user"], "status": "INTERACTING"}, headers=auth)
    assert put.status_code == 200 and put.json["status"] == "INTERACTING"
    assert client.get(url, headers=auth).json["status"] == "INTERACTING"
    bad = client.put(url, json={"status": "Reserved"}, headers=auth)  # not a real enum value
    assert bad.status_code == 400 and bad.json["code"] == "invalid.value"


def test_presence_get_and_patch(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    url = f"/api/v2/users/{org['user']}/presences/purecloud"
    presence = client.get(url, headers=auth).json
    assert {"id", "name", "sourceId", "primary", "presenceDefinition", "message", "modifiedDate"} <= set(presence)
    assert (
        presence["presenceDefinition"]["id"] == PRESENCE_DEFINITIONS[presence["presenceDefinition"]["systemPresence"]]
    )
    busy = PRESENCE_DEFINITIONS["Busy"]
    patched = client.patch(url, json={"presenceDefinition": {"id": busy}, "message": "on a call"}, headers=auth)
    assert patched.status_code == 200
    assert patched.json["presenceDefinition"] == {
        "id": busy,
        "systemPresence": "Busy",
        "selfUri": f"/api/v2/presencedefinitions/{busy}",
    }
    assert client.get(url, headers=auth).json["message"] == "on a call"
    unknown = client.patch(url, json={"presenceDefinition": {"id": "nope"}}, headers=auth)
    assert unknown.status_code == 400 and unknown.json["code"] == "invalid.value"
    other_source = client.get(f"/api/v2/users/{org['user']}/presences/teams", headers=auth)
    assert other_source.status_code == 404


def test_bulk_presences_take_at_most_50(client: FlaskClient, admin: dict[str, str]) -> None:
    path = "/api/v2/users/presences/bulk"
    assert client.post("/mock/reset", json={"agents": 51}, headers=admin).status_code == 200
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic()})
    auth = {"Authorization": f"Bearer {token.json['access_token']}"}  # a reset forgets issued tokens
    users = [u["id"] for u in client.get("/api/v2/users?pageSize=100", headers=auth).json["entities"]]
    before = client.get(f"/api/v2/users/{users[50]}/presences/purecloud", headers=auth).json
    away = {"presenceDefinition": {"systemPresence": "Away"}}
    response = client.put(path, json=[{"id": u} | away for u in users[:50]], headers=auth)
    assert response.status_code == 200
    assert [p["presenceDefinition"]["systemPresence"] for p in response.json] == ["Away"] * 50
    too_many = client.put(path, json=[{"id": u} | away for u in users], headers=auth)
    assert too_many.status_code == 400 and too_many.json["code"] == "invalid.value"
    assert "50" in too_many.json["message"]
    presence = client.get(f"/api/v2/users/{users[50]}/presences/purecloud", headers=auth).json
    assert presence["presenceDefinition"] == before["presenceDefinition"]  # the refused batch changed nothing


def test_bulk_presences_with_an_unknown_user_change_nothing(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str]
) -> None:
    away = {"presenceDefinition": {"systemPresence": "Away"}}
    url = f"/api/v2/users/{org['user']}/presences/purecloud"
    before = client.get(url, headers=auth).json["presenceDefinition"]
    response = client.put("/api/v2/users/presences/bulk", json=[{"id": org["user"]} | away, {"id": "ghost"} | away])
    assert response.status_code == 401  # no token
    response = client.put(
        "/api/v2/users/presences/bulk", json=[{"id": org["user"]} | away, {"id": "ghost"} | away], headers=auth
    )
    assert response.status_code == 404
    assert client.get(url, headers=auth).json["presenceDefinition"] == before


# -- conversations -----------------------------------------------------------------


def test_participant_attributes_patch_is_202_with_no_body(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str]
) -> None:
    url = f"/api/v2/conversations/{org['conversation']}/participants/{org['participant']}/attributes"
    response = client.patch(url, json={"attributes": {"mockgc.error": "locked", "retry": "1"}}, headers=auth)
    assert response.status_code == 202
    assert response.data == b""
    client.patch(url, json={"attributes": {"retry": "2"}}, headers=auth)
    conversation = client.get(f"/api/v2/conversations/{org['conversation']}", headers=auth).json
    [agent] = [p for p in conversation["participants"] if p["id"] == org["participant"]]
    assert agent["attributes"] == {"mockgc.error": "locked", "retry": "2"}
    bad = client.patch(url, json={"attributes": {"n": 1}}, headers=auth)
    assert bad.status_code == 400 and bad.json["code"] == "invalid.value"
    ghost = client.patch(url.replace(org["participant"], "ghost"), json={"attributes": {}}, headers=auth)
    assert ghost.status_code == 404


# -- WFM: the update-upload publish flow ------------------------------------------------


def upload(client: FlaskClient, auth: dict[str, str], schedule_url: str, document: dict[str, Any]) -> str:
    payload = gzip.compress(json.dumps(document).encode())
    slot = client.post(f"{schedule_url}/update/uploadurl", json={"contentLengthBytes": len(payload)}, headers=auth)
    assert slot.status_code == 200, slot.json
    assert slot.json["headers"]["Content-Encoding"] == "gzip"
    target = urlsplit(slot.json["url"])
    assert target.scheme in ("http", "https") and target.netloc
    # The pre-signed url needs no bearer token.
    put = client.put(target.path, data=payload, headers=slot.json["headers"])
    assert put.status_code == 200, put.json
    return str(slot.json["uploadKey"])


def test_business_units(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    [bu] = client.get(WFM, headers=auth).json["entities"]
    assert bu["id"] == org["bu"]
    detail = client.get(f"{WFM}/{org['bu']}", headers=auth).json
    assert detail["settings"]["timeZone"] == "America/Chicago"
    assert detail["settings"]["metadata"] == {"version": 1}
    assert "managementUnits" not in detail  # the platform lists them at .../managementunits, not here


def test_schedule_publish_through_update_upload(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], org: dict[str, str], clock: VirtualClock
) -> None:
    created = client.post(
        f"{WFM}/{org['bu']}/weeks/{WEEK}/schedules", json={"description": "week 48", "weekCount": 1}, headers=auth
    )
    assert created.status_code == 200
    schedule = created.json
    assert (schedule["weekDate"], schedule["published"], schedule["metadata"]["version"]) == (WEEK, False, 1)
    schedule_url = f"{WFM}/{org['bu']}/weeks/{WEEK}/schedules/{schedule['id']}"
    assert client.get(schedule_url, headers=auth).json["id"] == schedule["id"]

    key = upload(client, auth, schedule_url, {"published": True, "metadata": {"version": 1}})
    started = client.post(f"{schedule_url}/update", json={"uploadKey": key}, headers=auth)
    assert started.status_code == 200
    assert started.json["status"] == "Processing"
    op_id = started.json["operationId"]

    op_url = f"{WFM}/{org['bu']}/operations/{op_id}"
    running = client.get(op_url, headers=auth).json
    assert running["status"] == "Processing" and running["mockgc"]["agentsHeld"] == 20
    locked = client.put(f"/api/v2/scripts/sessions/{org['session']}/variables/pref", json={"value": "x"}, headers=auth)
    assert locked.status_code == 400  # the first agent is in the first batch

    clock.set(running["mockgc"]["completesEpochMs"] / 1000 + 0.001)
    done = client.get(op_url, headers=auth).json
    assert done["status"] == "Complete"
    assert done["result"]["published"] is True and done["result"]["metadata"]["version"] == 2
    assert [o["operationId"] for o in client.get(f"{WFM}/{org['bu']}/operations", headers=auth).json["entities"]] == [
        op_id
    ]
    events = client.get("/mock/events", headers=admin).json["entities"]
    [event] = [e for e in events if e["topicName"] == f"v2.workforcemanagement.businessunits.{org['bu']}.schedules"]
    assert event["eventBody"]["operationId"] == op_id and event["eventBody"]["status"] == "Complete"

    # A stale version is accepted, as the platform accepts it; the operation then fails, in its state and
    # in its notification, holds nobody and leaves the schedule as it was.
    stale = upload(client, auth, schedule_url, {"published": True, "metadata": {"version": 1}})
    accepted = client.post(f"{schedule_url}/update", json={"uploadKey": stale}, headers=auth)
    assert accepted.status_code == 200 and accepted.json["status"] == "Processing"
    failed_url = f"{WFM}/{org['bu']}/operations/{accepted.json['operationId']}"
    plan = client.get(failed_url, headers=auth).json["mockgc"]  # the mock-only view of the operation
    assert plan["agentsHeld"] == 0 and "version 2" in plan["error"]
    clock.set(plan["completesEpochMs"] / 1000 + 0.001)
    failed = client.get(failed_url, headers=auth).json
    assert failed["status"] == "Error" and "result" not in failed
    events = client.get("/mock/events", headers=admin).json["entities"]
    assert events[-1]["eventBody"] == {"status": "Error", "operationId": failed["operationId"], "eventType": "Update"}
    assert client.get(schedule_url, headers=auth).json["metadata"]["version"] == 2
    reused = client.post(f"{schedule_url}/update", json={"uploadKey": stale}, headers=auth)
    assert reused.status_code == 400  # the key was used up by the accepted update


def test_upload_errors(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    schedule = client.post(f"{WFM}/{org['bu']}/weeks/{WEEK}/schedules", json={}, headers=auth).json
    schedule_url = f"{WFM}/{org['bu']}/weeks/{WEEK}/schedules/{schedule['id']}"

    def put(payload: bytes, **headers: str) -> Any:
        slot = client.post(
            f"{schedule_url}/update/uploadurl", json={"contentLengthBytes": len(payload)}, headers=auth
        ).json
        return client.put(urlsplit(slot["url"]).path, data=payload, headers=headers)

    not_gzip = put(b"\x1f\x8bnot really gzip", **{"Content-Encoding": "gzip"})
    assert not_gzip.status_code == 400 and not_gzip.json["code"] == "bad.request"
    no_version = put(gzip.compress(b'{"published": true}'))
    assert no_version.status_code == 400 and no_version.json["code"] == "invalid.value"
    plain = put(b'{"published": true, "metadata": {"version": 1}}')  # the upload URL's headers say gzip
    assert plain.status_code == 400 and "gzip" in plain.json["message"]
    early = client.post(f"{schedule_url}/update", json={"uploadKey": "never-issued"}, headers=auth)
    assert early.status_code == 400 and early.json["code"] == "invalid.value"
    bad_week = client.post(f"{WFM}/{org['bu']}/weeks/2026-02-30/schedules", json={}, headers=auth)
    assert bad_week.status_code == 400 and bad_week.json["details"] == [{"fieldName": "weekId"}]
    wrong_bu = client.get(f"{WFM}/ghost/operations/whatever", headers=auth)
    assert wrong_bu.status_code == 404


# -- script engine (mock-only) -------------------------------------------------------


def test_script_session_lifecycle(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    base = f"/api/v2/scripts/sessions/{org['session']}"
    session = client.get(base, headers=auth).json
    assert (session["userId"], session["conversationId"], session["version"]) == (org["user"], org["conversation"], 0)
    put = client.put(f"{base}/variables/preferenceCode", json={"value": "PX-1"}, headers=auth)
    assert put.json == {"sessionId": org["session"], "name": "preferenceCode", "value": "PX-1", "version": 1}
    evaluated = client.post(f"{base}/evaluate", json={"variable": "preferenceCode"}, headers=auth).json
    assert (evaluated["branch"], evaluated["value"]) == ("personalized", "PX-1")
    assert client.post(f"{base}/evaluate", json={"variable": "other"}, headers=auth).json["branch"] == "default"
    stale = client.put(f"{base}/variables/preferenceCode", json={"value": "PX-2", "expectedVersion": 0}, headers=auth)
    assert stale.status_code == 409
    assert client.post(f"{base}/attach", headers=auth).json["attached"] is True
    not_participant = client.post(
        "/api/v2/scripts/sessions",
        json={"userId": list(platform_of(client).agents)[1], "conversationId": org["conversation"]},
        headers=auth,
    )
    assert not_participant.status_code == 400


def test_script_data_bulk_reports_per_item(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str], settings: Settings
) -> None:
    users = [u["id"] for u in client.get("/api/v2/users", headers=auth).json["entities"]]
    call = client.post("/api/v2/conversations/calls", json={"callUserId": users[-1]}, headers=auth).json
    free = client.post(
        "/api/v2/scripts/sessions", json={"userId": users[-1], "conversationId": call["id"]}, headers=auth
    ).json["id"]
    platform_of(client).publish_schedule(org["bu"])  # the first batch (users[0]) is held now, the last is not
    updates = [
        {"sessionId": org["session"], "variables": {"preferenceCode": "A"}},
        {"sessionId": free, "variables": {"preferenceCode": "B"}},
    ]
    response = client.put("/api/v2/analytics/script-data", json={"updates": updates}, headers=auth)
    assert response.status_code == 200
    [held, ok] = response.json["results"]
    assert (held["sessionId"], held["status"], held["code"]) == (org["session"], 400, "bad.request")
    assert (ok["sessionId"], ok["status"], ok["version"]) == (free, 200, 1)

    too_many = [{"sessionId": free, "variables": {"n": "1"}}] * (settings.org.script_data_chunk_limit + 1)
    limited = client.put("/api/v2/analytics/script-data", json={"updates": too_many}, headers=auth)
    assert limited.status_code == 400 and limited.json["code"] == "invalid.value"
    assert limited.json["details"] == [{"fieldName": "updates"}]


# -- legacy v1 over HTTP -----------------------------------------------------------------


@pytest.fixture
def v1_app(settings: Settings) -> tuple[Flask, AutoClock]:
    clock = AutoClock()
    return create_app(settings, clock=clock, profile=get_profile("legacy-v1")), clock


def test_v1_write_during_a_publish_waits_instead_of_failing(v1_app: tuple[Flask, AutoClock]) -> None:
    app, clock = v1_app
    client = app.test_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic()})
    auth = {"Authorization": f"Bearer {token.json['access_token']}"}
    platform = app.extensions["mockgc"].platform
    user = next(iter(platform.agents))
    call = client.post("/api/v2/conversations/calls", json={"callUserId": user}, headers=auth).json
    session = client.post(
        "/api/v2/scripts/sessions", json={"userId": user, "conversationId": call["id"]}, headers=auth
    ).json["id"]
    op = platform.publish_schedule()
    start = clock.now()
    response = client.put(f"/api/v2/scripts/sessions/{session}/variables/pref", json={"value": "v1"}, headers=auth)
    assert response.status_code == 200 and response.json["value"] == "v1"
    assert clock.waits == [pytest.approx(op.batches[0][1] - start)]  # answered when the hold ended
    assert clock.now() == op.batches[0][1]
    assert platform.ground_truth()[session]["variables"] == {"pref": "v1"}
