"""User search (its query grammar, sorting, paging by q64), create, patch with version, delete, and the voicemail policy."""

from __future__ import annotations

from typing import Any

import PureCloudPlatformClientV2 as gc
from flask.testing import FlaskClient

from mockgc.platform.serve.server import ServerThread
from tests.platform.sdk_conformance import assert_sdk_conforms
from tests.platform.test_sdk import SdkFactory, make_sdk  # noqa: F401 - the SDK's fixture

SEARCH = "/api/v2/users/search"


def search(client: FlaskClient, auth: dict[str, str], **body: Any) -> Any:
    reply = client.post(SEARCH, json=body, headers=auth)
    assert reply.status_code == 200, reply.json
    assert_sdk_conforms(reply.json, "UsersSearchResponse")
    return reply.json


def agents(client: FlaskClient) -> list[Any]:
    return list(client.application.extensions["mockgc"].platform.agents.values())


def test_search_grammar(client: FlaskClient, auth: dict[str, str]) -> None:
    everyone = agents(client)
    first = everyone[0]
    exact = search(client, auth, query=[{"type": "EXACT", "fields": ["email"], "value": first.email.upper()}])
    assert [u["id"] for u in exact["results"]] == [first.id] and exact["types"] == ["users"]
    surname = first.name.split()[-1][:3]
    contains = search(client, auth, query=[{"type": "CONTAINS", "fields": ["name"], "value": surname}], pageSize=100)
    assert {u["id"] for u in contains["results"]} == {a.id for a in everyone if surname.lower() in a.name.lower()}
    starts = search(
        client, auth, query=[{"type": "STARTS_WITH", "fields": ["name"], "values": ["a", "b"]}], pageSize=100
    )
    assert all(u["name"][0] in "AaBb" for u in starts["results"])
    on_queue = [a.id for a in everyone if a.system_presence == "On Queue"]
    queued = search(
        client,
        auth,
        query=[
            {"type": "EXACT", "fields": ["presence.presenceDefinition.systemPresence"], "value": "On Queue"},
            {"type": "EXACT", "fields": ["id"], "value": on_queue[0], "operator": "NOT"},
        ],
        expand=["presence", "routingStatus"],
        pageSize=100,
    )
    assert sorted(u["id"] for u in queued["results"]) == sorted(on_queue[1:])
    assert all(u["routingStatus"]["status"] != "OFF_QUEUE" for u in queued["results"])  # expanded, and coupled
    either = search(
        client,
        auth,
        query=[
            {"type": "EXACT", "fields": ["id"], "value": everyone[1].id, "operator": "OR"},
            {
                "type": "MATCH_ALL",
                "group": [{"type": "EXACT", "fields": ["id"], "values": [everyone[2].id]}],
                "operator": "OR",
            },
        ],
    )
    assert {u["id"] for u in either["results"]} == {everyone[1].id, everyone[2].id}
    phones = search(client, auth, query=[{"type": "REQUIRED_FIELDS", "fields": ["addresses"]}], pageSize=100)
    assert {u["id"] for u in phones["results"]} == {a.id for a in everyone if a.phone}
    for bad in (
        {"query": [{"type": "REGEX", "fields": ["name"], "value": "(a+)+$"}]},  # never run: a regex can stall
        {"query": [{"type": "EXACT", "fields": ["mood"], "value": "x"}]},
        {"query": [{"type": "EXACT", "fields": ["name"]}]},
        {"pageSize": 101},
    ):
        assert client.post(SEARCH, json=bad, headers=auth).status_code == 400, bad


def test_search_sorts_and_pages_by_q64(client: FlaskClient, auth: dict[str, str]) -> None:
    body = {"query": [{"type": "MATCH_ALL"}], "sortBy": "name", "sortOrder": "DESC", "pageSize": 8}
    first = search(client, auth, **body)
    assert first["total"] == 21 and first["pageCount"] == 3 and "previousPage" not in first  # with the inactive user
    names = [u["name"].lower() for u in first["results"]]
    assert names == sorted(names, reverse=True)
    seen = [u["id"] for u in first["results"]]
    page = first
    while "nextPage" in page:
        page = client.get(f"{SEARCH}?q64={page['nextPage']}&expand=presence", headers=auth).json
        assert_sdk_conforms(page, "UsersSearchResponse")
        assert all("presence" in u for u in page["results"])
        seen += [u["id"] for u in page["results"]]
    assert len(seen) == len(set(seen)) == 21 and page["pageNumber"] == 3
    assert client.get(f"{SEARCH}?q64=not*base64", headers=auth).status_code == 400


def test_create_patch_delete(client: FlaskClient, auth: dict[str, str], admin: dict[str, str]) -> None:
    new = {
        "name": "Nova Person",
        "email": "nova@example.com",
        "title": "Agent",
        "addresses": [{"address": "+13125550142", "mediaType": "PHONE"}],
    }
    created = client.post("/api/v2/users", json=new, headers=auth)
    assert created.status_code == 200
    user = created.json
    assert_sdk_conforms(user, "User")
    assert (user["state"], user["version"], user["addresses"][0]["address"]) == ("active", 1, "+13125550142")
    assert client.post("/api/v2/users", json=new | {"email": "NOVA@example.com"}, headers=auth).status_code == 409
    url = f"/api/v2/users/{user['id']}"
    patched = client.patch(url, json={"version": 1, "department": "Care", "state": "inactive"}, headers=auth)
    assert patched.status_code == 200 and patched.json["version"] == 2 and patched.json["department"] == "Care"
    stale = client.patch(url, json={"version": 1, "title": "Lead"}, headers=auth)
    assert stale.status_code == 409 and stale.json["code"] == "request.conflict"
    inactive = client.get("/api/v2/users?state=inactive&pageSize=100", headers=auth).json["entities"]
    assert user["id"] in [u["id"] for u in inactive]

    # Deleting an agent: it leaves its queues (each announced), and is listed only as deleted.
    agent = agents(client)[0]
    queues = list(agent.queues)
    assert client.delete(f"/api/v2/users/{agent.id}", headers=auth).json == {}
    assert client.get(f"/api/v2/users/{agent.id}", headers=auth).status_code == 404
    assert client.get(f"/api/v2/users/{agent.id}/routingstatus", headers=auth).status_code == 404
    deleted = client.get("/api/v2/users?state=deleted", headers=auth).json["entities"]
    assert [u["id"] for u in deleted] == [agent.id] and deleted[0]["state"] == "deleted"
    events = client.get("/mock/events", headers=admin).json["entities"]
    left = [
        e["eventBody"]["queueId"]
        for e in events
        if e["topicName"].endswith(".users") and e["eventBody"]["id"] == agent.id
    ]
    assert left == queues and all(not e["eventBody"]["joined"] for e in events if e["topicName"].endswith(".users"))
    assert client.delete(f"/api/v2/users/{agent.id}", headers=auth).status_code == 404


def test_voicemail_user_policy(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    url = f"/api/v2/voicemail/userpolicies/{org['user']}"
    policy = client.get(url, headers=auth).json
    assert_sdk_conforms(policy, "VoicemailUserPolicy")
    assert policy["enabled"] is True
    changed = client.patch(url, json={"enabled": False, "pin": "1234", "alertTimeoutSeconds": 12}, headers=auth).json
    assert (changed["enabled"], changed["alertTimeoutSeconds"]) == (False, 12) and "pin" not in changed
    assert client.get(url, headers=auth).json["enabled"] is False
    assert client.patch(url, json={"pin": "12ab"}, headers=auth).status_code == 400
    assert client.get("/api/v2/voicemail/userpolicies/ghost", headers=auth).status_code == 404


def test_the_sdk_searches_users(live_server: ServerThread, make_sdk: SdkFactory) -> None:  # noqa: F811
    users = gc.UsersApi(make_sdk(live_server.url))
    criterion = gc.UserSearchCriteria()
    criterion.type, criterion.fields, criterion.value = "CONTAINS", ["email"], "example.com"
    request = gc.UserSearchRequest()
    request.query, request.page_size, request.expand = [criterion], 10, ["presence"]
    found = users.post_users_search(request)
    assert found.total == 21 and len(found.results) == 10 and found.next_page
    assert all(u.presence.presence_definition.system_presence for u in found.results)
    again = users.get_users_search(found.next_page)
    assert again.page_number == 2 and {u.id for u in again.results}.isdisjoint({u.id for u in found.results})
