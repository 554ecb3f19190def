"""Analytics answered from the org's own record: status intervals at their times, calls with their attributes,
aggregates, queue observations, async jobs with cursors, and the platform's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import PureCloudPlatformClientV2 as gc
from flask.testing import FlaskClient

from mockgc.clock import VirtualClock
from mockgc.platform.domain.statuslog import ROUTING, StatusLog
from mockgc.platform.domain.users import PRESENCE_DEFINITIONS
from mockgc.platform.serve.server import ServerThread
from tests.platform.sdk_conformance import assert_sdk_conforms
from tests.platform.test_sdk import SdkFactory, make_sdk  # noqa: F401 - the SDK's fixture

A = "/api/v2/analytics"
T0 = 1_795_000_000.0  # the fixtures' virtual clock starts here (2026-11-18T11:06:40Z)


def at(seconds: float) -> str:
    return (
        datetime.fromtimestamp(T0 + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(seconds * 1000) % 1000:03d}Z"
    )


def window(start: float, end: float) -> str:
    return f"{at(start)}/{at(end)}"


def post(client: FlaskClient, auth: dict[str, str], path: str, body: Any, status: int = 200) -> Any:
    reply = client.post(A + path, json=body, headers=auth)
    assert reply.status_code == status, reply.json
    return reply.json


def presence(client: FlaskClient, auth: dict[str, str], user: str, system: str) -> None:
    body = {"presenceDefinition": {"systemPresence": system}}
    assert client.patch(f"/api/v2/users/{user}/presences/purecloud", json=body, headers=auth).status_code == 200


def only(user: str) -> list[dict[str, Any]]:
    return [{"type": "or", "predicates": [{"dimension": "userId", "value": user}]}]


def test_user_details_are_the_status_changes_at_their_times(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str], clock: VirtualClock
) -> None:
    user = org["user"]
    presence(client, auth, user, "Away")  # off queue, whatever the seed drew
    clock.advance(10)
    presence(client, auth, user, "On Queue")  # going On Queue makes the agent IDLE
    clock.advance(5)
    client.put(f"/api/v2/users/{user}/routingstatus", json={"status": "INTERACTING"}, headers=auth)
    clock.advance(5)
    presence(client, auth, user, "Available")  # leaving the queue makes it OFF_QUEUE
    clock.advance(1)

    found = post(client, auth, "/users/details/query", {"interval": window(1, 30), "userFilters": only(user)})
    assert found["totalHits"] == 1
    [detail] = found["userDetails"]
    assert_sdk_conforms(found, "AnalyticsUserDetailsQueryResponse")
    presences = [(p["systemPresence"], p["startTime"], p.get("endTime")) for p in detail["primaryPresence"]]
    assert presences == [("AWAY", at(0), at(10)), ("ON_QUEUE", at(10), at(20)), ("AVAILABLE", at(20), None)]
    assert detail["primaryPresence"][1]["organizationPresenceId"] == PRESENCE_DEFINITIONS["On Queue"]
    routings = [(r["routingStatus"], r["startTime"], r.get("endTime")) for r in detail["routingStatus"]]
    assert routings[-3:] == [("IDLE", at(10), at(15)), ("INTERACTING", at(15), at(20)), ("OFF_QUEUE", at(20), None)]

    # A routing-status filter keeps the matching intervals (and the users with any).
    interacting = post(
        client,
        auth,
        "/users/details/query",
        {
            "interval": window(1, 30),
            "routingStatusFilters": [
                {"type": "or", "predicates": [{"dimension": "routingStatus", "value": "INTERACTING"}]}
            ],
            "routingStatusAggregations": [{"type": "termFrequency", "dimension": "routingStatus"}],
        },
    )
    mine = next(d for d in interacting["userDetails"] if d["userId"] == user)
    assert [r["routingStatus"] for r in mine["routingStatus"]] == ["INTERACTING"]
    assert interacting["aggregations"][0]["results"][0]["value"] == "INTERACTING"

    # Time spent, from the same record: 5 s IDLE, 5 s INTERACTING in [10, 20).
    totals = post(
        client,
        auth,
        "/users/aggregates/query",
        {
            "interval": window(10, 20),
            "groupBy": ["userId"],
            "metrics": ["tAgentRoutingStatus"],
            "filter": only(user)[0],
        },
    )
    assert_sdk_conforms(totals, "UserAggregateQueryResponse")
    [group] = totals["results"]
    sums = {m["qualifier"]: m["stats"]["sum"] for m in group["data"][0]["metrics"]}
    assert sums == {"IDLE": 5000, "INTERACTING": 5000}


def test_details_page_and_refuse_what_the_platform_refuses(client: FlaskClient, auth: dict[str, str]) -> None:
    listed = post(client, auth, "/users/details/query", {"interval": window(-60, 60), "paging": {"pageSize": 7}})
    assert listed["totalHits"] == 21 and len(listed["userDetails"]) == 7  # 20 agents and 1 inactive user
    last = post(
        client, auth, "/users/details/query", {"interval": window(-60, 60), "paging": {"pageSize": 7, "pageNumber": 3}}
    )
    assert len(last["userDetails"]) == 7
    before_the_org = post(client, auth, "/users/details/query", {"interval": window(-7200, -3600)})
    assert before_the_org == {"totalHits": 0}
    refusals = {
        "no slash": {"interval": at(0)},
        "ends first": {"interval": window(60, 0)},
        "eight days": {"interval": window(0, 8 * 86_400)},
        "past 100000": {"interval": window(0, 60), "paging": {"pageSize": 100, "pageNumber": 1001}},
        "page of 101": {"interval": window(0, 60), "paging": {"pageSize": 101}},
        "unknown dimension": {
            "interval": window(0, 60),
            "userFilters": [{"type": "and", "predicates": [{"dimension": "mood", "value": "x"}]}],
        },
        "matches nothing": {
            "interval": window(0, 60),
            "userFilters": [{"type": "and", "predicates": [{"dimension": "userId"}]}],
        },
    }
    for why, body in refusals.items():
        reply = client.post(A + "/users/details/query", json=body, headers=auth)
        assert reply.status_code == 400, why
        assert reply.json["code"] in ("invalid.value", "bad.request"), why
    assert client.post(A + "/users/details/query", json={"interval": window(0, 60)}).status_code == 401


def test_conversation_details_have_participants_sessions_segments_and_the_jobs_have_attributes(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str], clock: VirtualClock
) -> None:
    user, conversation = org["user"], org["conversation"]
    attributes = f"/api/v2/conversations/{conversation}/participants/{org['participant']}/attributes"
    client.patch(attributes, json={"attributes": {"mockgc.outcome": "set_data 400"}}, headers=auth)
    clock.advance(30)
    later = client.post("/api/v2/conversations/calls", json={"callUserId": user}, headers=auth).json["id"]

    body = {"interval": window(-1, 60), "segmentFilters": only(user)}
    found = post(client, auth, "/conversations/details/query", body)
    assert_sdk_conforms(found, "AnalyticsConversationQueryResponse")
    assert found["totalHits"] == 2 and [c["conversationId"] for c in found["conversations"]] == [conversation, later]
    first = found["conversations"][0]
    assert first["conversationStart"] == at(0)
    agent = next(p for p in first["participants"] if p["purpose"] == "agent")
    assert agent["userId"] == user and "attributes" not in agent  # the query's model has none
    [session] = agent["sessions"]
    assert session["mediaType"] == "voice" and session["segments"][0]["segmentType"] == "interact"
    newest_first = post(
        client, auth, "/conversations/details/query", body | {"order": "desc", "paging": {"pageSize": 1}}
    )
    assert [c["conversationId"] for c in newest_first["conversations"]] == [later]
    nobody = post(
        client, auth, "/conversations/details/query", {"interval": window(-1, 60), "segmentFilters": only("nobody")}
    )
    assert nobody == {"totalHits": 0}

    # The job: QUEUED for a second, then its results page by cursor, with the participants' attributes.
    job = post(client, auth, "/conversations/details/jobs", {"interval": window(-1, 60)}, status=202)["jobId"]
    status = client.get(f"{A}/conversations/details/jobs/{job}", headers=auth).json
    assert status["state"] == "QUEUED"
    assert client.get(f"{A}/conversations/details/jobs/{job}/results", headers=auth).status_code == 400
    clock.advance(1)
    assert client.get(f"{A}/conversations/details/jobs/{job}", headers=auth).json["state"] == "FULFILLED"
    page = client.get(f"{A}/conversations/details/jobs/{job}/results?pageSize=1", headers=auth).json
    assert_sdk_conforms(page, "AnalyticsConversationAsyncQueryResponse")
    seen = page["conversations"]
    while "cursor" in page:
        page = client.get(
            f"{A}/conversations/details/jobs/{job}/results?pageSize=1&cursor={page['cursor']}", headers=auth
        ).json
        seen += page["conversations"]
    assert [c["conversationId"] for c in seen] == [conversation, later]
    logged = next(p for p in seen[0]["participants"] if p["purpose"] == "agent")["attributes"]
    assert logged == {"mockgc.outcome": "set_data 400"}
    bad = client.get(f"{A}/conversations/details/jobs/{job}/results?cursor=forged", headers=auth)
    assert bad.status_code == 400
    assert client.get(f"{A}/users/details/jobs/{job}", headers=auth).status_code == 404  # not a users job
    assert client.delete(f"{A}/conversations/details/jobs/{job}", headers=auth).status_code == 204
    assert client.get(f"{A}/conversations/details/jobs/{job}", headers=auth).status_code == 404


def test_conversation_aggregates_count_the_agents_calls_per_bucket(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str], clock: VirtualClock
) -> None:
    clock.advance(3600)
    for _ in range(2):
        client.post("/api/v2/conversations/calls", json={"callUserId": org["user"]}, headers=auth)
    body = {
        "interval": window(-1, 7199),
        "granularity": "PT1H",
        "groupBy": ["userId"],
        "metrics": ["nOffered", "tAnswered", "tHandle"],
        "filter": only(org["user"])[0],
    }
    answer = post(client, auth, "/conversations/aggregates/query", body)
    assert_sdk_conforms(answer, "ConversationAggregateQueryResponse")
    [group] = answer["results"]
    assert group["group"] == {"userId": org["user"]}
    offered = [next(m["stats"]["count"] for m in d["metrics"] if m["metric"] == "nOffered") for d in group["data"]]
    assert offered == [1, 2]  # the org fixture's call in the first hour, two in the second
    assert all(m["metric"] != "tHandle" for d in group["data"] for m in d["metrics"])  # no call has ended
    bad = client.post(A + "/conversations/aggregates/query", json=body | {"granularity": "PT0S"}, headers=auth)
    assert bad.status_code == 400


def test_queue_observations_count_the_agents_on_queue(client: FlaskClient, auth: dict[str, str]) -> None:
    platform = client.application.extensions["mockgc"].platform
    queue_id = next(iter(platform.routing.queues))
    joined = [a for a in platform.agents.values() if a.queues.get(queue_id)]
    body = {"filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": queue_id}]}}

    def counts() -> dict[tuple[str, str | None], int]:
        answer = post(client, auth, "/queues/observations/query", body)
        assert_sdk_conforms(answer, "QueueObservationQueryResponse")
        [result] = answer["results"]
        return {(d["metric"], d.get("qualifier")): d["stats"]["count"] for d in result["data"]}

    before = counts()
    on_queue = sum(v for (metric, _), v in before.items() if metric == "oOnQueueUsers")
    assert on_queue == sum(a.system_presence == "On Queue" for a in joined) > 0  # the seeded mix has some
    assert before[("oActiveUsers", None)] == len(joined)
    off = next(a for a in joined if a.system_presence != "On Queue")
    presence(client, auth, off.id, "On Queue")
    after = counts()
    assert after[("oOnQueueUsers", "IDLE")] == before.get(("oOnQueueUsers", "IDLE"), 0) + 1
    missing = client.post(
        A + "/queues/observations/query",
        json={"filter": {"type": "or", "predicates": [{"dimension": "mediaType", "value": "voice"}]}},
        headers=auth,
    )
    assert missing.status_code == 400  # the platform needs the queues named


def test_the_status_log_is_bounded_and_keeps_what_it_holds_true() -> None:
    log = StatusLog(capacity=3)
    for second in range(10):
        log.ended("u", ROUTING, float(second), float(second + 1), "IDLE" if second % 2 else "INTERACTING")
    assert len(log) == 3
    kept = list(log.intervals("u", ROUTING, 0, 100))
    assert [(i.start, i.end) for i in kept] == [(7.0, 8.0), (8.0, 9.0), (9.0, 10.0)]
    log.forget("u")
    log.ended("v", ROUTING, 0.0, 1.0, "IDLE")
    assert list(log.intervals("u", ROUTING, 0, 100)) == [] and len(log) == 1


def test_archived_calls_are_found_without_waking_them(settings: Any) -> None:
    from dataclasses import replace

    from mockgc.faults import get_profile
    from mockgc.platform.domain.archive import InteractionArchive
    from mockgc.platform.domain.backend import Platform
    from mockgc.platform.domain.querying import Interval

    clock = VirtualClock(start=T0)
    platform = Platform(
        replace(settings.org, archive_after_seconds=1), get_profile("fast"), clock, InteractionArchive()
    )
    agent = next(iter(platform.agents))
    first = platform.conversations.create_call(agent).id
    clock.advance(5)
    platform.store._archive_idle(clock.now())  # what the 500th creation would do
    assert first not in platform.store.conversations
    from mockgc.platform.domain.analytics import ConversationDetailsQuery

    found = platform.analytics.conversation_details(ConversationDetailsQuery(Interval(T0 - 1, T0 + 60)))
    assert [d.conversation.id for d in found.items] == [first] and first not in platform.store.conversations
    platform.close()


def test_the_sdk_reads_user_details_as_its_models(live_server: ServerThread, make_sdk: SdkFactory) -> None:  # noqa: F811
    """What calibrate's `record` does: the SDK's own query and answer models, against a live mock."""
    api = gc.AnalyticsApi(make_sdk(live_server.url))
    now = datetime.now(UTC)
    query = gc.UserDetailsQuery()
    query.interval = f"{(now - timedelta(hours=1)).isoformat()}/{now.isoformat()}"
    query.paging = gc.PagingSpec()
    query.paging.page_size, query.paging.page_number = 100, 1
    answer = api.post_analytics_users_details_query(query)
    assert answer.total_hits == 21
    assert all(d.routing_status and d.primary_presence for d in answer.user_details)
    assert all(r.routing_status != "outdated_sdk_version" for d in answer.user_details for r in d.routing_status)
