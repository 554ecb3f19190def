"""The live harness's parts without live load: schedule, outcome classes, transport adapter, collection, report."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mockgc.checker.check import check
from mockgc.checker.result import EXIT_FAILS, EXIT_HARNESS, EXIT_HOLDS, EXIT_INTERRUPTED
from mockgc.flows.effects import FlowResult, Reply
from mockgc.flows.history import History
from mockgc.inlocust.driver import (
    LocustTransport,
    MasterCollector,
    NodeCollector,
    checked_outcome,
    global_user_index,
    mitigation_params,
    pick_agent,
)
from mockgc.inlocust.nemesis import run_schedule
from mockgc.live.demo import demo_exit, summary_lines
from mockgc.live.options import LiveOptions
from mockgc.live.procs import Children, wait_until
from mockgc.platform.serve.server import ServerThread
from mockgc.report.html import write_matrix_report, write_run_report
from mockgc.report.judge import comparison, run_exit
from mockgc.report.locust_stats import live_counts
from mockgc.report.records import RunOutcome
from mockgc.spec.runspec import RunSpec, parse_offsets, publish_offsets
from tests.conftest import CLIENT_ID, CLIENT_SECRET

# -- the nemesis schedule ------------------------------------------------------------


def test_explicit_offsets_win_and_are_sorted() -> None:
    assert publish_offsets("15, 5,30s", 9, 60) == [5.0, 15.0, 30.0]


def test_a_count_leaves_equal_calm_gaps_before_between_and_after_the_windows() -> None:
    # 3 windows of 6 s in 30 s: 3 s of calm before the first, between each, and after the last.
    assert publish_offsets("", 3, 30, window=6) == [3.0, 12.0, 21.0]
    assert publish_offsets("", 1, 20, window=6) == [7.0]
    assert publish_offsets("", 3, 30) == [7.5, 15.0, 22.5]
    assert publish_offsets(None, 0, 30) == []
    # Windows that cannot fit with calm between them are refused, never overlapped.
    with pytest.raises(ValueError, match="3 publishes of 6 s windows do not fit in a 10 s run"):
        publish_offsets("", 3, 10, window=6)


def test_the_default_live_schedule_shows_calm_before_and_recovery_after() -> None:
    from mockgc.live.demo import demo_spec
    from mockgc.spec.runspec import publish_window_seconds

    assert publish_window_seconds("seed-default", 50) == 6.5 and publish_window_seconds("fast", 5) == 0.3
    for spec in (RunSpec(), demo_spec()):
        window = publish_window_seconds(spec.profile, spec.agents)
        offsets = spec.offsets()
        assert offsets[0] >= 2.0, spec
        assert spec.duration - (offsets[-1] + window) >= 2.0, spec
        assert all(b - a > window for a, b in itertools.pairwise(offsets)), spec


@pytest.mark.parametrize("text", ["x", "5,-1", "1e9"])
def test_bad_offsets_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_offsets(text)


def test_publish_count_is_bounded() -> None:
    with pytest.raises(ValueError, match="at most"):
        publish_offsets("", 101, 600)


def test_run_schedule_publishes_once_per_offset_through_the_upload_flow(live_server: ServerThread) -> None:
    slept: list[float] = []
    now = [1000.0]
    log = run_schedule(
        live_server.url,
        CLIENT_ID,
        CLIENT_SECRET,
        [0.0, 2.5],
        started=1000.0,
        sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)),
        clock=lambda: now[0],
    )
    assert [r.get("error") for r in log] == [None, None]
    assert slept == [2.5]
    operations = live_server.holder.platform.lock_windows()
    assert sorted(op["operationId"] for op in operations) == sorted(r["operationId"] for r in log)


def test_run_schedule_logs_a_failed_setup_for_every_publish_without_raising(live_server: ServerThread) -> None:
    log = run_schedule(live_server.url, CLIENT_ID, "wrong-secret", [0.0, 1.0], started=time.time())
    assert len(log) == 2 and all("nemesis setup" in r["error"] for r in log)
    assert live_server.holder.platform.lock_windows() == []


# -- what a Locust process does with a finished flow --------------------------------------


def _result(branch: str | None, value: str | None, acknowledged: bool = True) -> FlowResult:
    return FlowResult("k", "PREF-AA-0001", branch, value, "s1", acknowledged)


def _flow_entries(result: FlowResult) -> list[dict[str, Any]]:
    """The flow as its recorder keeps it: its session made, the evaluate answering what the flow saw, its end."""
    history = History()
    history.invoke("p0", "k", "create_session", {"userId": "a1"}, 1.0)
    history.complete("p0", "k", "create_session", Reply(201, {"id": "s1"}), 1.1)
    if result.branch is not None:
        history.invoke("p0", "k", "evaluate", {"sessionId": "s1", "variable": "preferenceCode"}, 1.2)
        answer = {"sessionId": "s1", "variable": "preferenceCode", "value": result.value, "branch": result.branch}
        history.complete("p0", "k", "evaluate", Reply(200, answer), 1.3)
    history.finish("p0", result, 1.4)
    return history.entries


@pytest.mark.parametrize(
    ("branch", "value", "outcome"),
    [
        ("personalized", "PREF-AA-0001", "ok"),
        ("personalized", "PREF-ZZ-9999", "corrupted"),
        ("default", None, "lost"),
        ("default", "PREF-ZZ-9999", "corrupted"),
        (None, None, "indeterminate"),
    ],
)
def test_a_finished_flow_is_classed_by_the_verdicts_own_classifier(
    branch: str | None, value: str | None, outcome: str
) -> None:
    result = _result(branch, value)
    assert checked_outcome(_flow_entries(result), result) == outcome


def test_a_flow_claiming_a_branch_it_never_evaluated_is_unverified_in_locust_too() -> None:
    result = _result("personalized", "PREF-AA-0001")
    entries = [e for e in _flow_entries(result) if e.get("f") != "evaluate"]
    assert checked_outcome(entries, result) == "unverified"
    assert checked_outcome([{"type": "bogus"}], result) == "indeterminate"  # entries no driver writes


def test_agents_are_picked_by_user_index_and_workers_never_share_an_index() -> None:
    agents = [{"id": f"a{i}"} for i in range(5)]
    assert [pick_agent(agents, 3, k)["id"] for k in range(3)] == ["a3", "a4", "a0"]
    indexes = [global_user_index(local, worker, 2) for worker in range(2) for local in range(50)]
    assert len(set(indexes)) == 100 and sorted(indexes) == list(range(100))


def test_mitigation_params_come_from_a_json_object() -> None:
    assert mitigation_params(None, {"MOCKGC_MITIGATION_PARAMS": '{"attempts": 5}'}) == {"attempts": 5}
    assert mitigation_params('{"delay_s": 1}', {"MOCKGC_MITIGATION_PARAMS": '{"attempts": 5}'}) == {"delay_s": 1}
    assert mitigation_params(None, {}) == {}
    with pytest.raises(ValueError, match="object"):
        mitigation_params("[1]")


class _FakeResponse:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.content = json.dumps(body).encode() if body is not None else b""
        self.headers = headers
        self.marked: Any = None

    def success(self) -> None:
        self.marked = "success"

    def failure(self, reason: Any) -> None:
        self.marked = reason


class _FakeClient:
    """Stands in for FastHttpUser.client: records each request and answers from a script."""

    def __init__(self, *answers: _FakeResponse) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    @contextmanager
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.requests.append({"method": method, "path": path} | kwargs)
        yield self.answers.pop(0)


def test_transport_names_requests_by_template_and_counts_an_expected_400_as_success() -> None:
    locked = _FakeResponse(400, {"code": "bad.request", "details": [{"errorCode": "script.session.locked"}]}, {})
    client = _FakeClient(locked)
    errors: list[tuple[str, int, str]] = []
    reply = LocustTransport(client, lambda *e: errors.append(e)).call(
        "set_data", {"sessionId": "s/1", "name": "preferenceCode", "value": "v"}
    )
    assert reply.status == 400 and reply.detail_code == "script.session.locked"
    assert locked.marked == "success" and errors == []
    sent = client.requests[0]
    assert sent["name"] == "/api/v2/scripts/sessions/{sessionId}/variables/{name}"
    assert sent["path"] == "/api/v2/scripts/sessions/s%2F1/variables/preferenceCode"
    assert sent["json"] == {"value": "v"} and sent["catch_response"] is True


def test_transport_reads_retry_after_of_a_429() -> None:
    client = _FakeClient(_FakeResponse(429, {"code": "too.many.requests.retry.after"}, {"Retry-After": "3"}))
    reply = LocustTransport(client).call("evaluate", {"sessionId": "s", "variable": "preferenceCode"})
    assert reply.retry_after == 3.0 and client.answers == []


def test_transport_marks_harness_errors_as_locust_failures() -> None:
    not_found = _FakeResponse(404, {"code": "not.found"}, {})
    no_answer = _FakeResponse(0, None, None)
    errors: list[tuple[str, int, str]] = []
    transport = LocustTransport(_FakeClient(not_found, no_answer), lambda *e: errors.append(e))
    assert transport.call("read_session", {"sessionId": "s"}).status == 404
    assert transport.call("read_session", {"sessionId": "s"}) == Reply(0, None, error="no answer")
    assert not_found.marked != "success" and no_answer.marked == "no answer"
    assert [(op, status) for op, status, _ in errors] == [("read_session", 404), ("read_session", 0)]


def test_transport_refuses_an_unknown_operation_as_a_harness_error() -> None:
    errors: list[tuple[str, int, str]] = []
    reply = LocustTransport(_FakeClient(), lambda *e: errors.append(e)).call("no_such_op", {})
    assert reply.status == 0 and errors[0][0] == "no_such_op"


# -- collecting histories from every process ------------------------------------------------


def test_workers_ship_batches_and_the_master_writes_one_history(tmp_path: Path) -> None:
    worker = NodeCollector("w1")
    worker.history.entries.append({"key": "a", "type": "flow"})
    first = worker.take()
    worker.history.entries.append({"key": "b", "type": "flow"})
    worker.harness_error("set_data", 404, "boom")
    master = MasterCollector()
    master.reset()
    master.receive("client-1", {"entries": first, "report": worker.report()})
    master.receive("client-1", {"entries": worker.take(), "report": worker.report(), "final": True})
    master.nemesis.append({"index": 0, "error": "x"})
    assert worker.take() == [] and master.flushed == {"client-1"}
    master.write(tmp_path, {"exceptions": 0})
    lines = (tmp_path / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b"]
    live = json.loads((tmp_path / "live.json").read_text())
    assert live["harness_errors"] == 2 and live["nodes"]["client-1"]["node"] == "w1"


def test_live_counts_reads_outcomes_and_failures_from_locust_csv(tmp_path: Path) -> None:
    stats = tmp_path / "s.csv"
    stats.write_text(
        "Type,Name,Request Count,Failure Count\n"
        "PUT,/api/v2/x,90,2\nOUTCOME,ok,8,0\nOUTCOME,lost,2,2\n,Aggregated,100,4\n"
    )
    assert live_counts(stats) == (90, {"ok": 8, "lost": 2}, 2)
    assert live_counts(tmp_path / "missing.csv") == (0, {}, 0)


# -- configuration, exit codes, services -----------------------------------------------------


def test_live_options_validate_against_the_spec() -> None:
    spec = RunSpec().with_options(mitigation="retry", profile="fast", duration=10, publish_at="2,4")
    assert LiveOptions(target="http://127.0.0.1:1", admin_key="k").validate(spec).target == "http://127.0.0.1:1"
    with pytest.raises(ValueError, match="admin-key"):
        LiveOptions(target="http://127.0.0.1:1").validate(spec)
    with pytest.raises(ValueError, match="needs --target"):
        LiveOptions().validate(RunSpec().with_options(remote_workers=2))
    # The live schedule's own bound: the plan's offsets, resolved once before any load.
    from mockgc.strategies.plans import plan

    with pytest.raises(ValueError, match="at most 100 publishes"):
        _ = plan(RunSpec().with_options(publishes=101, duration=600)).offsets


def assert_references_nothing_outside(report: Path) -> None:
    """Self-contained: no script, style, image or link is fetched from elsewhere. plotly.js is inlined (its source
    names plotly's own site for features a report never uses: map tiles, a modebar link that is turned off)."""
    page = report.read_text().lower()
    assert "<script>" in page and "plotly" in page
    text = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<script src" not in text and "<link" not in text and "url(http" not in text


def _outcome(name: str, code: int, verdict: str = "holds") -> RunOutcome:
    from tests.checker.test_gate import result

    return RunOutcome(name, Path(name), result(name, verdict), code)


def test_exit_codes_of_single_runs_and_of_a_matrix() -> None:
    from mockgc.checker.gate import Gate

    assert run_exit([_outcome("none", EXIT_FAILS, "fails")]) == EXIT_FAILS
    assert run_exit([_outcome("none", EXIT_FAILS, "fails"), _outcome("retry", EXIT_HOLDS)]) == EXIT_HOLDS
    # A matrix with expectations is a regression gate: a broken one fails it, a met one passes.
    matrix = [_outcome("none", EXIT_FAILS, "fails"), _outcome("retry", EXIT_HOLDS)]
    assert run_exit(matrix, Gate.parse(["none=fails", "retry=holds"])) == EXIT_HOLDS
    assert run_exit(matrix, Gate.parse(["none=holds"])) == EXIT_FAILS
    assert run_exit([_outcome("none", EXIT_FAILS, "fails")], Gate.parse(["none=fails"])) == EXIT_HOLDS
    assert run_exit([_outcome("none", EXIT_FAILS), _outcome("retry", EXIT_HARNESS)]) == EXIT_HARNESS
    assert run_exit([_outcome("none", EXIT_INTERRUPTED), _outcome("retry", EXIT_HARNESS)]) == EXIT_INTERRUPTED


def test_one_registry_gives_each_strategy_its_companions_for_both_drivers() -> None:
    from mockgc.flows.mitigations import AsyncWorker
    from mockgc.spec.companion import NOTHING
    from mockgc.strategies.registry import companion_of, load_mitigation
    from mockgc.strategies.store_services import clean_store_namespace
    from mockgc.worker.companion import live_worker, simulated_worker

    class MyAsyncWorker(AsyncWorker):
        name = "my-async-worker"

    assert companion_of(load_mitigation("none")) is NOTHING
    worker = companion_of(load_mitigation("async-worker"))
    assert (worker.simulated, worker.live) == (simulated_worker, live_worker)
    assert companion_of(load_mitigation("external-store")).live is clean_store_namespace
    # A user's own strategy that extends a registered one gets that one's companions.
    assert companion_of(MyAsyncWorker()) is worker


# -- processes ------------------------------------------------------------------------------


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0) until reaped; psutil tells them apart.
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_stopping_a_child_stops_its_whole_process_group(tmp_path: Path) -> None:
    script = "import subprocess,sys,time; p=subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']); print(p.pid, flush=True); time.sleep(60)"
    with Children() as children:
        child = children.start("sleeper", [sys.executable, "-c", script], tmp_path / "sleeper.log")
        assert wait_until(lambda: child.log_path.read_text().strip() != "", 10)
        grandchild = int(child.log_path.read_text().split()[0])
    assert _gone(child.pid) and wait_until(lambda: _gone(grandchild), 5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_children_die_with_a_harness_that_is_killed_outright(tmp_path: Path) -> None:
    harness = (
        "import sys, time; from pathlib import Path; from mockgc.live.procs import Children;"
        "c = Children().start('sleeper', [sys.executable, '-c', 'import time; time.sleep(60)'], Path(sys.argv[1]));"
        "print(c.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", harness, str(tmp_path / "s.log")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        parent.kill()  # SIGKILL: no finally, no atexit in the harness
        parent.wait(10)
        assert wait_until(lambda: _gone(child), 10)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_child_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    script = (
        "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    )
    children = Children()
    child = children.start("stubborn", [sys.executable, "-c", script], tmp_path / "s.log")
    assert wait_until(lambda: "up" in child.log_path.read_text(), 10)
    began = time.monotonic()
    code = child.stop(grace=0.5)
    assert code == -signal.SIGKILL and time.monotonic() - began < 5


# -- the report -----------------------------------------------------------------------------


def _history() -> History:
    history = History()
    t = 1_795_000_000.0
    for i, (status, branch) in enumerate([(200, "personalized"), (400, "default"), (200, "personalized")]):
        key, expected = f"k{i}", f"PREF-AA-000{i}"
        history.invoke("p", key, "set_data", {"sessionId": f"s{i}", "name": "preferenceCode", "value": expected}, t + i)
        history.complete(
            "p", key, "set_data", Reply(status, {"code": "bad.request"} if status == 400 else {}), t + i + 0.01
        )
        value = expected if branch == "personalized" else None
        if value:  # the evidence of the branch, as a driver records it
            history.invoke("p", key, "evaluate", {"sessionId": f"s{i}", "variable": "preferenceCode"}, t + i + 0.012)
            history.complete("p", key, "evaluate", Reply(200, {"branch": branch, "value": value}), t + i + 0.015)
        history.finish("p", FlowResult(key, expected, branch, value, f"s{i}", status == 200), t + i + 0.02)
    return history


def _judged(history: History, names: dict[str, str] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from mockgc.report.sessions import session_details

    truth = {"s0": {"variables": {"preferenceCode": "PREF-AA-0000"}}, "s2": {"variables": {"preferenceCode": "PREF-AA-0002"}}, "s1": {"variables": {}}}  # fmt: skip
    operations = [{"operationId": "op-1", "startedEpochMs": 1_795_000_000_500, "completesEpochMs": 1_795_000_001_500, "status": "Complete"}]  # fmt: skip
    result = check(
        history.entries,
        truth,
        [(1_795_000_000.5, 1_795_000_001.5)],
        mitigation="none",
        fault_profile="fast",
        seed=1,
        extra={
            "run": {"command": "mockgc run --target http://127.0.0.1:9"},
            "harness": {"errors": 0, "problems": [], "nemesis": [{"index": 0, "offset": 0.5, "operationId": "op-1", "status": "Processing"}]},
            "publish_operations": operations,
        },
        include_sessions=True,
    )  # fmt: skip
    nemesis = result["harness"]["nemesis"]
    return result, session_details(history.entries, result.pop("session_outcomes"), operations, names, nemesis)


def test_sessions_json_names_each_lost_sessions_agent_session_failing_call_and_publish() -> None:
    history = _history()
    history.invoke("p", "k1", "create_call", {"userId": "agent-7"}, 1_795_000_000.9)
    result, sessions = _judged(history)
    assert result["sessions"]["lost"] == 1
    lost = next(s for s in sessions if s["class"] == "lost")
    assert (lost["key"], lost["agent"], lost["session_id"], lost["held_by"]) == ("k1", "agent-7", "s1", "op-1")
    assert lost["failing_call"] == {"f": "set_data", "status": 400, "code": "bad.request", "at": 1_795_000_001.0}
    assert lost["first_failing_call"] == lost["failing_call"] and lost["publish"] == 1 and lost["in_window"] is True
    assert [(op["type"], op["f"]) for op in lost["operations"]] == [
        ("invoke", "set_data"), ("fail", "set_data"), ("flow", None), ("invoke", "create_call"),
    ]  # fmt: skip
    assert lost["operations"][0]["t"] == 0.0 and lost["operations"][1]["status"] == 400
    ok = next(s for s in sessions if s["key"] == "k0")
    assert ok["failing_call"] is None and ok["held_by"] is None and "operations" not in ok


def test_the_failing_call_is_the_last_failure_or_else_the_evaluate_that_answered_default() -> None:
    from mockgc.report.sessions import session_details

    history = History()
    t = 1_795_000_000.0
    history.invoke("p", "k", "set_data", {"sessionId": "s", "name": "preferenceCode", "value": "V"}, t)
    history.complete("p", "k", "set_data", Reply(200, {}), t + 0.1)
    history.invoke("p", "k", "evaluate", {"sessionId": "s", "variable": "preferenceCode"}, t + 0.2)
    history.complete("p", "k", "evaluate", Reply(200, {"branch": "default", "value": None}), t + 0.3)
    history.finish("p", FlowResult("k", "V", "default", None, "s", True), t + 0.4)
    [detail] = session_details(history.entries, [{"key": "k", "class": "ack_lost"}], [])
    assert detail["failing_call"] == {"f": "evaluate", "status": 200, "code": "default branch", "at": t + 0.2}
    assert detail["held_by"] is None and detail["session_id"] == "s"


def test_the_per_second_chart_bins_are_all_one_width() -> None:
    from mockgc.report.html import BIN_S, rates

    # A window edge at 101.5 s no longer cuts a half-second bin (whose 2 rejections read as 4 per second and set
    # the scale): every bin is BIN_S wide, from the first call.
    history = [{"type": "fail", "f": "set_data", "status": 400, "time": t} for t in (101.6, 101.7, 103.1)]
    binned = rates(history, [{"class": "lost", "end": 101.8}, {"class": "ok", "end": 101.9}], [[101.5, 103.25]], 100.0)
    widths = {round(b - a, 9) for a, b in itertools.pairwise(binned["edges"])}
    assert widths == {BIN_S} and binned["edges"][0] == 100.0 and binned["edges"][-1] >= 103.25
    assert binned["400"][:4] == [0.0, 2.0, 0.0, 1.0] and binned["bad"][1] == 1.0 and sum(binned["429"]) == 0


def test_reports_are_self_contained_and_show_the_failure(tmp_path: Path) -> None:
    history = _history()
    history.invoke("p", "k1", "create_call", {"userId": "agent-7"}, 1_795_000_000.9)
    result, sessions = _judged(history, names={"agent-7": "Ann Lee"})
    result["gate"] = {
        "expected": "holds",
        "verdict": "fails",
        "thresholds": [],
        "broken": ["expected holds, got fails"],
    }
    sections = write_run_report(tmp_path / "report.html", result, history.entries, sessions)
    page = (tmp_path / "report.html").read_text()
    assert page.count('class="chart"') == 6 and sections in page
    assert page.count("<script>") == 1 + 6  # plotly.js once, then one small script per chart
    # It leads with the finding, in one sentence, before anything else.
    lead = "1 of 3 sessions (33%) lost the customer&#x27;s preference, all inside publish windows; first failing call: Set Data → 400 bad.request."
    assert lead in page and page.index(lead) < page.index("seed 1")
    assert "Lost sessions (1)" in page and "<details>" in page
    lost_row = page[page.index("<table class='lost'>") :]
    for cell in (
        "<td>1.00</td>",
        "<td>1</td>",
        "<td>Set Data → 400 bad.request</td>",
        "<span class='text'>Ann Lee</span>",
    ):
        assert cell in lost_row, cell
    assert "gate broken" in page and "expected holds, got fails" in page
    assert "<td>Complete</td>" in page  # the nemesis table's final state, not the first answer only
    assert "<tr><td>1</td><td>0.5</td><td>op-1</td>" in page  # publishes numbered from 1, as the lost table says
    assert "Durability against outcome" in page or "durability against outcome" in page
    shown = re.sub(r"<script>.*?</script>", "", page, flags=re.S)  # the page as read, without plotly.js
    assert "None" not in shown.replace("none", "")  # a missing figure reads n/a
    outcomes = [RunOutcome("none", tmp_path, result | {"harness": {"errors": 0, "problems": []}}, EXIT_FAILS, sections)]
    write_matrix_report(
        tmp_path / "matrix.html",
        outcomes,
        comparison(outcomes),
        {"fault_profile": "fast", "seed": 1, "holding": [], "run": {}},
    )
    matrix = (tmp_path / "matrix.html").read_text()
    assert "<nav><b>Contents</b>" in matrix and "href='#run-none'" in matrix and "id='run-none'" in matrix
    assert "<th>Requests per session</th>" in matrix and "requests_per_session" not in matrix
    for name in ("report.html", "matrix.html"):
        assert_references_nothing_outside(tmp_path / name)


def test_demo_summary_says_what_lost_means_and_what_holding_cost() -> None:
    from tests.checker.test_gate import result

    lost = RunOutcome("none", Path("a"), result("none", "fails"), EXIT_FAILS)
    held_result = result("backoff-verify", "holds", lost=0, ack_lost=0)
    held_result["requests_per_session"] = 5.25
    held_result["latency_ms_by_window"]["inside"]["p99"] = 1234.4
    held = RunOutcome("backoff-verify", Path("b"), held_result, EXIT_HOLDS)
    lines = summary_lines([lost, held])
    assert lines[0] == "baseline (none): lost 4 of 10 sessions (lost 3, ack_lost 1)  -> fails"
    assert lines[1] == "backoff-verify:  no session lost, of 6  -> holds"
    assert "400 bad.request (script.session.locked), so the flow took the default branch" in lines[2]
    assert lines[3] == (
        "backoff-verify held at a cost: 5.25 requests per session (baseline 4.00), "
        "call p99 inside the publish windows 1234 ms (baseline 900 ms)"
    )
    assert demo_exit([lost, held]) == EXIT_HOLDS
    assert demo_exit([lost, RunOutcome("x", Path("c"), held.result | {"verdict": "fails"}, EXIT_FAILS)]) == EXIT_FAILS


def test_more_users_than_one_locust_process_carries_get_workers_and_a_line_saying_so() -> None:
    from mockgc.live.locust import SINGLE_PROCESS_USERS, with_enough_workers

    spec, note = with_enough_workers(RunSpec().with_options(users=2000))
    assert spec.workers == 2 and note is not None
    assert note.startswith("2000 users are more than one Locust process carries here") and "--workers 2" in note
    for kept in (RunSpec().with_options(users=SINGLE_PROCESS_USERS), RunSpec().with_options(users=2000, workers=1)):
        assert with_enough_workers(kept) == (kept, None)
    assert with_enough_workers(spec) == (spec, None)  # applying it twice changes nothing
