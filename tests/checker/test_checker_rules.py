"""Every rule of the checker, one small hand-written history each: what counts as evidence, and how a session is judged.

The README's "Verdict rules" lists these rules; `make mutation` checks that each one is pinned
(a changed rule fails a test here or in tests/checker/test_checker.py).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from mockgc.checker.check import HistoryError, check, latency_summary, percentile
from mockgc.cli import main
from mockgc.flows.effects import FlowResult, Reply
from mockgc.flows.history import History
from mockgc.flows.mitigations.base import NoMitigation
from mockgc.spec.companion import Companion
from mockgc.strategies.registry import REGISTRY, register

T0 = 1_795_000_000.0
VAR = "preferenceCode"
CODE, OTHER = "PREF-AB-1234", "PREF-ZZ-9999"
LOCKED = {"code": "bad.request", "status": 400, "details": [{"errorCode": "script.session.locked"}]}


class Run:
    """A history written the way the drivers write it, one session key at a time."""

    def __init__(self) -> None:
        self.history = History()
        self.t = T0

    def call(self, key: str, f: str, params: dict[str, Any], reply: Reply, ms: float = 10.0) -> None:
        self.history.invoke("p0", key, f, params, self.t)
        self.t += ms / 1000
        self.history.complete("p0", key, f, reply, self.t)
        self.t += 0.001

    def created(self, key: str, sid: str) -> None:
        self.call(key, "create_session", {"userId": "a1"}, Reply(201, {"id": sid}))

    def write(self, key: str, sid: str, value: str = CODE, status: int = 200, echo: Any = "same") -> None:
        params = {"sessionId": sid, "name": VAR, "value": value}
        body = (params if echo == "same" else echo) if status == 200 else LOCKED
        self.call(key, "set_data", params, Reply(status, body))

    def evaluate(
        self, key: str, sid: str, value: str | None = CODE, branch: str = "personalized", variable: str = VAR
    ) -> None:
        answer = {"sessionId": sid, "variable": variable, "value": value, "branch": branch}
        self.call(key, "evaluate", {"sessionId": sid, "variable": variable}, Reply(200, answer))

    def read_store(self, key: str, store_key: str, value: str | None = CODE, status: int = 200) -> None:
        reply = Reply(status, {"key": store_key, "value": value}) if status == 200 else Reply(0, None, error="down")
        self.call(key, "store_get", {"key": store_key}, reply)

    def finish(
        self,
        key: str,
        branch: str | None = "personalized",
        seen: str | None = CODE,
        sid: str | None = "s1",
        acknowledged: bool = False,
        store_key: str | None = None,
    ) -> None:
        self.history.finish("p0", FlowResult(key, CODE, branch, seen, sid, acknowledged, store_key), self.t)
        self.t += 0.001

    def honest(self, key: str = "k", sid: str = "s1") -> None:
        """The plain flow that worked: created, written, evaluated personalized, finished."""
        self.created(key, sid)
        self.write(key, sid)
        self.evaluate(key, sid)
        self.finish(key, sid=sid, acknowledged=True)

    def judge(self, truth: dict[str, Any], windows: Any = (), **kwargs: Any) -> dict[str, Any]:
        entries = self.history.entries
        return check(
            entries, truth, list(windows), mitigation="m", fault_profile="p", seed=1, include_sessions=True, **kwargs
        )


def stored(log: dict[str, list[str]] | None = None, **values: str | None) -> dict[str, Any]:
    """Ground truth: session id -> its stored preference (None: absent), with the mock's evaluate log if given."""
    truth: dict[str, Any] = {}
    for sid, value in values.items():
        truth[sid] = {"variables": {} if value is None else {VAR: value}, "attached": True}
        if log is not None:
            truth[sid]["evaluatedPersonalized"] = log
    return truth


def only_class_counts(result: dict[str, Any]) -> dict[str, int]:
    return {name: n for name, n in result["sessions"].items() if n and name != "total"}


def only(result: dict[str, Any]) -> dict[str, Any]:
    [outcome] = result["session_outcomes"]
    return outcome


def judged(run: Run, truth: dict[str, Any], **kwargs: Any) -> tuple[str, str, str]:
    """(class, durability, outcome) of the run's one session."""
    o = only(run.judge(truth, **kwargs))
    return o["class"], o["durability"], o["outcome"]


# -- evidence: a personalized branch counts only on a driver-recorded reply that carried the code --------


def test_the_honest_flow_is_ok_on_its_evaluate() -> None:
    run = Run()
    run.honest()
    assert judged(run, stored(s1=CODE)) == ("ok", "durable", "personalized_ok")


def test_a_branch_reported_without_an_evaluate_is_unverified_and_fails_the_run() -> None:
    run = Run()
    run.created("k", "s1")
    run.write("k", "s1")
    run.finish("k", acknowledged=True)
    result = run.judge(stored(s1=CODE))
    assert (only(result)["class"], only(result)["outcome"]) == ("unverified", "unverified")
    assert result["sessions"]["unverified"] == 1 and result["outcome"]["unverified"] == 1
    assert result["durability"]["durable"] == 1  # stored, yet not shown to the customer: still unverified
    assert result["verdict"] == "fails"


def test_only_an_ok_completion_is_evidence() -> None:
    run = Run()
    run.created("k", "s1")
    answer = {"sessionId": "s1", "variable": VAR, "value": CODE, "branch": "personalized"}
    run.history.invoke("p0", "k", "evaluate", {"sessionId": "s1", "variable": VAR}, run.t)
    run.history.entries.append(
        {"process": "p0", "key": "k", "type": "info", "f": "evaluate", "time": run.t, "status": 0, "value": answer}
    )
    run.finish("k")
    assert judged(run, stored(s1=CODE))[0] == "unverified"


@pytest.mark.parametrize(
    "change",
    [
        {"branch": "default"},  # it answered the default branch, whatever value it carried
        {"sid": "s2"},  # another session
        {"variable": "otherVariable"},  # another variable
        {"value": OTHER},  # another code than the one the flow reports
    ],
)
def test_an_evaluate_is_evidence_only_for_the_flows_session_variable_and_code(change: dict[str, str]) -> None:
    run = Run()
    run.created("k", "s1")
    run.write("k", "s1")
    run.evaluate("k", **({"sid": "s1"} | change))
    run.finish("k", acknowledged=True)
    assert judged(run, stored(s1=CODE, s2=CODE)) == ("unverified", "durable", "unverified")


def test_the_checkers_variable_is_the_one_evaluated() -> None:
    run = Run()
    run.created("k", "s1")
    run.evaluate("k", "s1", variable="otherVariable")
    run.finish("k")
    truth = {"s1": {"variables": {"otherVariable": CODE}}}
    assert judged(run, truth, variable="otherVariable") == ("ok", "durable", "personalized_ok")
    assert judged(run, truth) == ("unverified", "not_stored", "unverified")


def test_what_the_reply_echoes_wins_over_what_was_sent_and_the_request_fills_in_the_rest() -> None:
    run = Run()
    run.created("k", "s1")
    # Asked about s1, the platform answered about s2: no evidence for s1.
    answer = {"sessionId": "s2", "variable": VAR, "value": CODE, "branch": "personalized"}
    run.call("k", "evaluate", {"sessionId": "s1", "variable": VAR}, Reply(200, answer))
    run.finish("k")
    assert judged(run, stored(s1=CODE))[0] == "unverified"
    # A reply that echoes neither session nor variable is about what was asked.
    run = Run()
    run.created("k", "s1")
    run.call(
        "k", "evaluate", {"sessionId": "s1", "variable": VAR}, Reply(200, {"value": CODE, "branch": "personalized"})
    )
    run.finish("k")
    assert judged(run, stored(s1=CODE))[0] == "ok"


def test_a_reply_that_is_not_an_object_is_no_evidence() -> None:
    run = Run()
    run.created("k", "s1")
    run.call("k", "evaluate", {"sessionId": "s1", "variable": VAR}, Reply(200, "personalized"))
    run.finish("k")
    assert judged(run, stored(s1=CODE))[0] == "unverified"


def test_a_store_read_of_the_flows_store_key_is_evidence() -> None:
    run = Run()
    run.created("k", "s1")
    run.read_store("k", "es:s1")
    run.finish("k", store_key="es:s1")
    assert judged(run, stored(s1=None), store={"es:s1": CODE}) == ("ok", "durable", "personalized_ok")


def test_a_store_reply_that_echoes_only_part_is_completed_from_the_request() -> None:
    run = Run()
    run.created("k", "s1")
    run.call("k", "store_get", {"key": "es:s1"}, Reply(200, {"value": CODE}))  # the key: the one asked for
    run.finish("k", store_key="es:s1")
    assert judged(run, stored(s1=None), store={"es:s1": CODE})[0] == "ok"
    run = Run()
    run.created("k", "s1")
    run.call("k", "store_get", {"key": "es:s1"}, Reply(200, {"key": "es:s1"}))  # no value: nothing read
    run.finish("k", store_key="es:s1")
    assert judged(run, stored(s1=None), store={"es:s1": CODE})[0] == "unverified"


@pytest.mark.parametrize(
    "read, store_key",
    [
        ({"store_key": "es:other"}, "es:s1"),  # a read of another key
        ({"store_key": "es:s1", "value": OTHER}, "es:s1"),  # it returned another code
        ({"store_key": "es:s1", "value": None}, "es:s1"),  # it returned nothing
        ({"store_key": "es:s1", "status": 0}, "es:s1"),  # the store did not answer
        ({"store_key": "es:s1"}, None),  # the flow keeps no value in a store
    ],
)
def test_a_store_read_is_evidence_only_of_the_flows_key_and_code(read: dict[str, Any], store_key: str | None) -> None:
    run = Run()
    run.created("k", "s1")
    run.read_store("k", **read)
    run.finish("k", store_key=store_key)
    assert judged(run, stored(s1=CODE), store={"es:s1": CODE})[0] == "unverified"


def test_the_mocks_evaluate_log_confirms_or_refutes_an_evaluate() -> None:
    run = Run()
    run.honest()
    assert judged(run, stored({VAR: [OTHER, CODE]}, s1=CODE))[0] == "ok"
    assert judged(run, stored(None, s1=CODE))[0] == "ok"  # a truth without a log: the history stands alone
    for log in ({}, {VAR: [OTHER]}, {"otherVariable": [CODE]}):
        result = run.judge(stored(log, s1=CODE))
        assert (only(result)["class"], result["anomalies"]["evaluate_not_in_mock_log"]) == ("unverified", 1), log


def test_the_evaluate_log_does_not_judge_store_reads() -> None:
    run = Run()
    run.created("k", "s1")
    run.read_store("k", "es:s1")
    run.finish("k", store_key="es:s1")
    result = run.judge(stored({}, s1=None), store={"es:s1": CODE})
    assert (only(result)["class"], result["anomalies"]["evaluate_not_in_mock_log"]) == ("ok", 0)


def test_a_value_the_evidence_showed_stored_and_then_lost_is_ack_lost_never_ok() -> None:
    run = Run()
    run.created("k", "s1")
    run.write("k", "s1", status=0)  # no answer: not an acknowledgement
    run.evaluate("k", "s1")  # ...but the platform had the value
    run.finish("k")
    result = run.judge(stored(s1=None))
    assert judged(run, stored(s1=None)) == ("ack_lost", "ack_lost", "personalized_ok")
    assert result["anomalies"]["claimed_ack_without_write"] == 0
    assert only(result)["durable"] is False


# -- classes and their precedence: indeterminate > corrupted > unverified > ack_lost > lost > ok -----------


@pytest.mark.parametrize("seen", [None, ""])
def test_a_personalized_branch_with_no_code_seen_is_corrupted(seen: str | None) -> None:
    run = Run()
    run.created("k", "s1")
    run.write("k", "s1")
    run.evaluate("k", "s1")
    run.finish("k", seen=seen, acknowledged=True)
    assert judged(run, stored(s1=CODE)) == ("corrupted", "durable", "wrong_code")


def test_a_default_branch_that_saw_a_wrong_code_is_corrupted_not_lost() -> None:
    def default_seeing(seen: str | None) -> str:
        run = Run()
        run.created("k", "s1")
        run.finish("k", branch="default", seen=seen)
        return judged(run, stored(s1=None))[0]

    assert default_seeing(OTHER) == "corrupted"
    assert default_seeing("") == "lost"  # an empty code is no code
    assert default_seeing(None) == "lost"
    assert default_seeing(CODE) == "lost"  # saw the right code and still took the default branch


def test_an_unverified_claim_of_a_wrong_code_is_corrupted() -> None:
    run = Run()
    run.created("k", "s1")
    run.finish("k", seen=OTHER)
    assert judged(run, stored(s1=CODE)) == ("corrupted", "durable", "wrong_code")


def test_a_wrong_stored_code_is_corrupted_whatever_the_branch_claims() -> None:
    run = Run()
    run.created("k", "s1")
    run.finish("k")  # an unverified claim...
    assert judged(run, stored(s1=OTHER)) == ("corrupted", "stored_wrong", "unverified")  # ...over a wrong code


def test_unverified_takes_precedence_over_ack_lost() -> None:
    run = Run()
    run.created("k", "s1")
    run.write("k", "s1")
    run.finish("k", acknowledged=True)
    assert judged(run, stored(s1=None)) == ("unverified", "ack_lost", "unverified")


def test_an_acknowledgement_seen_only_in_the_history_makes_a_lost_value_ack_lost() -> None:
    run = Run()
    run.created("k", "s1")
    run.write("k", "s1")  # a 2xx the flow does not claim
    run.finish("k", branch="default", seen=None, acknowledged=False)
    result = run.judge(stored(s1=None))
    assert judged(run, stored(s1=None)) == ("ack_lost", "ack_lost", "default")
    assert result["anomalies"]["claimed_ack_without_write"] == 0
    # The same without the 2xx: nothing was acknowledged, so the value was never stored: lost.
    run = Run()
    run.created("k", "s1")
    run.write("k", "s1", status=400)
    run.finish("k", branch="default", seen=None)
    assert judged(run, stored(s1=None)) == ("lost", "not_stored", "default")


def test_a_claimed_acknowledgement_without_a_write_is_ack_lost_and_an_anomaly() -> None:
    run = Run()
    run.created("k", "s1")
    run.finish("k", branch="default", seen=None, acknowledged=True)
    result = run.judge(stored(s1=None))
    assert judged(run, stored(s1=None)) == ("ack_lost", "ack_lost", "default")
    assert result["anomalies"]["claimed_ack_without_write"] == 1


@pytest.mark.parametrize(
    "echo, sent, counts",
    [
        ("same", CODE, True),
        ({"name": VAR, "value": OTHER}, CODE, False),  # the platform says it stored another code
        ({"name": VAR, "value": CODE}, OTHER, True),  # the echo is what was stored
        ({"name": "otherVariable", "value": CODE}, CODE, False),  # another variable
        ({}, CODE, True),  # no echo: what was sent
        (None, CODE, True),
    ],
)
def test_only_an_acknowledgement_of_the_expected_code_in_the_variable_counts(
    echo: Any, sent: str, counts: bool
) -> None:
    run = Run()
    run.created("k", "s1")
    run.write("k", "s1", value=sent, echo=echo)
    run.finish("k", branch="default", seen=None)
    assert judged(run, stored(s1=None))[0] == ("ack_lost" if counts else "lost")


def test_a_store_write_that_records_no_value_counts_as_an_acknowledgement() -> None:
    run = Run()
    run.created("k", "s1")
    run.call("k", "store_put", {"key": "es:s1"}, Reply(200, None))
    run.call("k", "store_put", {"key": "es:s1"}, Reply(200, {"key": "es:s1", "value": OTHER}))
    run.finish("k", branch="default", seen=None, store_key="es:s1")
    result = run.judge(stored(s1=None), store={"es:s1": None})
    assert judged(run, stored(s1=None), store={"es:s1": None}) == ("ack_lost", "ack_lost", "default")
    assert result["anomalies"]["claimed_ack_without_write"] == 0


def test_durability_reads_the_session_the_flow_finished_on() -> None:
    run = Run()
    run.created("k", "s1")
    run.created("k", "s2")  # the flow retried on a second session
    run.evaluate("k", "s2")
    run.finish("k", sid="s2")
    assert judged(run, stored(s1=CODE, s2=None)) == ("ack_lost", "ack_lost", "personalized_ok")
    assert judged(run, stored(s1=None, s2=CODE)) == ("ok", "durable", "personalized_ok")
    # ...even when it went back to an earlier one.
    run = Run()
    run.created("k", "s1")
    run.created("k", "s2")
    run.evaluate("k", "s1")
    run.finish("k", sid="s1")
    assert judged(run, stored(s1=CODE, s2=None)) == ("ok", "durable", "personalized_ok")


def test_an_unfinished_session_is_indeterminate_judged_on_its_latest_session_and_first_write() -> None:
    run = Run()
    run.created("k", "s1")
    run.created("k", "s2")
    run.write("k", "s2", value=CODE)
    run.write("k", "s2", value=OTHER)
    result = run.judge(stored(s1=None, s2=CODE))
    assert (only(result)["class"], only(result)["durability"], only(result)["outcome"]) == (
        "indeterminate",
        "durable",
        "unknown",
    )
    assert only(result)["branch"] is None


def test_durability_is_unknown_without_a_session_and_then_none_not_false() -> None:
    run = Run()
    run.finish("k", branch=None, seen=None, sid=None)
    result = run.judge({})
    assert judged(run, {}) == ("indeterminate", "unknown", "unknown")
    assert only(result)["durable"] is None
    assert result["durability"]["unknown"] == 1


def test_a_store_key_is_judged_in_the_store_and_without_the_store_in_the_truth() -> None:
    run = Run()
    run.created("k", "s1")
    run.evaluate("k", "s1")
    run.finish("k", store_key="es:s1")
    assert judged(run, stored(s1=CODE), store={"es:s1": None})[1] == "ack_lost"
    assert judged(run, stored(s1=None), store={"es:s1": CODE})[1] == "durable"
    assert judged(run, stored(s1=CODE))[1] == "durable"  # no store given: the truth
    run = Run()
    run.created("k", "s1")
    run.evaluate("k", "s1")
    run.finish("k")
    assert judged(run, stored(s1=CODE), store={"es:s1": None})[1] == "durable"  # no store key: the truth


# -- the flow entry, and histories no driver writes ---------------------------------------------------


def test_the_latest_flow_entry_by_time_wins_and_on_a_tie_the_later_listed() -> None:
    run = Run()
    run.honest()
    late = dict(run.history.entries[-1])
    early = late | {"time": late["time"] - 1, "value": late["value"] | {"branch": "default", "value": None}}
    assert judged(run, stored(s1=CODE))[0] == "ok"
    run.history.entries.append(early)  # listed later, but earlier in time
    assert judged(run, stored(s1=CODE))[0] == "ok"
    run.history.entries.append(early | {"time": late["time"]})  # same time, listed later: it wins
    assert judged(run, stored(s1=CODE))[0] == "lost"
    result = run.judge(stored(s1=CODE))
    assert only(result)["end"] == round(late["time"], 3)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"type": "flow", "key": None}, "a flow entry needs a key, and a value with the expected code"),
        ({"type": "flow", "value": ["x"]}, "a flow entry needs a key, and a value with the expected code"),
        ({"type": "flow", "value": {"branch": "default"}}, "a flow entry needs a key, and a value with the expected code"),
        ({"type": "bogus"}, "unknown entry type 'bogus'"),
        ({"type": "ok", "f": "evaluate", "status": 200, "value": None}, r"a completion \(ok\) of evaluate with no invoke before it"),
        ({"type": "fail", "f": "ping", "status": 400, "value": None}, r"a completion \(fail\) of ping with no invoke before it"),
    ],
)  # fmt: skip
def test_a_history_no_driver_writes_is_a_harness_error_naming_the_entry(bad: dict[str, Any], message: str) -> None:
    run = Run()
    run.honest("a", "s1")
    entries = run.history.entries
    entries.insert(3, {"process": "p0", "key": "k", "time": T0} | bad)
    with pytest.raises(HistoryError, match=rf"^history entry 3: {message}$"):
        check(entries, {}, [], mitigation="m", fault_profile="p", seed=1)


@pytest.mark.parametrize(
    "bad, message",
    [
        (["not", "an", "entry"], "TypeError: list indices must be integers or slices, not str"),
        ({"type": "invoke", "key": "k", "f": "evaluate"}, "KeyError: 'time'"),
        ({"type": "invoke", "key": "k", "f": "evaluate", "time": "noon"}, "ValueError: could not convert string to float: 'noon'"),
        ({"type": "invoke", "key": "k", "time": T0}, "KeyError: 'f'"),
        ({"key": "k", "time": T0}, "KeyError: 'type'"),
    ],
)  # fmt: skip
def test_a_malformed_entry_is_a_harness_error_not_a_crash(bad: Any, message: str) -> None:
    run = Run()
    run.honest()
    entries = [*run.history.entries[:2], bad, *run.history.entries[2:]]
    with pytest.raises(HistoryError, match=rf"^history entry 2 is malformed: {message}$"):
        check(entries, {}, [], mitigation="m", fault_profile="p", seed=1)


def test_a_completion_pairs_with_its_own_invoke_and_its_fields_must_be_there() -> None:
    run = Run()
    run.created("k", "s1")
    run.history.invoke("p0", "k", "set_data", {"sessionId": "s1"}, T0 + 5)  # no value: not what a driver sends
    with pytest.raises(HistoryError, match=r"^history entry 2 is malformed: KeyError: 'value'$"):
        run.judge({})
    run = Run()
    run.call("k", "create_session", {}, Reply(201, {"name": "no id"}))
    with pytest.raises(HistoryError, match=r"^history entry 1 is malformed: KeyError: 'id'$"):
        run.judge({})
    run = Run()
    run.history.invoke("p0", "k", "evaluate", {}, T0)
    run.history.entries.append({"process": "p0", "key": "k", "type": "ok", "f": "evaluate", "time": T0})
    with pytest.raises(HistoryError, match=r"^history entry 1 is malformed: KeyError: 'status'$"):
        run.judge({})
    # A completion of another process's call, or of another operation, has no invoke of its own.
    run = Run()
    run.history.invoke("p1", "k", "evaluate", {}, T0)
    run.history.complete("p0", "k", "evaluate", Reply(200, {}), T0 + 1)
    with pytest.raises(HistoryError, match="no invoke before it"):
        run.judge({})


class CorruptsTheHistory(NoMitigation):
    """Its simulation component appends an entry no driver writes: the run must end as a harness error."""

    name = "corrupts-the-history"

    def install(self, sim: Any) -> None:
        sim.schedule(sim.clock.now() + 1, lambda at: sim.history.entries.append({"type": "bogus", "time": at}))


def test_the_cli_maps_a_history_error_to_exit_2_and_one_line() -> None:
    register(CorruptsTheHistory, Companion(simulated=lambda strategy: [strategy]))
    try:
        result = CliRunner().invoke(
            main, ["simulate", "-m", "tests.checker.test_checker_rules:CorruptsTheHistory", "-n", "5"]
        )
    finally:
        del REGISTRY[CorruptsTheHistory.name]
    assert result.exit_code == 2
    assert result.output == "Error: history entry 0: unknown entry type 'bogus'\n"


# -- the verdict ------------------------------------------------------------------------------------------


def bad_session(run: Run, cls: str) -> dict[str, Any]:
    """Add a session of class `cls` to the run; its truth."""
    key, sid = f"bad-{cls}", f"s-{cls}"
    run.created(key, sid)
    if cls == "lost":
        run.finish(key, branch="default", seen=None, sid=sid)
        return stored(**{sid: None})
    if cls == "ack_lost":
        run.write(key, sid)
        run.evaluate(key, sid)
        run.finish(key, sid=sid, acknowledged=True)
        return stored(**{sid: None})
    if cls == "corrupted":
        run.finish(key, branch="default", seen=OTHER, sid=sid)
        return stored(**{sid: OTHER})
    run.finish(key, sid=sid)  # unverified
    return stored(**{sid: CODE})


@pytest.mark.parametrize("cls", ["lost", "ack_lost", "corrupted", "unverified"])
def test_any_bad_session_fails_a_run_of_ok_sessions(cls: str) -> None:
    run = Run()
    for i in range(3):
        run.honest(f"ok{i}", f"s{i}")
    truth = stored(s0=CODE, s1=CODE, s2=CODE)
    assert run.judge(truth)["verdict"] == "holds"
    truth |= bad_session(run, cls)
    result = run.judge(truth)
    assert result["verdict"] == "fails"
    assert {k: v for k, v in result["sessions"].items() if v} == {"ok": 3, cls: 1, "total": 4}


def test_an_indeterminate_session_fails_a_run_and_cannot_hold_it_alone() -> None:
    """A flow cut off after the drain (a strategy that hangs on locked sessions) or one that took no branch
    is not known to have served its customer: the ok sessions around it do not make the run hold."""
    run = Run()
    run.created("unfinished", "s9")
    assert run.judge({})["verdict"] == "fails"
    run.honest()
    result = run.judge(stored(s1=CODE))
    assert result["verdict"] == "fails"
    assert result["sessions"] == {
        "ok": 1, "lost": 0, "ack_lost": 0, "corrupted": 0, "unverified": 0, "indeterminate": 1, "total": 2,
    }  # fmt: skip
    no_branch = Run()
    no_branch.honest()
    no_branch.created("k2", "s2")
    no_branch.finish("k2", branch=None, seen=None, sid="s2")
    assert only_class_counts(no_branch.judge(stored(s1=CODE, s2=None))) == {"ok": 1, "indeterminate": 1}
    assert no_branch.judge(stored(s1=CODE, s2=None))["verdict"] == "fails"
    assert Run().judge({})["verdict"] == "fails"  # and nothing at all never holds


# -- the report's figures ----------------------------------------------------------------------------------


def test_every_class_durability_and_outcome_is_reported_even_at_zero() -> None:
    result = Run().judge({})
    assert result["sessions"] == dict.fromkeys(
        ("ok", "lost", "ack_lost", "corrupted", "unverified", "indeterminate", "total"), 0
    )
    assert result["durability"] == dict.fromkeys(("durable", "ack_lost", "not_stored", "stored_wrong", "unknown"), 0)
    assert result["outcome"] == dict.fromkeys(("personalized_ok", "default", "wrong_code", "unverified", "unknown"), 0)
    assert result["anomalies"] == {"claimed_ack_without_write": 0, "evaluate_not_in_mock_log": 0}
    assert result["consistency"] == {
        "repaired": 0, "outcome_gap": 0, "time_to_consistency_ms": {"p50": None, "max": None},
    }  # fmt: skip
    assert result["timeline"] == {"origin": None, "bucket_s": 1, "t": [], "calls": [], "400": [], "429": [], "lost": []}
    assert result["verdict"] == "fails"


def test_the_timelines_lost_column_counts_only_bad_sessions_when_they_finished() -> None:
    run = Run()
    run.honest("a-ok", "s1")  # ok: not counted
    run.t = T0 + 1.5
    run.created("b-unverified", "s2")
    run.finish("b-unverified", sid="s2")  # unverified: counted, in the second it finished
    run.t = T0 + 2.5
    run.created("c-unfinished", "s3")  # indeterminate: not counted
    run.t = T0 + 3.5
    run.created("d-lost", "s4")
    run.write("d-lost", "s4", status=400)
    run.finish("d-lost", branch="default", seen=None, sid="s4")
    timeline = run.judge(stored(s1=CODE, s2=CODE, s3=None, s4=None))["timeline"]
    assert timeline["t"] == [0, 1, 2, 3] and timeline["bucket_s"] == 1
    assert timeline["lost"] == [0, 1, 0, 1]
    assert timeline["calls"] == [3, 1, 1, 2]
    assert timeline["400"] == [0, 0, 0, 1] and timeline["429"] == [0, 0, 0, 0]


def test_a_history_without_platform_calls_has_a_timeline_of_one_empty_second() -> None:
    run = Run()
    run.read_store("k", "es:k")
    timeline = run.judge({})["timeline"]
    assert timeline == {"origin": T0, "bucket_s": 1, "t": [0], "calls": [0], "400": [0], "429": [0], "lost": [0]}


def test_a_run_of_exactly_max_buckets_seconds_gets_wider_buckets() -> None:
    run = Run()
    for at in (0, 9_999, 10_000):
        run.t = T0 + at
        run.call("k", "set_data", {"value": CODE}, Reply(429, {}), ms=0)
        timeline = run.judge({})["timeline"]
        if at == 9_999:
            assert (timeline["bucket_s"], len(timeline["t"])) == (1, 10_000)
    assert (timeline["bucket_s"], len(timeline["t"]), timeline["t"][1]) == (2, 5_001, 2)
    assert timeline["429"][0] == 1 and timeline["429"][-1] == 1 and timeline["429"][-2] == 1


def test_status_classes_and_store_calls_in_the_cost() -> None:
    run = Run()
    for status in (499, 500, 599, 0):
        run.call("k", "set_data", {"value": CODE}, Reply(status, None))
    run.read_store("k", "es:k", status=0)
    run.read_store("k", "es:k")
    run.call("k", "store_put", {"key": "es:k"}, Reply(400, None))
    result = run.judge({})
    assert result["errors"] == {"400": 0, "429": 0, "5xx": 2, "no_answer": 1}
    assert result["http"] == {"0": 1, "499": 1, "500": 1, "599": 1}
    assert result["store"] == {"calls": 3, "failures": 2}
    assert (result["requests"], result["requests_per_session"]) == (4, 4.0)


def test_data_action_calls_count_with_the_outside_calls_and_judge_as_store_calls() -> None:
    """action_set acknowledges like a store put, action_get is evidence like a store read; neither is a platform call."""
    run = Run()
    run.created("k", "s1")
    run.call("k", "action_set", {"key": "es:s1", "value": CODE}, Reply(200, {}))
    run.call("k", "action_get", {"key": "es:s1"}, Reply(500, None))
    run.call("k", "action_get", {"key": "es:s1"}, Reply(200, {"value": CODE}))
    run.finish("k", store_key="es:s1")
    result = run.judge(stored(s1=None), store={"es:s1": CODE})
    assert only(result)["class"] == "ok"
    assert result["store"] == {"calls": 3, "failures": 1}
    assert (result["requests"], result["http"]) == (1, {"201": 1})
    lost = Run()
    lost.created("k", "s1")
    lost.call("k", "action_set", {"key": "es:s1", "value": CODE}, Reply(200, {}))
    lost.finish("k", branch="default", seen=None, store_key="es:s1")
    assert judged(lost, stored(s1=None), store={"es:s1": None})[0] == "ack_lost"


def test_latency_is_never_negative_and_is_rounded_to_the_microsecond() -> None:
    entries = [
        {"process": "p", "key": "k", "type": "invoke", "f": "evaluate", "time": 10.0, "params": {}},
        {"process": "p", "key": "k", "type": "ok", "f": "evaluate", "time": 9.0, "status": 200, "value": None},
        {"process": "p", "key": "k", "type": "invoke", "f": "evaluate", "time": 20.0, "params": {}},
        {"process": "p", "key": "k", "type": "ok", "f": "evaluate", "time": 20.0012345, "status": 200, "value": None},
    ]
    result = check(entries, {}, [], mitigation="m", fault_profile="p", seed=1, include_sessions=True)
    assert result["latency_ms"] == {"p50": 0.0, "p95": 1.234, "p99": 1.234, "max": 1.234, "count": 2}
    assert only(result)["latency_ms_total"] == 1.234
    assert (only(result)["start"], only(result)["end"]) == (9.0, 20.001)


def test_the_first_write_starts_the_time_to_consistency_else_the_first_entry() -> None:
    run = Run()
    run.created("w", "s1")
    run.t = T0 + 1
    run.write("w", "s1", status=400)
    run.t = T0 + 2
    run.write("w", "s1", status=400)
    run.finish("w", branch="default", seen=None, sid="s1")
    run.t = T0 + 3
    run.created("x", "s2")  # never wrote: from its first entry
    run.finish("x", branch="default", seen=None, sid="s2")
    result = run.judge(stored(s1=CODE, s2=CODE), repairs={"s1": T0 + 4, "s2": T0 + 3.5})
    assert result["consistency"] == {
        "repaired": 2, "outcome_gap": 2, "time_to_consistency_ms": {"p50": 500.0, "max": 3000.0},
    }  # fmt: skip


def test_only_repaired_sessions_have_a_time_to_consistency() -> None:
    run = Run()
    for key in ("a", "b", "c"):
        run.created(key, f"s-{key}")
        run.write(key, f"s-{key}", status=400)
        run.finish(key, branch="default", seen=None, sid=f"s-{key}")
    result = run.judge(stored(**{"s-a": None, "s-b": CODE, "s-c": None}), repairs={"s-b": T0 + 10})
    assert result["consistency"]["repaired"] == 1
    assert result["consistency"]["time_to_consistency_ms"]["p50"] is not None


def test_a_call_no_session_owns_is_cost_only_wherever_it_is() -> None:
    run = Run()
    run.call(None, "script_data", {"updates": []}, Reply(200, {"results": []}))  # type: ignore[arg-type]
    run.honest()
    result = run.judge(stored(s1=CODE))
    assert (result["sessions"]["total"], result["sessions"]["ok"], result["requests"]) == (1, 1, 4)


def test_a_repair_before_the_write_is_zero_time_to_consistency() -> None:
    run = Run()
    run.created("w", "s1")
    run.write("w", "s1", status=400)
    run.finish("w", branch="default", seen=None, sid="s1")
    result = run.judge(stored(s1=CODE), repairs={"s1": T0 - 60})
    assert result["consistency"]["time_to_consistency_ms"] == {"p50": 0.0, "max": 0.0}


def test_percentiles_are_nearest_rank_on_any_count() -> None:
    thousand = [float(v) for v in range(1, 1001)]
    assert [percentile(thousand, p) for p in (50, 95, 99)] == [500.0, 950.0, 990.0]
    assert percentile([1.0, 2.0], 1) == 1.0
    assert percentile([1.0, 2.0], 100) == 2.0
    assert latency_summary([3.0, 1.0, 2.0]) == {"p50": 2.0, "p95": 3.0, "p99": 3.0, "max": 3.0, "count": 3}
    hundred = [float(v) for v in range(100, 0, -1)]
    assert latency_summary(hundred) == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0, "count": 100}


def test_windows_that_overlap_or_touch_count_as_one() -> None:
    run = Run()
    for at in (0.5, 1.5, 2.5, 3.5, 6.0):
        run.t = T0 + at
        run.call("k", "evaluate", {}, Reply(200, {}))
    windows = [(T0 + 1, T0 + 3), (T0 + 2, T0 + 2.2), (T0 + 3, T0 + 4)]  # the second inside the first; the third touches
    result = run.judge({}, windows=windows)
    assert (result["latency_ms_by_window"]["inside"]["count"], result["latency_ms_by_window"]["outside"]["count"]) == (
        3,
        2,
    )
    assert result["windows"] == [[round(a, 3), round(b, 3)] for a, b in sorted(windows)]


@pytest.fixture
def gc_state() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("gc_state")
def test_the_checker_leaves_the_garbage_collector_as_it_found_it() -> None:
    run = Run()
    run.honest()
    gc.enable()
    run.judge({})
    assert gc.isenabled()
    gc.disable()
    run.judge({})
    assert not gc.isenabled()


def test_the_result_is_plain_json() -> None:
    run = Run()
    run.honest()
    result = run.judge(stored(s1=CODE), repairs={"s1": T0 + 1}, extra={"note": "x"})
    assert json.loads(json.dumps(result)) == result
