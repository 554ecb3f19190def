"""The checker on hand-built histories: classes, durability vs outcome, cost, verdict, determinism, mutations."""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import pytest

from mockgc.checker.check import check, percentile
from mockgc.checker.result import verdict_exit
from mockgc.clock import VirtualClock
from mockgc.drivers.inprocess import InProcessTransport
from mockgc.drivers.realtime import run_flow
from mockgc.faults import get_profile
from mockgc.flows.context import DEFAULT, PERSONALIZED, FlowContext, SessionRef
from mockgc.flows.effects import Call, Effect, FlowResult, Reply, Sleep
from mockgc.flows.history import History
from mockgc.flows.mitigations.base import Mitigation, NoMitigation
from mockgc.flows.script import script_flow
from mockgc.platform.domain.backend import Platform
from mockgc.platform.settings import OrgSettings

T0 = 1_795_000_000.0
CODE = "PREF-AB-1234"
LOCKED = {
    "message": "Script session is locked",
    "code": "bad.request",
    "status": 400,
    "details": [{"errorCode": "script.session.locked"}],
}


def op(h: History, key: str, f: str, params: dict[str, Any], reply: Reply, t: float, ms: float = 10.0) -> None:
    """One call: invoke at t, completion `ms` later."""
    h.invoke("p0", key, f, params, t)
    h.complete("p0", key, f, reply, t + ms / 1000)


def interaction(
    h: History,
    key: str,
    t: float = T0,
    *,
    sid: str | None = None,
    set_reply: Reply | None = None,
    branch: str | None = PERSONALIZED,
    seen: str | None = CODE,
    expected: str = CODE,
    acknowledged: bool | None = None,
    store_key: str | None = None,
    finish: bool = True,
) -> str:
    """The script flow as a history: create_call, create_session, set_data, evaluate, flow entry."""
    sid = sid or f"s-{key}"
    op(h, key, "create_call", {"userId": "a1"}, Reply(200, {"id": f"c-{key}"}), t)
    op(h, key, "create_session", {"userId": "a1"}, Reply(201, {"id": sid, "conversationId": f"c-{key}"}), t + 0.1)
    set_reply = set_reply or Reply(200, {"sessionId": sid, "name": "preferenceCode", "value": expected})
    op(h, key, "set_data", {"sessionId": sid, "name": "preferenceCode", "value": expected}, set_reply, t + 0.2)
    evaluated = {"sessionId": sid, "variable": "preferenceCode", "value": seen, "branch": branch}
    eval_reply = Reply(200, evaluated) if branch else Reply(0, None, error="timeout")
    op(h, key, "evaluate", {"sessionId": sid, "variable": "preferenceCode"}, eval_reply, t + 0.3)
    if finish:
        ack = set_reply.ok if acknowledged is None else acknowledged
        h.finish("p0", FlowResult(key, expected, branch, seen, sid, ack, store_key), t + 0.4)
    return sid


def truth_of(**stored: str | None) -> dict[str, dict[str, Any]]:
    """Ground truth: session id -> stored preference (None: the variable is absent)."""
    return {
        sid: {"userId": "a1", "variables": {} if v is None else {"preferenceCode": v}, "version": 1, "attached": True}
        for sid, v in stored.items()
    }


def run(h: History | list[dict[str, Any]], truth: dict[str, Any], windows: Any = (), **kw: Any) -> dict[str, Any]:
    entries = h.entries if isinstance(h, History) else h
    return check(entries, truth, list(windows), mitigation="m", fault_profile="p", seed=1, **kw)


def session(result: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in result["session_outcomes"] if s["key"] == key)


# --- classes -----------------------------------------------------------------


def test_ok_session_holds() -> None:
    h = History()
    interaction(h, "k1")
    result = run(h, truth_of(**{"s-k1": CODE}), include_sessions=True)
    assert result["sessions"] == {
        "total": 1,
        "ok": 1,
        "lost": 0,
        "ack_lost": 0,
        "corrupted": 0,
        "unverified": 0,
        "indeterminate": 0,
    }
    assert result["durability"]["durable"] == 1
    assert result["outcome"]["personalized_ok"] == 1
    assert result["verdict"] == "holds"
    assert verdict_exit(result["verdict"]) == 0
    assert session(result, "k1")["durable"] is True


def test_rejected_write_is_lost() -> None:
    h = History()
    interaction(h, "k1", set_reply=Reply(400, LOCKED), branch=DEFAULT, seen=None)
    result = run(h, truth_of(**{"s-k1": None}))
    assert result["sessions"]["lost"] == 1
    assert result["durability"]["not_stored"] == 1
    assert result["outcome"]["default"] == 1
    assert result["verdict"] == "fails"
    assert verdict_exit(result["verdict"]) == 1


def test_clobber_personalized_but_not_durable_is_ack_lost() -> None:
    # The write was acknowledged and the branch saw it, but the snapshot was written back afterwards.
    h = History()
    interaction(h, "k1")
    result = run(h, truth_of(**{"s-k1": None}), include_sessions=True)
    assert result["sessions"]["ack_lost"] == 1
    assert result["durability"]["ack_lost"] == 1
    assert result["outcome"]["personalized_ok"] == 1  # outcome fine, durability not: kept apart
    assert session(result, "k1")["durable"] is False
    assert result["verdict"] == "fails"


def test_invalidate_durable_but_default_is_lost() -> None:
    h = History()
    interaction(h, "k1", branch=DEFAULT, seen=None)
    result = run(h, truth_of(**{"s-k1": CODE}), include_sessions=True)
    assert result["sessions"]["lost"] == 1
    assert result["durability"]["durable"] == 1
    assert result["outcome"]["default"] == 1
    assert result["consistency"]["outcome_gap"] == 1
    assert session(result, "k1") | {"latency_ms_total": 0} == {
        "key": "k1",
        "class": "lost",
        "durability": "durable",
        "outcome": "default",
        "branch": "default",
        "durable": True,
        "latency_ms_total": 0,
        "start": round(T0, 3),
        "end": round(T0 + 0.4, 3),
    }


def test_wrong_code_seen_is_corrupted() -> None:
    h = History()
    interaction(h, "k1", seen="PREF-ZZ-9999")
    result = run(h, truth_of(**{"s-k1": CODE}))
    assert result["sessions"]["corrupted"] == 1
    assert result["outcome"]["wrong_code"] == 1
    assert result["durability"]["durable"] == 1


def test_wrong_code_stored_is_corrupted_even_on_default_branch() -> None:
    h = History()
    interaction(h, "k1", branch=DEFAULT, seen=None)
    result = run(h, truth_of(**{"s-k1": "PREF-ZZ-9999"}))
    assert result["sessions"]["corrupted"] == 1
    assert result["durability"]["stored_wrong"] == 1


def test_corrupted_takes_precedence_over_ack_lost() -> None:
    h = History()
    interaction(h, "k1", seen="PREF-ZZ-9999")
    result = run(h, truth_of(**{"s-k1": None}))
    assert result["sessions"]["corrupted"] == 1
    assert result["sessions"]["ack_lost"] == 0


def test_unfinished_and_unknown_branch_are_indeterminate() -> None:
    h = History()
    interaction(h, "never-finished", finish=False)
    interaction(h, "no-answer", branch=None, seen=None)
    # A key seen only in a flow entry (no ops) is still a session.
    h.finish("p0", FlowResult("flow-only", CODE, None, None, None, False), T0 + 1)
    result = run(h, truth_of(**{"s-never-finished": CODE, "s-no-answer": CODE}), include_sessions=True)
    assert result["sessions"]["total"] == 3
    assert result["sessions"]["indeterminate"] == 3
    assert result["outcome"]["unknown"] == 3
    # Durability still comes from the history for an unfinished session (its create_session reply).
    assert session(result, "never-finished")["durability"] == "durable"
    assert session(result, "flow-only")["durability"] == "unknown"
    # Nothing finished well, so nothing is proven: a strategy that never completes cannot hold.
    assert result["verdict"] == "fails"


def test_an_indeterminate_session_fails_a_run_with_ok_sessions() -> None:
    h = History()
    interaction(h, "ok")
    interaction(h, "in-flight", finish=False)
    result = run(h, truth_of(**{"s-ok": CODE, "s-in-flight": CODE}))
    assert result["sessions"]["indeterminate"] == 1
    assert result["verdict"] == "fails"


def test_class_counts_sum_to_total() -> None:
    h = History()
    interaction(h, "ok")
    interaction(h, "lost", set_reply=Reply(400, LOCKED), branch=DEFAULT, seen=None)
    interaction(h, "ack", sid="s-ack")
    interaction(h, "bad", seen="PREF-ZZ-0000")
    interaction(h, "unk", finish=False)
    truth = truth_of(**{"s-ok": CODE, "s-lost": None, "s-ack": None, "s-bad": CODE, "s-unk": None})
    result = run(h, truth)
    counts = result["sessions"]
    assert {k: counts[k] for k in ("ok", "lost", "ack_lost", "corrupted", "indeterminate")} == dict.fromkeys(
        ("ok", "lost", "ack_lost", "corrupted", "indeterminate"), 1
    )
    assert counts["total"] == 5
    assert sum(result["durability"].values()) == 5
    assert sum(result["outcome"].values()) == 5


# --- external store, repairs ---------------------------------------------------


def test_external_store_durability_comes_from_the_store() -> None:
    h = History()
    for key in ("k1", "k2"):
        interaction(h, key, store_key=f"pref/{key}")
        op(h, key, "store_put", {"key": f"pref/{key}"}, Reply(200, {"key": f"pref/{key}", "value": CODE}), T0 + 0.25)
    op(h, "k2", "store_get", {"key": "pref/k2"}, Reply(0, None, error="store: down"), T0 + 0.35)
    # The platform lost both values; the store kept k1's only.
    result = run(h, truth_of(**{"s-k1": None, "s-k2": None}), store={"pref/k1": CODE, "pref/k2": None})
    assert result["durability"]["durable"] == 1
    assert result["durability"]["ack_lost"] == 1
    assert result["sessions"]["ok"] == 1
    assert result["sessions"]["ack_lost"] == 1
    # Store calls are counted apart from platform calls; a store that did not answer is a failure.
    assert result["store"] == {"calls": 3, "failures": 1}
    assert result["requests"] == 8
    assert sum(result["http"].values()) == 8
    assert result["requests_per_session"] == 4.0


def test_store_key_without_a_store_falls_back_to_truth() -> None:
    h = History()
    interaction(h, "k1", store_key="pref/k1")
    result = run(h, truth_of(**{"s-k1": CODE}))
    assert result["durability"]["durable"] == 1


def test_repairs_time_to_consistency_and_outcome_gap() -> None:
    h = History()
    # Rejected at T0+0.2, repaired by a worker 1.8 s later: durable in the end, but the branch was default.
    interaction(h, "k1", set_reply=Reply(400, LOCKED), branch=DEFAULT, seen=None)
    interaction(h, "k2", T0 + 10, set_reply=Reply(400, LOCKED), branch=DEFAULT, seen=None)
    interaction(h, "k3", T0 + 20)
    repairs = {"s-k1": T0 + 2.0, "s-k2": T0 + 10.2 + 0.5, "s-k3": T0}  # k3's "repair" predates its write
    result = run(h, truth_of(**{"s-k1": CODE, "s-k2": CODE, "s-k3": CODE}), repairs=repairs)
    consistency = result["consistency"]
    assert consistency["repaired"] == 3
    assert consistency["outcome_gap"] == 2
    assert consistency["time_to_consistency_ms"] == {"p50": 500.0, "max": 1800.0}
    assert result["durability"]["durable"] == 3
    assert result["sessions"]["lost"] == 2


def test_no_repairs_means_null_time_to_consistency() -> None:
    h = History()
    interaction(h, "k1")
    result = run(h, truth_of(**{"s-k1": CODE}))
    assert result["consistency"] == {
        "repaired": 0,
        "outcome_gap": 0,
        "time_to_consistency_ms": {"p50": None, "max": None},
    }


# --- cost ----------------------------------------------------------------------


def test_latency_split_inside_and_outside_windows() -> None:
    h = History()
    window = (T0 + 100, T0 + 110)
    op(h, "k1", "set_data", {"value": CODE}, Reply(400, LOCKED), T0 + 100, ms=500)  # at start: inside
    op(h, "k1", "set_data", {"value": CODE}, Reply(200, {"value": CODE}), T0 + 105, ms=700)  # inside
    op(h, "k1", "evaluate", {}, Reply(200, {}), T0 + 110, ms=20)  # at end: outside
    op(h, "k1", "create_call", {}, Reply(200, {}), T0 + 50, ms=10)  # before: outside
    result = run(h, {}, [window])
    assert result["latency_ms_by_window"]["inside"] == {
        "p50": 500.0,
        "p95": 700.0,
        "p99": 700.0,
        "max": 700.0,
        "count": 2,
    }
    assert result["latency_ms_by_window"]["outside"]["count"] == 2
    assert result["latency_ms_by_window"]["outside"]["p50"] == 10.0
    assert result["latency_ms_by_window"]["outside"]["max"] == 20.0
    assert result["latency_ms"]["count"] == 4
    assert result["latency_ms"]["p50"] == 20.0
    assert result["windows"] == [[round(T0 + 100, 3), round(T0 + 110, 3)]]


def test_overlapping_windows_and_store_latency_excluded() -> None:
    h = History()
    op(h, "k1", "set_data", {"value": CODE}, Reply(200, {}), T0 + 3, ms=40)
    op(h, "k1", "store_put", {"key": "x"}, Reply(200, {}), T0 + 3, ms=9000)
    result = run(h, {}, [(T0 + 2, T0 + 4), (T0 + 1, T0 + 3.5)])
    assert result["latency_ms"]["max"] == 40.0
    assert result["latency_ms_by_window"]["inside"]["count"] == 1
    assert result["windows"][0][0] == round(T0 + 1, 3)  # sorted


def test_invokes_pair_with_completions_in_order_per_process_key_and_f() -> None:
    entries = [
        {"process": "p0", "key": "k", "type": "invoke", "f": "set_data", "time": 1.0, "params": {"value": "v"}},
        {"process": "p1", "key": "k", "type": "invoke", "f": "set_data", "time": 1.5, "params": {"value": "v"}},
        {"process": "p0", "key": "k", "type": "invoke", "f": "evaluate", "time": 2.0, "params": {}},
        {"process": "p1", "key": "k", "type": "ok", "f": "set_data", "time": 1.6, "status": 200, "value": None},
        {"process": "p0", "key": "k", "type": "ok", "f": "evaluate", "time": 2.3, "status": 200, "value": None},
        {"process": "p0", "key": "k", "type": "fail", "f": "set_data", "time": 4.0, "status": 400, "value": None},
    ]
    result = run(entries, {})
    # p0's set_data took 3000 ms, p1's 100 ms, evaluate 300 ms.
    assert result["latency_ms"]["max"] == 3000.0
    assert result["latency_ms"]["p50"] == 300.0
    assert result["latency_ms"]["count"] == 3


def test_http_counts_and_error_summary() -> None:
    h = History()
    op(h, "k1", "set_data", {"value": CODE}, Reply(400, LOCKED), T0)
    op(
        h,
        "k1",
        "set_data",
        {"value": CODE},
        Reply(429, {"code": "too.many.requests.retry.after"}, retry_after=2),
        T0 + 1,
    )
    op(h, "k1", "set_data", {"value": CODE}, Reply(503, "Service Unavailable"), T0 + 2)
    op(h, "k1", "set_data", {"value": CODE}, Reply(0, None, error="ConnectionError"), T0 + 3)
    op(h, "k1", "set_data", {"value": CODE}, Reply(200, {}), T0 + 4)
    op(h, "k1", "patch_attributes", {}, Reply(202, None), T0 + 5)
    op(h, "k1", "store_get", {}, Reply(0, None, error="store down"), T0 + 6)
    result = run(h, {})
    assert result["http"] == {"0": 1, "200": 1, "202": 1, "400": 1, "429": 1, "503": 1}
    assert list(result["http"]) == ["0", "200", "202", "400", "429", "503"]
    assert result["errors"] == {"400": 1, "429": 1, "5xx": 1, "no_answer": 1}
    assert result["store"] == {"calls": 1, "failures": 1}
    assert result["requests"] == 6
    assert result["requests_per_session"] == 6.0


def test_requests_per_session_rounds_and_unowned_calls_are_cost_only() -> None:
    h = History()
    for key in ("a", "b", "c"):
        interaction(h, key)
    # A worker's call: no session owns it, it is cost only.
    h.invoke("worker", None, "script_data", {"updates": []}, T0 + 5)  # type: ignore[arg-type]
    h.complete("worker", None, "script_data", Reply(200, {"results": []}), T0 + 5.1)  # type: ignore[arg-type]
    result = run(h, truth_of(**{"s-a": CODE, "s-b": CODE, "s-c": CODE}))
    assert result["sessions"]["total"] == 3
    assert result["requests"] == 13
    assert result["requests_per_session"] == 4.333


def test_timeline_buckets() -> None:
    h = History()
    interaction(h, "k1", set_reply=Reply(400, LOCKED), branch=DEFAULT, seen=None)  # lost, finishes T0+0.4
    op(h, "k2", "set_data", {"value": CODE}, Reply(429, {}), T0 + 2.5)
    result = run(h, {}, include_sessions=True)
    timeline = result["timeline"]
    assert timeline["origin"] == round(T0, 3)
    assert timeline["t"] == [0, 1, 2]
    assert timeline["calls"] == [4, 0, 1]
    assert timeline["400"] == [1, 0, 0]
    assert timeline["429"] == [0, 0, 1]
    assert timeline["lost"] == [1, 0, 0]


def test_sessions_and_timeline_only_on_request() -> None:
    h = History()
    interaction(h, "k1")
    result = run(h, truth_of(**{"s-k1": CODE}))
    assert "session_outcomes" not in result
    assert "timeline" not in result
    assert [s["key"] for s in run(h, {}, include_sessions=True)["session_outcomes"]] == ["k1"]


def test_latency_total_per_session() -> None:
    h = History()
    interaction(h, "k1")
    result = run(h, truth_of(**{"s-k1": CODE}), include_sessions=True)
    assert session(result, "k1")["latency_ms_total"] == 40.0


# --- verdict, determinism, edges -------------------------------------------------


def test_empty_history_fails() -> None:
    result = run([], {})
    assert result["sessions"]["total"] == 0
    assert result["verdict"] == "fails"
    assert verdict_exit(result["verdict"]) == 1
    assert result["latency_ms"]["p50"] is None
    assert result["requests_per_session"] == 0.0
    assert run([], {}, include_sessions=True)["timeline"]["t"] == []


def test_exit_code_reads_the_verdict() -> None:
    assert verdict_exit("holds") == 0
    assert verdict_exit("fails") == 1
    assert verdict_exit("unknown") == 1


def test_result_header_and_extra() -> None:
    h = History()
    interaction(h, "k1")
    result = check(
        h.entries, truth_of(**{"s-k1": CODE}), [], mitigation="retry", fault_profile="seed-default", seed=42,
        extra={"config": {"sessions": 1}},
    )  # fmt: skip
    assert (result["mitigation"], result["fault_profile"], result["seed"]) == ("retry", "seed-default", 42)
    assert result["config"] == {"sessions": 1}
    with pytest.raises(ValueError, match="verdict"):
        run(h, {}, extra={"verdict": "holds"})


def test_deterministic_bytes_regardless_of_process_order() -> None:
    a, b = History(), History()
    interaction(a, "k1")
    interaction(a, "k2", set_reply=Reply(400, LOCKED), branch=DEFAULT, seen=None)
    interaction(b, "k3", T0 + 0.05)
    for entry in b.entries:
        entry["process"] = "p1"
    truth = truth_of(**{"s-k1": CODE, "s-k2": None, "s-k3": CODE})
    windows = [(T0 + 0.1, T0 + 0.3)]

    def dump(entries: list[dict[str, Any]]) -> str:
        result = check(
            entries, truth, windows, mitigation="m", fault_profile="p", seed=1, repairs={"s-k2": T0 + 3},
            include_sessions=True,
        )  # fmt: skip
        return json.dumps(result, sort_keys=True)

    first = dump(a.entries + b.entries)
    assert first == dump(a.entries + b.entries)
    assert first == dump(b.entries + a.entries)
    assert '"lost": 1' in first


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0], 50) == 1.0
    assert percentile([], 50) is None


# --- mutation tests: broken mitigations must be flagged ----------------------------


def test_mutation_dropped_write_claimed_acknowledged_is_flagged() -> None:
    # A "mitigation" that never sends Set Data yet reports it acknowledged; the branch is default.
    h = History()
    op(h, "k1", "create_call", {"userId": "a1"}, Reply(200, {"id": "c1"}), T0)
    op(h, "k1", "create_session", {}, Reply(201, {"id": "s-k1"}), T0 + 0.1)
    op(h, "k1", "evaluate", {"sessionId": "s-k1"}, Reply(200, {"branch": DEFAULT, "value": None}), T0 + 0.2)
    h.finish("p0", FlowResult("k1", CODE, DEFAULT, None, "s-k1", True), T0 + 0.3)
    result = run(h, truth_of(**{"s-k1": None}))
    assert result["verdict"] == "fails"
    assert result["sessions"]["ack_lost"] == 1
    assert result["anomalies"]["claimed_ack_without_write"] == 1


def test_mutation_retry_on_200_without_verify_under_clobber_is_ack_lost() -> None:
    # Retries although the write got 200, never reads back; the hold's snapshot wipes the value.
    h = History()
    interaction(h, "k1")
    op(h, "k1", "set_data", {"sessionId": "s-k1", "value": CODE}, Reply(200, {"value": CODE}), T0 + 2.2)
    result = run(h, truth_of(**{"s-k1": None}))
    assert result["sessions"]["ack_lost"] == 1
    assert result["outcome"]["personalized_ok"] == 1
    assert result["verdict"] == "fails"
    assert result["anomalies"]["claimed_ack_without_write"] == 0


# The same two broken mitigations, run for real against the in-process platform in virtual time.


class DropsWrites(Mitigation):
    name = "drops-writes"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        return True
        yield  # a generator that yields nothing


class RetriesOn200(Mitigation):
    name = "retries-on-200"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        acknowledged = False
        for _ in range(2):
            reply = yield Call("set_data", {"sessionId": session.session_id, "name": name, "value": value})
            acknowledged = acknowledged or reply.ok
            yield Sleep(0.5)
        return acknowledged


def live_check(profile: str, mitigation: Mitigation) -> dict[str, Any]:
    """Run one flow for an agent held by a publish that starts now, then check it after the hold."""
    clock = VirtualClock(start=T0)
    platform = Platform(OrgSettings(seed=3, agents=10), get_profile(profile), clock)
    platform.publish_schedule()
    agent = next(a for a in platform.agents.values() if platform.locks.active(a.id, clock.now()))
    ctx = FlowContext("k1", agent.id, agent.business_unit_id, seed=3)
    history = History()
    run_flow(
        script_flow(ctx, mitigation), InProcessTransport(platform), history, process="p0", key="k1",
        clock=clock.now, sleep=clock.advance,
    )  # fmt: skip
    clock.advance(30)
    platform.settle()
    windows = [(w["startedEpochMs"] / 1000, w["completesEpochMs"] / 1000) for w in platform.lock_windows()]
    return check(
        history.entries, platform.ground_truth(), windows, mitigation=mitigation.name, fault_profile=profile, seed=3
    )


def test_live_baseline_holds_on_calm_and_loses_under_reject() -> None:
    assert live_check("calm", NoMitigation())["verdict"] == "holds"
    rejected = live_check("seed-default", NoMitigation())
    assert rejected["sessions"]["lost"] == 1
    assert rejected["http"]["400"] >= 1
    assert rejected["latency_ms_by_window"]["inside"]["count"] >= 1


def test_live_mutation_drops_writes_is_flagged_even_when_calm() -> None:
    result = live_check("calm", DropsWrites())
    assert result["verdict"] == "fails"
    assert result["sessions"]["ack_lost"] == 1
    assert result["anomalies"]["claimed_ack_without_write"] == 1


def test_live_mutation_retry_without_verify_under_clobber_is_ack_lost() -> None:
    result = live_check("seed-clobber", RetriesOn200())
    assert result["sessions"]["ack_lost"] == 1
    assert result["durability"]["ack_lost"] == 1
    assert result["verdict"] == "fails"


def test_timeline_of_a_long_run_stays_bounded() -> None:
    h = History()
    op(h, "k1", "set_data", {"value": CODE}, Reply(429, {}), T0)
    op(h, "k1", "set_data", {"value": CODE}, Reply(429, {}), T0 + 86_400 * 30)  # a month later
    timeline = run(h, {}, include_sessions=True)["timeline"]
    assert len(timeline["t"]) <= 10_000
    assert timeline["bucket_s"] > 1
    assert sum(timeline["429"]) == 2
    assert timeline["429"][0] == 1 and timeline["429"][-1] == 1
