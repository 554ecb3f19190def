"""The seeded directory (queues, groups, skills, logins, emails) and membership changes, in the domain."""

from __future__ import annotations

import re

import pytest

from mockgc.clock import VirtualClock
from mockgc.faults import get_profile
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import InvalidValue, NotFound
from mockgc.platform.domain.groups import Groups
from mockgc.platform.domain.paging import PageRequest, paginate
from mockgc.platform.domain.routing import Routing, name_matches
from mockgc.platform.domain.users import email_handle
from mockgc.platform.settings import OrgSettings

# A dot-atom local part (RFC 5322): no leading, trailing or consecutive dots.
EMAIL = re.compile(r"^[a-z0-9]+(\.[a-z0-9]+)*@example\.com$")


def org(seed: int = 7, agents: int = 50) -> Platform:
    return Platform(OrgSettings(seed=seed, agents=agents), get_profile("fast"), VirtualClock())


def directory(platform: Platform) -> list[tuple[object, ...]]:
    """Everything seeded about each agent, queue and group."""
    agents = [
        (a.id, a.email, a.date_last_login, a.skills, a.groups, tuple(a.queues.items()), a.division)
        for a in platform.agents.values()
    ]
    queues = [(q.id, q.name) for q in platform.routing.queues.values()]
    groups = [(g.id, g.name, g.member_ids) for g in platform.groups.groups.values()]
    return [*agents, *queues, *groups]


def test_the_directory_is_the_seeds() -> None:
    assert directory(org(7)) == directory(org(7))
    assert directory(org(7)) != directory(org(8))


def test_the_directory_draws_on_streams_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flows' ids (and so the golden outputs) come from the org's id stream: seeding the
    directory must not draw on it."""
    seeded = org(7)
    monkeypatch.setattr(Routing, "seed", lambda self: None)
    monkeypatch.setattr(Groups, "seed", lambda self: None)
    bare = org(7)
    assert not bare.routing.queues and not bare.groups.groups
    assert list(bare.agents) == list(seeded.agents)
    assert [a.name for a in bare.agents.values()] == [a.name for a in seeded.agents.values()]
    assert bare.ctx.new_id() == seeded.ctx.new_id()


@pytest.mark.parametrize(("seed", "agents"), [(1, 1), (2, 7), (3, 50), (4, 333)])
def test_every_agent_is_in_a_queue_and_a_group_with_skills_and_a_login(seed: int, agents: int) -> None:
    platform = org(seed, agents)
    now = platform.clock.now()
    for agent in platform.agents.values():
        assert any(agent.queues.values()), agent  # a member, and joined, of at least one queue
        assert agent.groups and 1 <= len(agent.skills) <= 3
        # A few never logged in (and are offline); the others did within the three days before.
        login = agent.date_last_login
        assert (login is None and agent.system_presence == "Offline") or now - 3 * 86_400 <= login <= now
        assert EMAIL.match(agent.email), agent.email
    assert len({a.email for a in platform.agents.values()}) == agents


@pytest.mark.parametrize(
    ("name", "handle"),
    [("Mr. Gregory Ryan", "mr.gregory.ryan"), ("Tracy O'Neil DDS", "tracy.oneil.dds"), ("Jo  Ann", "jo.ann")],
)
def test_email_handles_are_valid_local_parts(name: str, handle: str) -> None:
    assert email_handle(name) == handle


def test_membership_changes_emit_queue_and_activity_events() -> None:
    platform = org(7, 20)
    routing, log = platform.routing, platform.events.log
    queue_id = next(iter(routing.queues))
    outsider = next(a.id for a in platform.agents.values() if queue_id not in a.queues)
    routing.add_members(queue_id, [outsider])
    routing.add_members(queue_id, [outsider])  # already a member: nothing changes, nothing fires
    assert [e.topic for e in log] == [f"v2.routing.queues.{queue_id}.users", f"v2.users.{outsider}.activity"]
    assert log[0].body == {"id": outsider, "user": {"id": outsider}, "queueId": queue_id, "joined": True}
    assert queue_id in log[1].body["activeQueueIds"]

    joined_before = routing.queue(queue_id).joined_count
    [member] = routing.set_joined(queue_id, [(outsider, False)])
    assert member.joined is False and log[-2].body["joined"] is False
    assert queue_id not in log[-1].body["activeQueueIds"]
    assert routing.queue(queue_id).joined_count == joined_before - 1

    routing.remove_members(queue_id, [outsider])
    assert queue_id not in platform.agents[outsider].queues
    with pytest.raises(InvalidValue, match="not a member"):
        routing.set_joined(queue_id, [(outsider, True)])
    with pytest.raises(NotFound):
        routing.add_members(queue_id, [outsider, "ghost"])
    assert queue_id not in platform.agents[outsider].queues  # the bad batch changed nothing


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("Support", ["Support"]),
        ("support", ["Support"]),
        ("Support*", ["Support", "Support Escalations"]),
        ("*Support", ["Support", "Spanish Support"]),
        ("*port*", ["Support", "Support Escalations", "Spanish Support"]),
        ("Sup", []),
    ],
)
def test_queue_names_filter_as_the_platform_does(pattern: str, matches: list[str]) -> None:
    names = ["Support", "Sales", "Support Escalations", "Spanish Support"]
    assert [n for n in names if name_matches(pattern, n)] == matches


def test_paginate_slices_and_keeps_the_totals() -> None:
    items = list(range(11))
    assert paginate(items, PageRequest(5, 3)).entities == [10]
    page = paginate(items, PageRequest(5, 4))
    assert (page.entities, page.total, page.count) == ([], 11, 3)
    assert paginate([], PageRequest(25, 1)).count == 0
