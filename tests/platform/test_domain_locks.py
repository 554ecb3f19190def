"""The publish-lock failure model in the domain, driven by the virtual clock: holds, fault kinds, v1, toxicity."""

from __future__ import annotations

import pytest

from mockgc.clock import VirtualClock
from mockgc.faults import FaultProfile, get_profile
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import InvalidValue, SessionInvalidated, SessionLocked
from mockgc.platform.domain.publish_lock import Hold, LockTable
from mockgc.platform.domain.scripts import DEFAULT, PERSONALIZED, VariableUpdate
from mockgc.platform.domain.timeline import Timeline
from mockgc.platform.domain.users import PresenceChange
from mockgc.platform.http.analytics import parse_script_data
from mockgc.platform.settings import Settings

FAST = get_profile("fast")  # batches of 5 every 100 ms, each held 300 ms


def make(settings: Settings, clock: VirtualClock, profile: FaultProfile = FAST) -> Platform:
    return Platform(settings.org, profile, clock)


def open_session(platform: Platform, agent_id: str) -> str:
    call = platform.conversations.create_call(agent_id)
    return platform.scripts.create(agent_id, call.id).id


def write(platform: Platform, session_id: str, value: str, name: str = "pref") -> dict[str, object]:
    return platform.scripts.set_variable(session_id, name, value, None).value.to_api()


def holds_of(platform: Platform, agent_id: str) -> list[Hold]:
    return [h for h in platform.locks.windows() if h.agent_id == agent_id]


# -- building blocks -----------------------------------------------------------


def test_hold_covers_a_half_open_interval() -> None:
    hold = Hold("a", "op", 10.0, 12.0, True, "reject")
    assert [hold.covers(t) for t in (9.999, 10.0, 11.0, 11.999, 12.0)] == [False, True, True, True, False]


def test_lock_table_finds_the_hold_that_covers_now_and_forgets_removed_ones() -> None:
    table = LockTable()
    first, second = Hold("a", "op1", 0.0, 1.0, True, "reject"), Hold("a", "op2", 5.0, 6.0, True, "clobber")
    table.add(first)
    table.add(second)
    assert table.active("a", 0.5) is first
    assert table.active("a", 5.5) is second
    assert table.active("a", 3.0) is None
    assert table.active("b", 0.5) is None
    table.remove(first)
    table.remove(first)  # removing twice is harmless
    assert table.active("a", 0.5) is None
    assert table.windows() == [second]


def test_timeline_runs_due_actions_in_time_order_and_only_once() -> None:
    timeline, ran = Timeline(), []
    for at in (3.0, 1.0, 2.0, 1.0):
        timeline.schedule(at, ran.append)
    timeline.run_due(0.5)
    assert ran == []
    timeline.run_due(2.0)
    assert ran == [1.0, 1.0, 2.0]
    assert timeline.next_due() == 3.0
    timeline.run_due(2.5)
    assert ran == [1.0, 1.0, 2.0]
    timeline.run_due(10.0)
    assert ran == [1.0, 1.0, 2.0, 3.0]
    assert timeline.next_due() is None


# -- the hold plan -------------------------------------------------------------


def test_publish_holds_batches_of_b_agents_every_i_ms_for_h_ms(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock, FAST.with_publish(batch_size=3, interval_ms=250, hold_ms=400))
    t0 = clock.now()
    op = platform.publish_schedule()
    agents = list(platform.agents)  # seeding order is batch order
    assert len(agents) == 20
    assert op.agents_held == 20
    assert len(op.batches) == 7  # ceil(20 / 3)
    for k, (start, end) in enumerate(op.batches):
        assert start == pytest.approx(t0 + k * 0.25)
        assert end == pytest.approx(start + 0.4)
        for agent_id in agents[3 * k : 3 * k + 3]:
            [hold] = holds_of(platform, agent_id)
            assert (hold.start, hold.end, hold.operation_id, hold.kind) == (start, end, op.id, "reject")
    assert op.completes_at == pytest.approx(t0 + 6 * 0.25 + 0.4)


def test_start_delay_shifts_every_hold(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock, FAST.with_publish(start_delay_ms=2000))
    t0 = clock.now()
    op = platform.publish_schedule()
    assert op.batches[0] == (pytest.approx(t0 + 2.0), pytest.approx(t0 + 2.3))
    session = open_session(platform, next(iter(platform.agents)))
    write(platform, session, "before the delay ran out")  # nobody is held yet
    clock.advance(2.1)
    with pytest.raises(SessionLocked):
        write(platform, session, "inside the first batch")


def test_status_flips_to_reserved_at_the_end_of_each_hold(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock)
    op = platform.publish_schedule()
    agents = list(platform.agents.values())
    assert {a.scenario_status for a in agents} == {"Available"}
    first_end = op.batches[0][1]
    clock.set(first_end - 0.001)
    platform.settle()
    assert {a.scenario_status for a in agents[:5]} == {"Available"}
    clock.set(first_end)
    platform.settle()
    assert {a.scenario_status for a in agents[:5]} == {"Reserved"}
    assert {a.scenario_status for a in agents[5:]} == {"Available"}  # their holds run later
    clock.set(op.completes_at)
    platform.settle()
    assert {a.scenario_status for a in agents} == {"Reserved"}
    assert platform.locks.windows() == []  # ended holds are dropped


# -- reject (the field report) ----------------------------------------------------


def test_reject_fails_set_data_read_and_evaluate_only_during_the_hold(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock)
    agent = next(iter(platform.agents))
    session = open_session(platform, agent)
    assert write(platform, session, "before")["version"] == 1

    op = platform.publish_schedule()
    clock.advance(0.05)
    attempts = {
        "Set Data": lambda: write(platform, session, "during"),
        "read": lambda: platform.scripts.get(session),
        "evaluate": lambda: platform.scripts.evaluate(session, "pref"),
    }
    for name, attempt in attempts.items():
        with pytest.raises(SessionLocked) as caught:
            attempt()
        error = caught.value
        assert (error.status, error.code) == (400, "bad.request"), name
        [detail] = error.details
        assert detail["errorCode"] == "script.session.locked"
        assert detail["lock"]["kind"] == "wfm.schedule.publish"
        assert detail["lock"]["operationId"] == op.id
        assert detail["lock"]["userId"] == agent
        assert detail["lock"]["heldUntilEpochMs"] == int(op.batches[0][1] * 1000)
        assert op.id in error.message and session in error.message

    assert platform.ground_truth()[session]["variables"] == {"pref": "before"}  # the rejected write left nothing
    clock.set(op.batches[0][1])
    assert write(platform, session, "after")["version"] == 2
    result = platform.scripts.evaluate(session, "pref").value
    assert (result.branch, result.value) == (PERSONALIZED, "after")


def test_agents_in_later_batches_are_not_held_yet(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock)
    agents = list(platform.agents)
    early, late = open_session(platform, agents[0]), open_session(platform, agents[15])  # batches 0 and 3
    op = platform.publish_schedule()
    clock.advance(0.05)
    with pytest.raises(SessionLocked):
        write(platform, early, "x")
    assert write(platform, late, "x")["version"] == 1
    clock.set(op.batches[3][0])
    with pytest.raises(SessionLocked):
        write(platform, late, "y")


def test_attach_is_refused_while_a_reject_hold_is_on(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock)
    session = open_session(platform, next(iter(platform.agents)))
    platform.publish_schedule()
    with pytest.raises(SessionLocked):
        platform.scripts.attach(session)


def test_bulk_script_data_fails_only_the_held_session(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock)
    agents = list(platform.agents)
    held, free = open_session(platform, agents[0]), open_session(platform, agents[19])
    platform.publish_schedule()
    updates = [
        VariableUpdate(held, {"pref": "H"}),
        VariableUpdate(free, {"pref": "F"}),
        VariableUpdate("no-such-session", {"pref": "N"}),
    ]
    results = platform.scripts.update_many(updates).value.to_api()["results"]
    assert [(r["sessionId"], r["status"]) for r in results] == [(held, 400), (free, 200), ("no-such-session", 404)]
    assert results[0]["code"] == "bad.request"
    truth = platform.ground_truth()
    assert truth[held]["variables"] == {} and truth[free]["variables"] == {"pref": "F"}


def test_bulk_script_data_enforces_the_chunk_limit(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock)
    session = open_session(platform, next(iter(platform.agents)))
    limit = settings.org.script_data_chunk_limit
    updates = parse_script_data({"updates": [{"sessionId": session, "variables": {"n": "1"}}] * limit}, limit)
    assert len(platform.scripts.update_many(updates).value.results) == limit
    with pytest.raises(InvalidValue):
        parse_script_data({"updates": [{"sessionId": session, "variables": {"n": "1"}}] * (limit + 1)}, limit)


# -- clobber -----------------------------------------------------------------


def test_clobber_acknowledges_writes_then_restores_the_hold_start_snapshot(
    settings: Settings, clock: VirtualClock
) -> None:
    platform = make(settings, clock, FAST.with_publish(kind="clobber"))
    session = open_session(platform, next(iter(platform.agents)))
    write(platform, session, "A")
    op = platform.publish_schedule()
    clock.advance(0.1)
    acknowledged = write(platform, session, "B")
    write(platform, session, "X", name="other")
    assert acknowledged == {"sessionId": session, "name": "pref", "value": "B", "version": 2}
    assert platform.scripts.get(session).value.variables == {"pref": "B", "other": "X"}

    clock.set(op.batches[0][1])
    truth = platform.ground_truth()[session]
    assert truth["variables"] == {"pref": "A"}  # the acknowledged writes are gone
    assert truth["version"] == 1
    assert platform.scripts.evaluate(session, "pref").value.value == "A"
    write(platform, session, "C")  # after the hold, writes stick
    clock.advance(10)
    assert platform.ground_truth()[session]["variables"] == {"pref": "C"}


# -- invalidate --------------------------------------------------------------


def test_invalidate_drops_the_context_until_the_client_reattaches(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock, FAST.with_publish(kind="invalidate"))
    session = open_session(platform, next(iter(platform.agents)))
    write(platform, session, "A")
    op = platform.publish_schedule()
    clock.advance(0.05)
    assert write(platform, session, "B")["version"] == 2  # during the hold nothing fails yet

    clock.set(op.batches[0][1])
    read = platform.scripts.get(session).value.to_api()
    assert read["attached"] is False
    assert read["variables"] == {}
    assert platform.scripts.evaluate(session, "pref").value.branch == DEFAULT
    with pytest.raises(SessionInvalidated) as caught:
        write(platform, session, "C")
    assert caught.value.details[0]["errorCode"] == "script.session.invalidated"
    assert caught.value.status == 400
    truth = platform.ground_truth()[session]
    assert (truth["variables"], truth["attached"]) == ({"pref": "B"}, False)  # stored, only hidden

    assert platform.scripts.attach(session).to_api()["variables"] == {"pref": "B"}
    assert write(platform, session, "C")["version"] == 3
    assert platform.scripts.evaluate(session, "pref").value.branch == PERSONALIZED


# -- legacy v1 ---------------------------------------------------------------


def test_v1_applies_writes_during_a_hold_and_answers_when_it_ends(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock, get_profile("legacy-v1"))
    agents = list(platform.agents)
    session, later = open_session(platform, agents[0]), open_session(platform, agents[15])
    op = platform.publish_schedule()
    hold_end = op.batches[0][1]
    clock.advance(0.5)
    waited = platform.scripts.set_variable(session, "pref", "during", None)
    assert waited.ready_at == hold_end
    assert waited.value.value == "during"
    assert platform.ground_truth()[session]["variables"] == {"pref": "during"}
    assert platform.scripts.get(session).ready_at == hold_end
    assert platform.scripts.evaluate(session, "pref").ready_at == hold_end
    # An agent in a later batch (batch 1 starts at t0 + 1 s) answers at once.
    assert platform.scripts.set_variable(later, "pref", "x", None).ready_at is None
    clock.set(hold_end)
    assert platform.scripts.set_variable(session, "pref", "after", None).ready_at is None


# -- toxicity and determinism ----------------------------------------------------


def test_calm_profile_holds_nothing_but_still_flips_statuses(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock, get_profile("calm"))
    sessions = [open_session(platform, a) for a in platform.agents]
    op = platform.publish_schedule()
    assert op.agents_held == 20 and not any(h.toxic for h in platform.locks.windows())
    for start, _ in op.batches:
        clock.set(start)
        for session in sessions:
            write(platform, session, str(start))
    clock.set(op.completes_at)
    platform.settle()
    assert {a.scenario_status for a in platform.agents.values()} == {"Reserved"}


def toxic_flags(seed: int, toxicity: float) -> list[bool]:
    settings = Settings(seed=seed, agents=40, profile="fast", client_secret="s", admin_key="a")
    platform = make(settings, VirtualClock(), FAST.with_publish(toxicity=toxicity))
    platform.publish_schedule()
    return [h.toxic for h in sorted(platform.locks.windows(), key=lambda h: list(platform.agents).index(h.agent_id))]


def test_half_toxicity_holds_some_agents_and_is_reproducible_per_seed() -> None:
    flags = toxic_flags(7, 0.5)
    assert 0 < sum(flags) < len(flags)
    assert toxic_flags(7, 0.5) == flags
    assert toxic_flags(8, 0.5) != flags
    assert all(toxic_flags(7, 1.0)) and not any(toxic_flags(7, 0.0))


def test_non_toxic_holds_let_writes_through_and_toxic_ones_reject(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock, FAST.with_publish(toxicity=0.5))
    sessions = {a: open_session(platform, a) for a in platform.agents}
    platform.publish_schedule()
    clock.advance(0.35)  # inside the holds of batches 1-3 (agents 5..19)
    for agent_id in list(platform.agents)[5:]:
        [hold] = holds_of(platform, agent_id)
        if hold.toxic:
            with pytest.raises(SessionLocked):
                write(platform, sessions[agent_id], "x")
        else:
            assert write(platform, sessions[agent_id], "x")["version"] == 1


def test_same_seed_gives_the_same_agents_ids_and_holds(settings: Settings) -> None:
    def run(seed: int) -> tuple[list[tuple[str, ...]], str, list[tuple[object, ...]]]:
        platform = make(Settings(seed=seed, agents=20, client_secret="s", admin_key="a"), VirtualClock(), FAST)
        op = platform.publish_schedule()
        agents = [(a.id, a.name, a.email, a.management_unit_id) for a in platform.agents.values()]
        holds = [(h.agent_id, h.operation_id, h.start, h.end, h.toxic, h.kind) for h in platform.locks.windows()]
        return agents, op.id, holds

    first = run(11)
    assert run(11) == first
    other = run(12)
    assert other[0] != first[0] and other[1] != first[1]


# -- manual status changes ----------------------------------------------------


def test_manual_status_changes_never_lock_and_work_during_a_hold(settings: Settings, clock: VirtualClock) -> None:
    platform = make(settings, clock)
    agents = list(platform.agents)
    session = open_session(platform, agents[0])
    platform.users.set_routing_status(agents[0], "INTERACTING")
    platform.users.set_presence(agents[0], "purecloud", PresenceChange("Busy"))
    platform.users.set_presences("purecloud", [(a, PresenceChange("Away")) for a in agents[:3]])
    assert platform.locks.windows() == []
    assert write(platform, session, "manual changes hold nothing")["version"] == 1

    op = platform.publish_schedule()
    clock.advance(0.05)
    assert platform.users.set_routing_status(agents[0], "IDLE").routing_status == "IDLE"
    presence = platform.users.set_presence(agents[0], "purecloud", PresenceChange(message="held but reachable"))
    assert presence.presence_message == "held but reachable"
    bulk = platform.users.set_presences("purecloud", [(agents[0], PresenceChange("Busy"))])
    assert bulk[0].system_presence == "Busy"
    assert len(platform.locks.windows()) == 20  # only the publish's own holds

    clock.set(op.completes_at)
    platform.settle()
    assert platform.agents[agents[0]].scenario_status == "Reserved"
    platform.users.set_presence(agents[0], "purecloud", PresenceChange("Available"))
    assert platform.agents[agents[0]].scenario_status == "Available"  # a hand-made change undoes Reserved
