"""Each mitigation driven by hand with scripted replies; the weekly window across DST; module:Class loading."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mockgc.flows.context import DEFAULT, PERSONALIZED, Evaluation, FlowContext, SessionRef
from mockgc.flows.effects import Call, Effect, Now, Reply, Sleep
from mockgc.flows.mitigations.backoff_verify import BackoffVerify
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.retry import Retry
from mockgc.flows.mitigations.soft_hold import SoftHold
from mockgc.flows.mitigations.window_guard import (
    WindowGuard,
    defer_until,
    next_window_start,
    window_start_on_or_before,
)
from mockgc.strategies.registry import REGISTRY, load_mitigation

CHICAGO = ZoneInfo("America/Chicago")
CTX = FlowContext("k-1", "agent-1", "bu-1", seed=7)
SESSION = SessionRef("sess-1", "conv-1", "part-1")
VALUE = "PREF-AB-1234"
OK_WRITE = Reply(200, {"sessionId": "sess-1", "name": "preferenceCode", "value": VALUE, "version": 1})
LOCKED = Reply(400, {"code": "bad.request", "details": [{"errorCode": "script.session.locked"}]})
INVALIDATED = Reply(400, {"code": "bad.request", "details": [{"errorCode": "script.session.invalidated"}]})
NOT_FOUND = Reply(404, {"code": "not.found", "details": []})


def session_body(*, value: str | None = VALUE, attached: bool = True) -> Reply:
    variables = {"preferenceCode": value} if value is not None and attached else {}
    return Reply(200, {"id": "sess-1", "variables": variables, "attached": attached, "version": 1})


def branch(name: str, value: str | None = VALUE) -> Reply:
    return Reply(200, {"sessionId": "sess-1", "variable": "preferenceCode", "value": value, "branch": name})


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


Answer = Reply | Callable[[Call], Reply]


@dataclass
class Driver:
    """Interprets effects by hand: Calls get the next scripted reply for their op, Sleep moves time."""

    script: dict[str, list[Answer]]
    now: float = 1_795_435_140.0
    call_seconds: float = 0.05
    effects: list[Effect] = field(default_factory=list)

    def run(self, step: Generator[Effect, Any, Any]) -> Any:
        answer: Any = None
        for _ in range(10_000):
            try:
                effect = step.send(answer)
            except StopIteration as stop:
                return stop.value
            self.effects.append(effect)
            if isinstance(effect, Call):
                queue = self.script.get(effect.op)
                assert queue, f"unexpected call {effect.op} {effect.params}"
                reply = queue.pop(0)
                answer = reply(effect) if callable(reply) else reply
                self.now += self.call_seconds
            elif isinstance(effect, Sleep):
                assert effect.seconds >= 0
                self.now += effect.seconds
                answer = None
            elif isinstance(effect, Now):
                answer = self.now
            else:
                raise AssertionError(f"unexpected effect {effect!r}")
        raise AssertionError("the mitigation never finished")

    def ops(self) -> list[str]:
        return [e.op if isinstance(e, Call) else type(e).__name__ for e in self.effects]

    def sleeps(self) -> list[float]:
        return [e.seconds for e in self.effects if isinstance(e, Sleep)]

    def calls(self, op: str) -> list[Call]:
        return [e for e in self.effects if isinstance(e, Call) and e.op == op]


def write(mitigation: Mitigation, driver: Driver) -> bool:
    return bool(driver.run(mitigation.set_data(CTX, SESSION, "preferenceCode", VALUE)))


def evaluate(mitigation: Mitigation, driver: Driver) -> Evaluation:
    result = driver.run(mitigation.evaluate(CTX, SESSION, "preferenceCode"))
    assert isinstance(result, Evaluation)
    return result


def test_every_seed_remedy_is_registered() -> None:
    assert {"none", "soft-hold", "retry", "window-guard", "backoff-verify"} <= set(REGISTRY)
    for name, entry in REGISTRY.items():
        assert entry.strategy.name == name
        if entry.in_all:  # the others need the user's URLs (data-action: tests/strategies/test_data_action.py)
            assert load_mitigation(name).describe()["name"] == name


# -- soft-hold ------------------------------------------------------------------


def test_soft_hold_sleeps_a_seeded_jitter_then_writes_once() -> None:
    driver = Driver({"set_data": [OK_WRITE], "evaluate": [branch(PERSONALIZED)]})
    mitigation = SoftHold()
    assert write(mitigation, driver) is True
    assert driver.ops() == ["Sleep", "set_data"]
    (delay,) = driver.sleeps()
    assert 0.25 <= delay <= 0.75
    assert evaluate(mitigation, driver) == Evaluation(PERSONALIZED, VALUE)
    # The jitter is the session's own: the same context gives the same delay, others differ.
    assert SoftHold().delay_seconds(CTX) == delay
    others = {SoftHold().delay_seconds(FlowContext(f"k-{n}", "a", "b", seed=7)) for n in range(20)}
    assert len(others) == 20 and all(0.25 <= d <= 0.75 for d in others)


def test_soft_hold_does_not_retry_a_rejected_write() -> None:
    driver = Driver({"set_data": [LOCKED]})
    assert write(SoftHold(min_ms=0, max_ms=0), driver) is False
    assert driver.ops() == ["Sleep", "set_data"]
    assert driver.sleeps() == [0.0]


@pytest.mark.parametrize(
    "params, message",
    [({"min_ms": 800, "max_ms": 700}, "must not exceed"), ({"min_ms": -1}, "min_ms"), ({"max_ms": "5"}, "max_ms")],
)
def test_soft_hold_rejects_bad_parameters(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SoftHold(**params)


# -- retry ------------------------------------------------------------------------


def test_retry_logs_each_failure_to_participant_attributes_and_retries_after_two_seconds() -> None:
    accepted = Reply(202, None)
    driver = Driver({"set_data": [LOCKED, LOCKED, OK_WRITE], "patch_attributes": [accepted, accepted]})
    assert write(Retry(), driver) is True
    assert driver.ops() == [
        "set_data",
        "patch_attributes",
        "Sleep",
        "set_data",
        "patch_attributes",
        "Sleep",
        "set_data",
    ]
    assert driver.sleeps() == [2.0, 2.0]
    logs = driver.calls("patch_attributes")
    assert [c.params["attributes"] for c in logs] == [
        {"mockgc.setDataError": "400 script.session.locked", "mockgc.attempt": "1"},
        {"mockgc.setDataError": "400 script.session.locked", "mockgc.attempt": "2"},
    ]
    assert all(c.params["conversationId"] == "conv-1" and c.params["participantId"] == "part-1" for c in logs)


def test_retry_gives_up_after_the_bounded_attempts() -> None:
    driver = Driver({"set_data": [LOCKED] * 5, "patch_attributes": [Reply(202)] * 5})
    assert write(Retry(), driver) is False
    assert len(driver.calls("set_data")) == 3
    assert len(driver.calls("patch_attributes")) == 3
    assert driver.sleeps() == [2.0, 2.0]  # no pointless sleep after the last attempt

    driver = Driver({"set_data": [Reply(0, error="reset")] * 2, "patch_attributes": [Reply(202)] * 2})
    assert write(Retry(attempts=2, delay_s=0.5), driver) is False
    assert driver.calls("patch_attributes")[0].params["attributes"]["mockgc.setDataError"] == "0 reset"


def test_retry_trusts_a_200_and_evaluates_once_by_default() -> None:
    driver = Driver({"set_data": [OK_WRITE], "evaluate": [LOCKED]})
    retry = Retry()
    assert write(retry, driver) is True
    assert driver.ops() == ["set_data"]
    # The field report's remedy wraps Set Data only: a rejected evaluate is the default branch.
    assert evaluate(retry, driver) == Evaluation(DEFAULT, None)
    assert len(driver.calls("evaluate")) == 1


def test_retry_can_wrap_evaluate_too() -> None:
    driver = Driver({"evaluate": [LOCKED, branch(PERSONALIZED)]})
    assert evaluate(Retry(retry_evaluate=True), driver) == Evaluation(PERSONALIZED, VALUE)
    assert driver.ops() == ["evaluate", "Sleep", "evaluate"]


def test_retry_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="attempts"):
        Retry(attempts=0)
    with pytest.raises(ValueError, match="retry_evaluate"):
        Retry(retry_evaluate="yes")  # type: ignore[arg-type]


# -- window-guard: the operation variant -----------------------------------------------


def operations(*statuses: str, publishes: bool = True) -> Reply:
    return Reply(
        200,
        {
            "entities": [
                {"status": s, "operationId": f"op-{i}", "mockgc": {"publishes": publishes}}
                for i, s in enumerate(statuses)
            ]
        },
    )


def test_window_guard_polls_until_no_publish_is_processing_then_writes() -> None:
    driver = Driver(
        {
            "list_operations": [operations("Complete", "Processing"), operations("Processing"), operations("Complete")],
            "set_data": [OK_WRITE],
        }
    )
    assert write(WindowGuard(poll_s=0.5), driver) is True
    assert [op for op in driver.ops() if op not in ("Now",)] == [
        "list_operations",
        "Sleep",
        "list_operations",
        "Sleep",
        "list_operations",
        "set_data",
    ]
    assert driver.sleeps() == [0.5, 0.5]
    assert driver.calls("list_operations")[0].params == {"businessUnitId": "bu-1"}


def test_window_guard_ignores_operations_that_do_not_publish_and_writes_at_once() -> None:
    driver = Driver({"list_operations": [operations("Processing", publishes=False)], "set_data": [OK_WRITE]})
    assert write(WindowGuard(), driver) is True
    assert driver.sleeps() == []


def test_window_guard_treats_an_unanswered_list_as_a_running_publish() -> None:
    driver = Driver(
        {"list_operations": [Reply(503, {"code": "service.unavailable"}), operations()], "set_data": [OK_WRITE]}
    )
    assert write(WindowGuard(poll_s=1.0), driver) is True
    assert driver.sleeps() == [1.0]


def test_window_guard_stops_waiting_at_its_deadline_and_writes_anyway() -> None:
    driver = Driver({"list_operations": [operations("Processing")] * 100, "set_data": [LOCKED]})
    assert write(WindowGuard(poll_s=1.0, deadline_s=5.0), driver) is False
    slept = sum(driver.sleeps())
    assert 3.0 <= slept <= 5.0
    assert driver.ops()[-1] == "set_data"


# -- window-guard: the weekly variant and DST ------------------------------------------

MONDAY_6 = {"weekday": 0, "start": time(6, 0), "tz": CHICAGO}


@pytest.mark.parametrize(
    "monday, offset_hours",
    [
        ("2026-03-02", 6),  # CST, the Monday before DST starts (2026-03-08)
        ("2026-03-09", 5),  # CDT, the Monday after the switch: 06:00 is 11:00 UTC, not 12:00
        ("2026-10-26", 5),  # CDT, the Monday before DST ends (2026-11-01)
        ("2026-11-02", 6),  # CST, the Monday after
    ],
)
def test_weekly_window_starts_at_six_chicago_time_across_dst(monday: str, offset_hours: int) -> None:
    expected = utc(f"{monday}T{6 + offset_hours:02d}:00:00")
    assert datetime.fromtimestamp(expected, CHICAGO).strftime("%a %H:%M") == "Mon 06:00"
    assert window_start_on_or_before(expected, **MONDAY_6) == expected
    assert window_start_on_or_before(expected + 3 * 86_400, **MONDAY_6) == expected
    assert window_start_on_or_before(expected - 1, **MONDAY_6) < expected - 6 * 86_400
    assert next_window_start(expected - 1, **MONDAY_6) == expected


def test_the_window_after_a_dst_switch_is_not_one_week_of_seconds_later() -> None:
    before, after = utc("2026-03-02T12:00:00"), utc("2026-03-09T11:00:00")
    assert next_window_start(before, **MONDAY_6) == after
    assert after - before == 7 * 86_400 - 3600
    assert next_window_start(utc("2026-10-26T11:00:00"), **MONDAY_6) == utc("2026-11-02T12:00:00")


@pytest.mark.parametrize(
    "at, expected",
    [
        ("2026-03-09T10:59:00", utc("2026-03-09T12:00:00")),  # 05:59 CDT: inside the 5 min lead
        ("2026-03-09T10:50:00", None),  # 05:50 CDT: free to write
        ("2026-03-09T11:00:00", utc("2026-03-09T12:00:00")),  # 06:00 CDT: the window opens
        ("2026-03-09T11:59:59", utc("2026-03-09T12:00:00")),
        ("2026-03-09T12:00:00", None),  # 07:00 CDT: it closed
        ("2026-03-09T11:59:00", utc("2026-03-09T12:00:00")),
        ("2026-11-02T11:30:00", None),  # 05:30 CST
        ("2026-11-02T12:30:00", utc("2026-11-02T13:00:00")),  # 06:30 CST
        ("2026-11-02T11:30:00", None),
    ],
)
def test_weekly_defer_until(at: str, expected: float | None) -> None:
    assert defer_until(utc(at), duration_s=3600, lead_s=300, **MONDAY_6) == expected


def test_weekly_guard_waits_for_the_end_of_the_window_then_writes() -> None:
    guard = WindowGuard(variant="weekly", duration_minutes=30, lead_s=0)
    driver = Driver({"set_data": [OK_WRITE]}, now=utc("2026-11-02T12:10:00"))  # Monday 06:10 CST
    assert write(guard, driver) is True
    assert driver.sleeps() == [pytest.approx(20 * 60)]
    assert driver.ops() == ["Now", "Sleep", "set_data"]

    outside = Driver({"set_data": [OK_WRITE]}, now=utc("2026-11-03T12:10:00"))  # Tuesday
    assert write(guard, outside) is True
    assert outside.ops() == ["Now", "set_data"]


def test_weekly_guard_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="variant"):
        WindowGuard(variant="monthly")
    with pytest.raises(ValueError, match="timezone"):
        WindowGuard(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="start"):
        WindowGuard(start="6 o'clock")
    with pytest.raises(ValueError, match="weekday"):
        WindowGuard(weekday="someday")
    guard = WindowGuard(variant="weekly", weekday="Tuesday", start="22:30", timezone="Europe/Paris")
    assert guard.describe()["params"]["weekday"] == "tuesday"
    # Tuesday 2026-03-31 22:30 Paris (CEST, UTC+2) is 20:30 UTC.
    assert guard.defer_until(utc("2026-03-31T20:31:00")) == utc("2026-03-31T21:30:00")


# -- backoff-verify -------------------------------------------------------------------


def test_backoff_verify_reads_its_write_back() -> None:
    driver = Driver({"set_data": [OK_WRITE], "read_session": [session_body()]})
    assert write(BackoffVerify(), driver) is True
    assert driver.ops() == ["Now", "set_data", "read_session"]


def test_backoff_verify_backs_off_with_full_jitter_on_a_lock() -> None:
    driver = Driver({"set_data": [LOCKED, LOCKED, LOCKED, OK_WRITE], "read_session": [session_body()]})
    assert write(BackoffVerify(base_s=0.1, cap_s=0.3), driver) is True
    delays = driver.sleeps()
    assert len(delays) == 3
    # Full jitter: uniform over [0, min(cap, base * 2**attempt)].
    assert all(0 <= d <= bound for d, bound in zip(delays, [0.1, 0.2, 0.3], strict=True))
    assert len(set(delays)) == 3


def test_backoff_verify_rewrites_when_the_read_back_misses_the_value() -> None:
    driver = Driver({"set_data": [OK_WRITE, OK_WRITE], "read_session": [session_body(value="OTHER"), session_body()]})
    assert write(BackoffVerify(), driver) is True
    assert len(driver.calls("set_data")) == 2
    assert len(driver.sleeps()) == 1


def test_backoff_verify_reattaches_an_invalidated_session_and_writes_again() -> None:
    driver = Driver(
        {
            "set_data": [INVALIDATED, OK_WRITE, OK_WRITE],
            "attach": [session_body(), session_body()],
            "read_session": [session_body(attached=False), session_body()],
        }
    )
    assert write(BackoffVerify(), driver) is True
    assert [op for op in driver.ops() if op != "Now"] == [
        "set_data",
        "attach",
        "set_data",
        "read_session",
        "attach",
        "set_data",
        "read_session",
    ]
    assert driver.sleeps() == []  # a successful re-attach writes again at once


def test_backoff_verify_gives_up_at_its_deadline_and_reports_the_acknowledgement() -> None:
    driver = Driver({"set_data": [LOCKED] * 1000})
    began = driver.now
    assert write(BackoffVerify(base_s=0.5, cap_s=1.0, deadline_s=10.0), driver) is False
    # It never sleeps past the deadline; only the last try's own call may end after it.
    assert 8.0 < driver.now - began <= 10.0 + driver.call_seconds

    # Acknowledged but never seen: the write is reported as acknowledged, and not verified.
    driver = Driver({"set_data": [OK_WRITE] * 1000, "read_session": [session_body(value=None)] * 1000})
    assert write(BackoffVerify(deadline_s=3.0), driver) is True
    assert len(driver.calls("set_data")) > 2


def test_backoff_verify_does_not_retry_what_cannot_change() -> None:
    driver = Driver({"set_data": [NOT_FOUND]})
    assert write(BackoffVerify(), driver) is False
    assert driver.ops() == ["Now", "set_data"]


def test_backoff_verify_honours_retry_after() -> None:
    limited = Reply(429, {"code": "too.many.requests.retry.after"}, retry_after=3.0)
    driver = Driver({"set_data": [limited, OK_WRITE], "read_session": [session_body()]})
    assert write(BackoffVerify(), driver) is True
    assert driver.sleeps() == [3.0]


def test_backoff_verify_evaluate_retries_a_rejected_evaluate() -> None:
    driver = Driver({"evaluate": [LOCKED, LOCKED, branch(PERSONALIZED)]})
    assert evaluate(BackoffVerify(), driver) == Evaluation(PERSONALIZED, VALUE)
    assert len(driver.sleeps()) == 2


def test_backoff_verify_evaluate_reattaches_when_a_default_branch_comes_from_a_detached_session() -> None:
    driver = Driver(
        {
            "evaluate": [branch(DEFAULT, None), branch(PERSONALIZED)],
            "read_session": [session_body(attached=False)],
            "attach": [session_body()],
        }
    )
    assert evaluate(BackoffVerify(), driver) == Evaluation(PERSONALIZED, VALUE)
    assert [op for op in driver.ops() if op != "Now"] == ["evaluate", "read_session", "attach", "evaluate"]


def test_backoff_verify_evaluate_accepts_a_default_branch_on_an_attached_session() -> None:
    driver = Driver({"evaluate": [branch(DEFAULT, None)], "read_session": [session_body(value=None)]})
    assert evaluate(BackoffVerify(), driver) == Evaluation(DEFAULT, None)
    assert driver.calls("attach") == []


def test_backoff_verify_backoff_is_seeded_per_session() -> None:
    def delays(ctx: FlowContext) -> list[float]:
        driver = Driver({"set_data": [LOCKED] * 4 + [OK_WRITE], "read_session": [session_body()]})
        driver.run(BackoffVerify().set_data(ctx, SESSION, "preferenceCode", VALUE))
        return driver.sleeps()

    assert delays(CTX) == delays(CTX)
    assert delays(CTX) != delays(FlowContext("k-2", "agent-1", "bu-1", seed=7))


# -- loading a user's own strategy ------------------------------------------------------


class WriteTwice(Mitigation):
    """A user's strategy, loaded as tests.flows.test_mitigations:WriteTwice."""

    name = "write-twice"

    def __init__(self, *, times: int = 2) -> None:
        self.times = times

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        acknowledged = False
        for _ in range(self.times):
            reply = yield Call("set_data", {"sessionId": session.session_id, "name": name, "value": value})
            acknowledged = acknowledged or reply.ok
        return acknowledged


class NotAStrategy:
    pass


def test_module_class_loads_a_user_strategy_with_its_parameters() -> None:
    mitigation = load_mitigation("tests.flows.test_mitigations:WriteTwice", times=3)
    assert isinstance(mitigation, WriteTwice)
    assert mitigation.describe() == {"name": "write-twice", "params": {"times": 3}}
    driver = Driver({"set_data": [LOCKED, OK_WRITE, LOCKED]})
    assert write(mitigation, driver) is True
    assert len(driver.calls("set_data")) == 3


@pytest.mark.parametrize(
    "spec, message",
    [
        ("tests.no_such_module:WriteTwice", "cannot load mitigation"),
        ("tests.flows.test_mitigations:Missing", "cannot load mitigation"),
        ("tests.flows.test_mitigations:NotAStrategy", "not a Mitigation subclass"),
        ("tests.flows.test_mitigations:CTX", "not a Mitigation subclass"),
        ("no-such-strategy", "unknown mitigation 'no-such-strategy'; known: .*backoff-verify"),
    ],
)
def test_loading_errors_are_clear(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_mitigation(spec)


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(
        ValueError, match=r"retry has no parameter 'tries'; its parameters: attempts, delay_s, retry_evaluate"
    ):
        load_mitigation("retry", tries=3)
    with pytest.raises(ValueError, match="none has no parameter 'delay'; it takes none"):
        load_mitigation("none", delay=1)
