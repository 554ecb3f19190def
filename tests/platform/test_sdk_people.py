"""Users, presence, routing queues and groups through the official SDK, each answer checked against its model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import PureCloudPlatformClientV2 as gc
import pytest
import requests
from PureCloudPlatformClientV2.rest import ApiException
from websockets.sync.client import ClientConnection, connect

from mockgc.platform.domain.users import PRESENCE_DEFINITIONS, ROUTING_STATUSES
from mockgc.platform.serve.server import ServerThread
from tests.conftest import ADMIN_KEY
from tests.platform.sdk_conformance import assert_sdk_conforms
from tests.platform.test_sdk import SdkFactory, build, error_of, make_sdk, sdk_globals  # noqa: F401 - the SDK's fixtures (a clean global Configuration)

pytestmark = pytest.mark.timeout(60)

ADMIN_OAUTH = "/mock/oauth/clients"
# The real ids an integration hard-codes (the captured payload in mockgc/platform/domain/users.py).
REAL_IDS = {
    "Meal": "3fd96123-badb-4f69-bc03-1b1ccc6d8014",
    "Idle": "7ffa01cd-7866-4ad7-8faa-31e11b42f51f",
    "Break": "227b37e2-f1d0-4dd0-8f50-badd7cf6d158",
    "Meeting": "bbdff279-7ae1-48ea-bade-7831d7234c64",
    "Training": "d2390a99-8546-bad9-8f0a-219548e8aeb0",
}


def raw(api: Any) -> Any:
    """The JSON of the SDK client's last answer, as the mock sent it."""
    return json.loads(api.last_response.data)


def assert_model(body: Any, sdk_type: str) -> Any:
    """`body` is exactly the SDK's `sdk_type` (tests/platform/sdk_conformance.py); answers the SDK's reading of it."""
    assert_sdk_conforms(body, sdk_type)
    return gc.ApiClient()._ApiClient__deserialize(body, sdk_type)


@pytest.fixture
def api(live_server: ServerThread, make_sdk: SdkFactory) -> Any:  # noqa: F811
    """An SDK client logged in to a live mock."""
    return make_sdk(live_server.url)


def all_users(users: Any, page_size: int, **query: Any) -> list[Any]:
    """Page as public paging helpers do: follow nextUri until there is none (bounded)."""
    found, number = [], 1
    for _ in range(100):
        page = users.get_users(page_size=page_size, page_number=number, **query)
        assert_model(raw(users.api_client), "UserEntityListing")
        found += page.entities
        if not page.next_uri:
            return found
        number += 1
    raise AssertionError("nextUri never ended")


# -- users -----------------------------------------------------------------------------------


def test_users_page_as_the_platform_pages(live_server: ServerThread, api: Any) -> None:
    users = gc.UsersApi(api)
    second = users.get_users(page_size=5, page_number=2)
    assert (second.page_size, second.page_number, second.total, second.page_count) == (5, 2, 20, 4)
    assert len(second.entities) == 5
    assert second.self_uri == "/api/v2/users?pageSize=5&pageNumber=2"
    assert second.previous_uri == "/api/v2/users?pageSize=5&pageNumber=1" == second.first_uri
    assert second.next_uri == "/api/v2/users?pageSize=5&pageNumber=3"
    assert second.last_uri == "/api/v2/users?pageSize=5&pageNumber=4"

    everyone = all_users(users, 6)
    assert len(everyone) == len({u.id for u in everyone}) == 20  # 4 pages, the last short, no repeats
    last = users.get_users(page_size=6, page_number=4)
    assert len(last.entities) == 2 and last.next_uri is None
    beyond = users.get_users(page_size=6, page_number=9)
    assert beyond.entities == [] and beyond.total == 20 and beyond.next_uri is None

    with pytest.raises(ApiException) as too_big:
        users.get_users(page_size=501)
    assert too_big.value.status == 400 and error_of(too_big)["code"] == "invalid.value"


def test_the_id_filter_returns_only_the_named_users(live_server: ServerThread, api: Any) -> None:
    users = gc.UsersApi(api)
    ids = [u.id for u in users.get_users(page_size=3).entities]
    named = users.get_users(id=[ids[2], ids[0], "not-a-user"])
    assert sorted(u.id for u in named.entities) == sorted([ids[0], ids[2]])
    assert named.total == 2


def test_users_expand_and_carry_the_models_fields(live_server: ServerThread, api: Any) -> None:
    users = gc.UsersApi(api)
    expand = ["presence", "routingStatus", "groups", "skills", "dateLastLogin"]
    listing = users.get_users(page_size=20, expand=expand)
    assert_model(raw(api), "UserEntityListing")
    for user in listing.entities:
        assert user.username and user.version == 1 and user.division.name == "Home"
        system = user.presence.presence_definition.system_presence
        assert user.presence.presence_definition.id == PRESENCE_DEFINITIONS[system]
        # The platform's coupling: a routing status other than OFF_QUEUE only On Queue, and back.
        assert (user.routing_status.status != "OFF_QUEUE") == (system == "On Queue")
        assert len(user.groups) >= 1 and len(user.skills) >= 1  # what an export reads
        assert user.date_last_login is not None or system == "Offline"  # never logged in: offline
        assert ".." not in user.email and user.email.count("@") == 1
    plain = users.get_users(page_size=1).entities[0]
    assert (plain.presence, plain.groups, plain.date_last_login) == (None, None, None)  # only when expanded

    one = users.get_user(listing.entities[3].id, expand=["skills", "presence"])
    assert_model(raw(api), "User")
    assert one.id == listing.entities[3].id and one.skills == listing.entities[3].skills
    with pytest.raises(ApiException) as missing:
        users.get_user("00000000-0000-4000-8000-000000000000")
    assert missing.value.status == 404 and error_of(missing)["code"] == "not.found"
    with pytest.raises(ApiException) as unknown:
        users.get_users(expand=["nonsense"])
    assert unknown.value.status == 400


# -- presence ----------------------------------------------------------------------------------


def test_presence_definitions_are_the_platforms(live_server: ServerThread, api: Any) -> None:
    presence = gc.PresenceApi(api)
    legacy = presence.get_presencedefinitions()
    assert_model(raw(api), "OrganizationPresenceEntityListing")
    by_system = {d.system_presence: d.id for d in legacy.entities}
    assert by_system == PRESENCE_DEFINITIONS and legacy.total == 10 and legacy.next_uri is None
    assert {name: by_system[name] for name in REAL_IDS} == REAL_IDS

    current = presence.get_presence_definitions()
    assert_model(raw(api), "OrganizationPresenceDefinitionEntityListing")
    assert {d.id for d in current.entities} == set(PRESENCE_DEFINITIONS.values())
    assert {d.type for d in current.entities} == {"System"}
    meal = presence.get_presence_definition(REAL_IDS["Meal"])
    assert_model(raw(api), "OrganizationPresenceDefinition")
    assert meal.system_presence == "Meal"
    assert presence.get_presencedefinition(REAL_IDS["Meal"]).system_presence == "Meal"
    assert_model(raw(api), "OrganizationPresence")

    systems = presence.get_systempresences()
    assert_model(raw(api), "list[SystemPresence]")
    assert {s.name for s in systems} == set(PRESENCE_DEFINITIONS)


def test_each_real_presence_id_patches_and_primary_is_accepted(live_server: ServerThread, api: Any) -> None:
    presence = gc.PresenceApi(api)
    user_id = gc.UsersApi(api).get_users(page_size=1).entities[0].id
    for system, definition_id in REAL_IDS.items():
        body = build(gc.UserPresence, presence_definition=build(gc.PresenceDefinition, id=definition_id))
        patched = presence.patch_user_presence(user_id, "purecloud", body)
        assert_model(raw(api), "UserPresence")
        assert patched.presence_definition.system_presence == system
    primary = presence.patch_user_presences_purecloud(user_id, build(gc.UserPresence, primary=True))
    assert primary.primary is True and primary.presence_definition.system_presence == "Training"


def test_bulk_presence_read_is_the_real_get(live_server: ServerThread, api: Any) -> None:
    presence = gc.PresenceApi(api)
    ids = [u.id for u in gc.UsersApi(api).get_users(page_size=3).entities]
    busy = build(gc.PresenceDefinition, id=PRESENCE_DEFINITIONS["Busy"])
    presence.patch_user_presence(ids[1], "purecloud", build(gc.UserPresence, presence_definition=busy))
    read = presence.get_users_presences_purecloud_bulk(id=ids)
    assert_model(raw(api), "list[UcUserPresence]")
    assert [p.user_id for p in read] == ids
    before = [
        u.presence.presence_definition.system_presence
        for u in gc.UsersApi(api).get_users(page_size=3, expand=["presence"]).entities
    ]
    assert [p.presence_definition.system_presence for p in read] == before
    assert before[1] == "Busy"
    assert [p.user_id for p in presence.get_users_presence_bulk("purecloud", id=ids[:1])] == ids[:1]
    # The invented PUT is gone: the path answers only the real GET.
    invented = requests.put(
        f"{live_server.url}/api/v2/users/presences/purecloud/bulk",
        json=[],
        headers={"Authorization": f"Bearer {api.access_token}"},
        timeout=10,
    )
    assert invented.status_code == 405 and invented.json()["code"] == "method.not.allowed"


# -- routing queues and groups -------------------------------------------------------------------


def test_queues_list_filter_by_name_and_read(live_server: ServerThread, api: Any) -> None:
    routing = gc.RoutingApi(api)
    listing = routing.get_routing_queues()
    assert_model(raw(api), "QueueEntityListing")
    assert [q.name for q in listing.entities] == ["Billing", "Sales", "Support"]  # 20 agents, 3 queues, by name
    assert [q.name for q in routing.get_routing_queues(name="Sales").entities] == ["Sales"]
    assert [q.name for q in routing.get_routing_queues(name="sales").entities] == ["Sales"]
    assert [q.name for q in routing.get_routing_queues(name="S*").entities] == ["Sales", "Support"]
    assert [q.name for q in routing.get_routing_queues(sort_order="desc").entities] == ["Support", "Sales", "Billing"]
    assert [q.name for q in routing.get_routing_queues(name="*ing").entities] == ["Billing"]
    assert routing.get_routing_queues(name="Sal").entities == []  # no asterisk: the exact name
    paged = routing.get_routing_queues(page_size=2, page_number=2)
    assert [q.name for q in paged.entities] == ["Support"] and paged.next_uri is None

    queue = routing.get_routing_queue(listing.entities[2].id)
    assert_model(raw(api), "Queue")
    assert queue.name == "Support" and queue.member_count >= queue.joined_member_count >= 1
    with pytest.raises(ApiException) as missing:
        routing.get_routing_queue("no-such-queue")
    assert missing.value.status == 404 and error_of(missing)["code"] == "not.found"


def test_every_agent_is_a_member_of_a_queue(live_server: ServerThread, api: Any) -> None:
    routing = gc.RoutingApi(api)
    members: dict[str, set[str]] = {}
    for queue in routing.get_routing_queues().entities:
        listing = routing.get_routing_queue_members(queue.id, page_size=100, expand=["routingStatus"])
        assert_model(raw(api), "QueueMemberEntityListing")
        assert listing.next_uri is None and len(listing.entities) == queue.member_count
        names = [m.name for m in listing.entities]
        assert names == sorted(names, key=str.lower)  # the platform sorts members by name
        part = names[0].split()[-1][1:4]  # a contains-style search
        found = routing.get_routing_queue_members(queue.id, page_size=100, name=part).entities
        assert names[0] in [m.name for m in found] and all(part.lower() in m.name.lower() for m in found)
        for member in listing.entities:
            assert member.user.id == member.id and member.routing_status.status in ROUTING_STATUSES
            members.setdefault(member.id, set()).add(queue.id)
        users = routing.get_routing_queue_users(queue.id, page_size=100, joined=True)
        assert_model(raw(api), "QueueMemberEntityListingV1")
        assert users.total == queue.joined_member_count and all(m.joined for m in users.entities)
    everyone = {u.id for u in gc.UsersApi(api).get_users(page_size=100).entities}
    assert set(members) == everyone


def test_skills_list_and_each_users_skill_resolves(live_server: ServerThread, api: Any) -> None:
    routing = gc.RoutingApi(api)
    skills = routing.get_routing_skills()
    assert_model(raw(api), "SkillEntityListing")
    assert skills.total == len(skills.entities) == 6
    assert [s.name for s in skills.entities] == ["Billing", "English", "Retention", "Sales", "Spanish", "Technical"]
    assert [s.name for s in routing.get_routing_skills(name="S").entities] == ["Sales", "Spanish"]  # starts with
    user = gc.UsersApi(api).get_users(page_size=1, expand=["skills"]).entities[0]
    for held in user.skills:
        skill = routing.get_routing_skill(held.id)
        assert_model(raw(api), "RoutingSkill")
        assert skill.name == held.name and held.skill_uri == skill.self_uri
    with pytest.raises(ApiException) as missing:
        routing.get_routing_skill("no-such-skill")
    assert missing.value.status == 404


def test_groups_list_read_and_match_the_users(live_server: ServerThread, api: Any) -> None:
    groups_api, users = gc.GroupsApi(api), gc.UsersApi(api)
    groups = groups_api.get_groups()
    assert_model(raw(api), "GroupEntityListing")
    assert groups.total == len(groups.entities) == 4
    one = groups_api.get_group(groups.entities[0].id)
    assert_model(raw(api), "Group")
    assert one.name == "Tier 1"
    belonging: dict[str, int] = {}
    for user in users.get_users(page_size=100, expand=["groups"]).entities:
        for group in user.groups:
            belonging[group.id] = belonging.get(group.id, 0) + 1
    assert belonging == {g.id: g.member_count for g in groups.entities}
    assert [g.id for g in groups_api.get_groups(id=[one.id]).entities] == [one.id]
    with pytest.raises(ApiException) as missing:
        groups_api.get_group("no-such-group")
    assert missing.value.status == 404


# -- notifications for membership and activity -----------------------------------------------------


@pytest.fixture
def socket(live_server: ServerThread, api: Any) -> Iterator[tuple[Any, ClientConnection]]:
    notifications = gc.NotificationsApi(api)
    channel = notifications.post_notifications_channels()
    with connect(channel.connect_uri) as ws:
        yield channel, ws


def receive(ws: ClientConnection, topic: str, limit: int = 20) -> dict[str, Any]:
    for _ in range(limit):
        message: dict[str, Any] = json.loads(ws.recv(timeout=5))
        if message["topicName"] == topic:
            return message
    raise AssertionError(f"no message on {topic}")


def test_queue_membership_and_user_activity_topics_fire(api: Any, socket: tuple[Any, ClientConnection]) -> None:
    channel, ws = socket
    routing, users = gc.RoutingApi(api), gc.UsersApi(api)
    queues = routing.get_routing_queues().entities
    sales = queues[1]
    outsider = next(
        u.id
        for u in users.get_users(page_size=100).entities
        if u.id not in {m.id for m in routing.get_routing_queue_members(sales.id, page_size=100).entities}
    )
    topics = [f"v2.routing.queues.{sales.id}.users", f"v2.users.{outsider}.activity"]
    subscribed = gc.NotificationsApi(api).put_notifications_channel_subscriptions(
        channel.id, [build(gc.ChannelTopic, id=t) for t in topics]
    )
    assert [t.id for t in subscribed.entities] == topics

    routing.post_routing_queue_members(sales.id, [build(gc.WritableEntity, id=outsider)])
    added = receive(ws, topics[0])
    member = assert_model(added["eventBody"], "QueueUserEventTopicQueueMember")
    assert (member.id, member.user.id, member.queue_id, member.joined) == (outsider, outsider, sales.id, True)
    activity = assert_model(receive(ws, topics[1])["eventBody"], "AgentActivityChangedTopicAgentActivity")
    assert sales.id in activity.active_queue_ids

    routing.patch_routing_queue_members(sales.id, [build(gc.QueueMember, id=outsider, joined=False)])
    assert receive(ws, topics[0])["eventBody"]["joined"] is False
    assert sales.id not in receive(ws, topics[1])["eventBody"]["activeQueueIds"]

    users.put_user_routingstatus(outsider, build(gc.RoutingStatus, status="OFF_QUEUE"))
    changed = assert_model(receive(ws, topics[1])["eventBody"], "AgentActivityChangedTopicAgentActivity")
    assert changed.routing_status.status == "OFF_QUEUE"

    routing.post_routing_queue_members(sales.id, [build(gc.WritableEntity, id=outsider)], delete=True)
    assert receive(ws, topics[0])["eventBody"]["joined"] is False
    after = routing.get_routing_queue_members(sales.id, page_size=100).entities
    assert outsider not in {m.id for m in after}


def test_a_user_reads_and_joins_its_own_queues(live_server: ServerThread, api: Any) -> None:
    users, routing = gc.UsersApi(api), gc.RoutingApi(api)
    user_id = users.get_users(page_size=1).entities[0].id
    mine = users.get_user_queues(user_id)
    assert_model(raw(api), "UserQueueEntityListing")
    assert mine.total >= 1 and any(q.joined for q in mine.entities)
    first = mine.entities[0]
    left = users.patch_user_queue(first.id, user_id, build(gc.UserQueue, joined=False))
    assert_model(raw(api), "UserQueue")
    assert left.joined is False and left.joined_member_count == first.joined_member_count - 1
    assert first.id not in {q.id for q in users.get_user_queues(user_id, joined=True).entities}
    back = users.patch_user_queues(user_id, [build(gc.UserQueue, id=first.id, joined=True)])
    assert_model(raw(api), "UserQueueEntityListing")
    assert [q.joined for q in back.entities] == [True]
    assert routing.get_routing_queue(first.id).joined_member_count == first.joined_member_count
    outside = next(q for q in routing.get_routing_queues().entities if q.id not in {m.id for m in mine.entities})
    with pytest.raises(ApiException) as not_member:
        users.patch_user_queue(outside.id, user_id, build(gc.UserQueue, joined=True))
    assert not_member.value.status == 400 and error_of(not_member)["code"] == "invalid.value"


def test_membership_changes_are_all_or_nothing(live_server: ServerThread, api: Any) -> None:
    routing = gc.RoutingApi(api)
    queue = routing.get_routing_queues().entities[0]
    before = routing.get_routing_queue(queue.id).member_count
    user_id = gc.UsersApi(api).get_users(page_size=1).entities[0].id
    with pytest.raises(ApiException) as ghost:
        routing.post_routing_queue_members(
            queue.id, [build(gc.WritableEntity, id=user_id), build(gc.WritableEntity, id="ghost")], delete=True
        )
    assert ghost.value.status == 404
    assert routing.get_routing_queue(queue.id).member_count == before


# -- rate-limit headers --------------------------------------------------------------------------


def test_an_unlimited_client_still_gets_rate_limit_headers(
    live_server: ServerThread,
    make_sdk: SdkFactory,  # noqa: F811
) -> None:
    created = requests.post(
        live_server.url + ADMIN_OAUTH,
        json={"clientId": "exporter", "clientSecret": "pw", "rateLimitPerMinute": None},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=10,
    )
    assert created.status_code == 201
    exporter = make_sdk(live_server.url, login=False)
    exporter.get_client_credentials_token("exporter", "pw")
    users = gc.UsersApi(exporter)
    for count in (1, 2, 3):
        users.get_users(page_size=1)
        assert exporter.last_response.getheader("inin-ratelimit-count") == str(count)
        assert int(exporter.last_response.getheader("inin-ratelimit-allowed")) >= 2**31 - 1
        assert int(exporter.last_response.getheader("inin-ratelimit-reset")) >= 1
