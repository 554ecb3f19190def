"""Users, presence, queues and groups over Flask's test client: paging links, query checks, bodies."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from mockgc.platform.domain.users import PRESENCE_DEFINITIONS


def get(client: FlaskClient, auth: dict[str, str], path: str) -> Any:
    response = client.get(path, headers=auth)
    assert response.status_code == 200, response.json
    return response.json


def test_paging_links_keep_the_other_parameters(client: FlaskClient, auth: dict[str, str]) -> None:
    body = get(client, auth, "/api/v2/users?expand=presence,groups&pageNumber=2&pageSize=7")
    assert body["selfUri"] == "/api/v2/users?pageSize=7&pageNumber=2&expand=presence,groups"
    assert body["nextUri"] == "/api/v2/users?pageSize=7&pageNumber=3&expand=presence,groups"
    assert body["previousUri"] == body["firstUri"] == "/api/v2/users?pageSize=7&pageNumber=1&expand=presence,groups"
    assert (body["total"], body["pageCount"]) == (20, 3)
    following, seen = body["firstUri"], []
    while following:  # a client that follows nextUri sees everyone once
        page = get(client, auth, following)
        seen += [u["id"] for u in page["entities"]]
        following = page.get("nextUri")
    assert len(seen) == len(set(seen)) == 20


@pytest.mark.parametrize(
    "query",
    ["pageSize=0", "pageSize=501", "pageSize=abc", "pageSize=-1", "pageSize=1e3", "pageSize=%EF%BC%92", "pageNumber=0"],
)
@pytest.mark.parametrize(
    "path", ["/api/v2/users", "/api/v2/routing/queues", "/api/v2/groups", "/api/v2/presencedefinitions"]
)
def test_bad_paging_is_a_400_naming_the_field(client: FlaskClient, auth: dict[str, str], path: str, query: str) -> None:
    response = client.get(f"{path}?{query}", headers=auth)
    assert response.status_code == 400 and response.json["code"] == "invalid.value"
    assert response.json["details"] == [{"fieldName": query.split("=")[0]}]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("expand=presence,bogus", "expand"),
        ("expand=", "expand"),
        ("state=sleeping", "state"),
        ("sortOrder=Asc", "sortOrder"),
        ("id=" + ",".join(["x"] * 101), "id"),
    ],
)
def test_bad_user_queries_are_400s(client: FlaskClient, auth: dict[str, str], query: str, field: str) -> None:
    response = client.get(f"/api/v2/users?{query}", headers=auth)
    assert response.status_code == 400 and response.json["details"] == [{"fieldName": field}]


def test_user_filters(client: FlaskClient, auth: dict[str, str]) -> None:
    everyone = get(client, auth, "/api/v2/users")["entities"]
    inactive = get(client, auth, "/api/v2/users?state=inactive")["entities"]
    assert (
        len(everyone) == 20 and len(inactive) == 1 and inactive[0]["state"] == "inactive"
    )  # one per 25 agents, and one
    assert len(get(client, auth, "/api/v2/users?state=any")["entities"]) == 21
    assert get(client, auth, "/api/v2/users?state=deleted")["entities"] == []
    backwards = get(client, auth, "/api/v2/users?sortOrder=desc")["entities"]
    assert [u["id"] for u in backwards] == [u["id"] for u in reversed(everyone)]
    ids = [everyone[4]["id"], everyone[1]["id"], everyone[4]["id"]]
    named = get(client, auth, f"/api/v2/users?id={ids[0]}&id={ids[1]},{ids[2]}")
    # In the order named, each once.
    assert [u["id"] for u in named["entities"]] == [everyone[4]["id"], everyone[1]["id"]] and named["total"] == 2


def test_presence_patch_takes_primary_and_checks_it(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str]
) -> None:
    url = f"/api/v2/users/{org['user']}/presences/purecloud"
    assert client.patch(url, json={"primary": True}, headers=auth).json["primary"] is True
    bad = client.patch(url, json={"primary": "yes"}, headers=auth)
    assert bad.status_code == 400 and bad.json["details"] == [{"fieldName": "primary"}]
    assert client.patch(url, json={}, headers=auth).status_code == 400  # nothing to change


def seeded_presence(client: FlaskClient, user_id: str) -> str:
    return str(client.application.extensions["mockgc"].platform.users.agents[user_id].system_presence)


def test_bulk_presence_read(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    assert get(client, auth, "/api/v2/users/presences/purecloud/bulk") == []
    [one] = get(client, auth, f"/api/v2/users/presences/purecloud/bulk?id={org['user']},ghost")
    assert one["userId"] == org["user"]
    assert one["presenceDefinition"]["id"] == PRESENCE_DEFINITIONS[seeded_presence(client, org["user"])]
    assert client.get(f"/api/v2/users/presences/teams/bulk?id={org['user']}", headers=auth).status_code == 404


def test_presence_listings_filter(client: FlaskClient, auth: dict[str, str]) -> None:
    assert get(client, auth, "/api/v2/presencedefinitions?deleted=true")["entities"] == []
    assert (
        get(client, auth, "/api/v2/presencedefinitions?pageSize=4&pageNumber=3")["entities"][-1]["systemPresence"]
        == "Break"
    )
    assert get(client, auth, "/api/v2/presence/definitions?deactivated=true")["entities"] == []
    on_queue = get(client, auth, f"/api/v2/presence/definitions/{PRESENCE_DEFINITIONS['On Queue']}")
    assert on_queue["systemPresence"] == "OnQueue"  # the newer API spells it as the SDK's enum does


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("post", {"id": "x"}, None),
        ("post", [], None),
        ("post", [{"name": "no id"}], "id"),
        ("patch", [{"id": "u"}], "joined"),
        ("patch", [{"id": "u", "joined": "yes"}], "joined"),
        ("post", [{"id": "u"}] * 101, None),
    ],
)
def test_bad_member_bodies_are_400s(
    client: FlaskClient, auth: dict[str, str], method: str, body: Any, field: str | None
) -> None:
    queue = get(client, auth, "/api/v2/routing/queues")["entities"][0]["id"]
    response = getattr(client, method)(f"/api/v2/routing/queues/{queue}/members", json=body, headers=auth)
    assert response.status_code == 400 and response.json["code"] == "invalid.value"
    if field:  # a list's entry may be named by its index too ("0.joined")
        assert response.json["details"][0]["fieldName"].split(".")[-1] == field


def test_members_listing_has_no_totals_and_users_has_them(client: FlaskClient, auth: dict[str, str]) -> None:
    queue = get(client, auth, "/api/v2/routing/queues")["entities"][0]
    too_many = client.get(f"/api/v2/routing/queues/{queue['id']}/members?pageSize=101", headers=auth)
    assert too_many.status_code == 400 and too_many.json["details"] == [{"fieldName": "pageSize"}]
    members = get(client, auth, f"/api/v2/routing/queues/{queue['id']}/members?pageSize=2")
    assert not {"total", "pageCount", "lastUri"} & set(members) and members["nextUri"]
    users = get(client, auth, f"/api/v2/routing/queues/{queue['id']}/users?pageSize=2")
    assert users["total"] == queue["memberCount"]
    unjoined = get(client, auth, f"/api/v2/routing/queues/{queue['id']}/users?joined=false")
    assert unjoined["total"] == queue["memberCount"] - queue["joinedMemberCount"]
