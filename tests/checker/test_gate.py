"""Expectations and thresholds (mockgc/checker/gate.py), the CLI's gate options applied to results (mockgc/cli/options.py), JUnit XML
validated against the schema CI servers read, and durations in Locust's form. Fast: `make mutation` runs these."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from mockgc.checker.gate import METRICS, Gate, Threshold, figure, gate_exit, loss_summary, parse_expectation, problems
from mockgc.checker.junit import junit_xml
from mockgc.checker.result import Result
from mockgc.cli.options import apply_gate, gate_of, say_broken
from mockgc.spec.durations import parse_duration

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "junit-jenkins.xsd"


def result(
    mitigation: str = "none",
    verdict: str = "fails",
    *,
    profile: str = "seed-default",
    lost: int = 3,
    ack_lost: int = 1,
    ok: int = 6,
    **extra: Any,
) -> Result:
    sessions = {"total": ok + lost + ack_lost, "ok": ok, "lost": lost, "ack_lost": ack_lost, "corrupted": 0}
    sessions |= {"unverified": 0, "indeterminate": 0}
    latency = {"p50": 40.0, "p95": 90.0, "p99": 120.5, "max": 300.0, "count": 40}
    base: dict[str, Any] = {
        "mitigation": mitigation,
        "fault_profile": profile,
        "seed": 1,
        "sessions": sessions,
        "durability": {"durable": ok + lost, "ack_lost": ack_lost, "not_stored": 0, "stored_wrong": 0, "unknown": 0},
        "outcome": {},
        "consistency": {"repaired": 2, "outcome_gap": 1, "time_to_consistency_ms": {"p50": 1500.0, "max": 2500.0}},
        "latency_ms": latency,
        "latency_ms_by_window": {"inside": dict(latency, p99=900.0), "outside": dict(latency, p99=None)},
        "http": {"200": 30, "400": 10},
        "errors": {"400": 10, "429": 2, "5xx": 1, "no_answer": 0},
        "requests": 40,
        "requests_per_session": 4.0,
        "verdict": verdict,
    }
    return base | extra  # type: ignore[return-value]


# -- thresholds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "op", "limit", "scope"),
    [
        ("lost<=0", "lost", "<=", 0.0, None),
        (" p99_inside_ms < 800 ", "p99_inside_ms", "<", 800.0, None),
        ("requests_per_session<=6.5", "requests_per_session", "<=", 6.5, None),
        ("backoff-verify:requests_per_session>=-1", "requests_per_session", ">=", -1.0, "backoff-verify"),
        ("pkg.mod:Cls:ok>2", "ok", ">", 2.0, "pkg.mod:Cls"),
        ("bad==0", "bad", "==", 0.0, None),
        ("http_429!=3", "http_429", "!=", 3.0, None),
    ],
)
def test_thresholds_parse_in_k6s_manner(text: str, metric: str, op: str, limit: float, scope: str | None) -> None:
    threshold = Threshold.parse(text)
    assert (threshold.metric, threshold.op, threshold.limit, threshold.scope) == (metric, op, limit, scope)
    assert threshold.text == text.strip()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lost", "is not [MITIGATION:]METRIC<OP>NUMBER"),
        ("lost<=x", "is not [MITIGATION:]METRIC<OP>NUMBER"),
        ("lost=<1", "is not [MITIGATION:]METRIC<OP>NUMBER"),
        ("lots<=0", "unknown metric 'lots'; known: sessions, ok, lost"),
        ("", "is not"),
    ],
)
def test_a_bad_threshold_is_named_with_the_accepted_form(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Threshold.parse(text)


@pytest.mark.parametrize(
    ("text", "value", "passed"),
    [
        ("lost<=3", 3, True),
        ("lost<3", 3, False),
        ("lost>=3", 3, True),
        ("lost>3", 3, False),
        ("lost>2", 3, True),
        ("lost==3", 3, True),
        ("lost!=3", 3, False),
        ("bad<=4", 4, True),
        ("bad<4", 4, False),
        ("bad_pct<=40", 40.0, True),
        ("bad_pct<40", 40.0, False),
        ("p99_inside_ms<900", 900.0, False),
        ("p99_inside_ms<=900", 900.0, True),
        ("p99_ms<121", 120.5, True),
        ("requests_per_session<=4", 4.0, True),
        ("http_400<=9", 10, False),
        ("http_429<=2", 2, True),
        ("http_5xx<1", 1, False),
        ("no_answer<=0", 0, True),
        ("outcome_gap<=0", 1, False),
        ("repaired>=2", 2, True),
        ("durable>=9", 9, True),
        ("ttc_p50_ms<=1500", 1500.0, True),
        ("ttc_max_ms<2500", 2500.0, False),
        ("sessions>=10", 10, True),
        ("ok>=7", 6, False),
        ("ack_lost<=0", 1, False),
        ("requests<=40", 40, True),
        ("max_ms<=300", 300.0, True),
        ("p95_outside_ms<=90", 90.0, True),
    ],
)
def test_a_threshold_checks_its_figure_on_the_result(text: str, value: float, passed: bool) -> None:
    assert Threshold.parse(text).check(result()) == {"threshold": text, "value": value, "passed": passed}


def test_a_missing_figure_breaks_a_threshold_whatever_the_operator() -> None:
    for op in ("<", "<=", ">", ">=", "==", "!="):
        assert Threshold.parse(f"p99_outside_ms{op}0").check(result())["passed"] is False
    empty = result(ok=0, lost=0, ack_lost=0)
    assert METRICS["bad_pct"][1](empty) is None and Threshold.parse("bad_pct<=100").check(empty)["passed"] is False


def test_every_metric_reads_the_result_it_names() -> None:
    r = result()
    figures = {name: read(r) for name, (_, read) in METRICS.items()}
    assert figures["lost"] == 3 and figures["ack_lost"] == 1 and figures["ok"] == 6 and figures["unverified"] == 0
    assert figures["bad"] == 4 and figures["bad_pct"] == 40.0 and figures["indeterminate"] == 0
    assert figures["p50_ms"] == 40.0 and figures["p99_inside_ms"] == 900.0 and figures["p99_outside_ms"] is None
    assert figures["p95_inside_ms"] == 90.0 and figures["http_5xx"] == 1 and figures["no_answer"] == 0
    assert round(METRICS["bad_pct"][1](result(ok=2, lost=1, ack_lost=0)) or 0, 3) == 33.333
    assert all(description for description, _ in METRICS.values())


# -- expectations and the gate ---------------------------------------------------------------


def test_expectations_parse_and_refuse_anything_but_holds_or_fails() -> None:
    assert parse_expectation("none=fails") == ("none", "fails")
    assert parse_expectation(" pkg.mod:Cls = HOLDS ") == ("pkg.mod:Cls", "holds")
    for bad in ("none", "=fails", "none=maybe", "none=", "none:fails"):
        with pytest.raises(ValueError, match="is not NAME=holds or NAME=fails"):
            parse_expectation(bad)
    assert Gate.parse(["none=fails", "none=holds"]).expect == {"none": "holds"}
    assert Gate.parse({"retry": "Fails"}).expect == {"retry": "fails"}
    with pytest.raises(ValueError):
        Gate.parse({"retry": "sometimes"})


def test_an_empty_gate_is_falsy_and_any_item_makes_it_true() -> None:
    assert not Gate() and Gate.parse(["none=fails"]) and Gate.parse(thresholds=["lost<=0"])


def test_the_gate_names_only_mitigations_of_the_run() -> None:
    gate = Gate.parse(["none=fails", "retyr=holds"], ["backoff:lost<=0", "lost<=0"])
    gate.check_names(["none", "retyr", "backoff"])
    with pytest.raises(ValueError, match=r"the gate names backoff, retyr, not run here \(this run: none, retry\)"):
        gate.check_names(["none", "retry"])


def test_a_judgement_names_what_broke() -> None:
    gate = Gate.parse(["none=holds"], ["lost<=0", "requests_per_session<=6", "retry:lost<=100", "p99_outside_ms<5"])
    judgement = gate.judge(result())
    assert judgement["expected"] == "holds" and judgement["verdict"] == "fails"
    assert [c["threshold"] for c in judgement["thresholds"]] == [
        "lost<=0",
        "requests_per_session<=6",
        "p99_outside_ms<5",
    ]
    assert judgement["broken"] == [
        "expected holds, got fails (lost 4 of 10 sessions (lost 3, ack_lost 1))",
        "threshold lost<=0 broken: lost = 3",
        "threshold p99_outside_ms<5 broken: p99_outside_ms = n/a",
    ]
    met = Gate.parse(["none=fails"], ["lost<=3"]).judge(result())
    assert met["broken"] == [] and met["thresholds"][0]["passed"] is True
    assert Gate().judge(result()) == {"expected": None, "verdict": "fails", "thresholds": [], "broken": []}


def test_loss_summary_counts_only_the_bad_classes() -> None:
    assert loss_summary(result()) == "lost 4 of 10 sessions (lost 3, ack_lost 1)"
    assert loss_summary(result(lost=0, ack_lost=0)) == "no session lost, of 6"
    unverified = result(lost=0, ack_lost=0)
    unverified["sessions"]["unverified"] = 2
    assert loss_summary(unverified) == "lost 2 of 6 sessions (unverified 2)"


def test_loss_summary_names_indeterminate_sessions_apart() -> None:
    unfinished = result(lost=0, ack_lost=0)
    unfinished["sessions"]["indeterminate"] = 2
    assert loss_summary(unfinished) == "no session lost, of 6; 2 indeterminate (never finished, or took no branch)"
    both = result()
    both["sessions"]["indeterminate"] = 1
    assert loss_summary(both) == (
        "lost 4 of 10 sessions (lost 3, ack_lost 1); 1 indeterminate (never finished, or took no branch)"
    )


def test_exit_codes_a_lone_run_must_hold_a_matrix_only_breaks_on_its_gate() -> None:
    failing, holding = result("none", "fails"), result("retry", "holds", lost=0, ack_lost=0)
    assert gate_exit([failing], Gate()) == 1 and gate_exit([holding], Gate()) == 0
    # An expectation replaces "must hold": the baseline is expected to fail, and does.
    assert gate_exit([failing], Gate.parse(["none=fails"])) == 0
    assert gate_exit([holding], Gate.parse(["retry=fails"])) == 1
    # A matrix without a gate compares; with one, any broken item fails it.
    assert gate_exit([failing, holding], Gate()) == 0
    assert gate_exit([failing, holding], Gate.parse(["none=fails", "retry=holds"])) == 0
    assert gate_exit([failing, holding], Gate.parse(["none=holds"])) == 1
    assert gate_exit([failing, holding], Gate.parse(thresholds=["retry:lost<=0"])) == 0
    assert gate_exit([failing, holding], Gate.parse(thresholds=["lost<=0"])) == 1
    # Alone, with only thresholds, the verdict still has to hold.
    assert gate_exit([failing], Gate.parse(thresholds=["lost<=100"])) == 1
    assert gate_exit([holding], Gate.parse(thresholds=["lost<=0"])) == 0
    assert problems(failing, Gate(), alone=True) == ["verdict fails (lost 4 of 10 sessions (lost 3, ack_lost 1))"]
    assert problems(failing, Gate(), alone=False) == []
    assert problems(failing, Gate.parse(["none=fails"]), alone=True) == []
    # What the console and JUnit say is what result.json's gate says: a lone run's broken verdict is in `broken`.
    judged = Gate.parse(thresholds=["lost<=0"]).judge(failing, alone=True)["broken"]
    assert judged == problems(failing, Gate.parse(thresholds=["lost<=0"]), alone=True)
    assert judged == [
        "verdict fails (lost 4 of 10 sessions (lost 3, ack_lost 1))",
        "threshold lost<=0 broken: lost = 3",
    ]
    assert Gate.parse(thresholds=["lost<=0"]).judge(failing)["broken"] == ["threshold lost<=0 broken: lost = 3"]
    assert Gate().judge(holding, alone=True)["broken"] == []


def test_figures_print_whole_numbers_plainly_and_missing_ones_as_na() -> None:
    assert [figure(v) for v in (None, 3, 3.0, 2.5, 0.125, "x")] == ["n/a", "3", "3", "2.5", "0.125", "x"]


# -- the CLI's gate, applied to results (what `check` attaches) ---------------------------


class _Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def print(self, text: str) -> None:
        self.lines.append(text)


def test_apply_gate_judges_each_result_says_what_broke_and_writes_junit(tmp_path: Path) -> None:
    results = [result("none", "fails"), result("retry", "holds", lost=0, ack_lost=0)]
    printer = _Printer()
    junit = tmp_path / "junit.xml"
    gate = gate_of(["none=holds"], ["requests_per_session<=6"])
    code = apply_gate(results, gate, junit_path=junit, suite="mockgc check", console=printer)
    assert code == 1
    assert results[0]["gate"]["broken"] == ["expected holds, got fails (lost 4 of 10 sessions (lost 3, ack_lost 1))"]
    assert results[1]["gate"] == {
        "expected": None,
        "verdict": "holds",
        "thresholds": [{"threshold": "requests_per_session<=6", "value": 4.0, "passed": True}],
        "broken": [],
    }
    assert printer.lines == [
        "[red]gate broken[/] (none on seed-default): expected holds, got fails (lost 4 of 10 sessions (lost 3, ack_lost 1))"
    ]
    assert ET.parse(junit).getroot().get("failures") == "1"
    # Alone, with only a threshold that passes, the verdict it did not reach is in result.json's gate too.
    alone = [result("none", "fails")]
    assert apply_gate(alone, gate_of([], ["requests_per_session<=6"]), console=printer) == 1
    assert alone[0]["gate"]["broken"] == ["verdict fails (lost 4 of 10 sessions (lost 3, ack_lost 1))"]
    assert printer.lines[-1].endswith(alone[0]["gate"]["broken"][0])


def test_apply_gate_without_a_gate_leaves_results_alone_and_keeps_the_old_exit_codes() -> None:
    results = [result("none", "fails")]
    printer = _Printer()
    assert apply_gate(results, Gate(), console=printer) == 1
    assert "gate" not in results[0] and printer.lines == []
    assert apply_gate([result("none"), result("retry", "holds")], Gate()) == 0


def test_apply_gate_refuses_a_gate_naming_no_result() -> None:
    with pytest.raises(ValueError, match="the gate names retry, not run here"):
        apply_gate([result("none")], gate_of(["retry=holds"]))


def test_options_merge_over_a_spec_files_gate() -> None:
    base = Gate.parse(["none=fails", "retry=holds"], ["lost<=0"])
    merged = gate_of(["retry=fails"], [], base)
    assert merged.expect == {"none": "fails", "retry": "fails"} and [t.text for t in merged.thresholds] == ["lost<=0"]
    assert [t.text for t in gate_of([], ["ok>=1"], base).thresholds] == ["ok>=1"]


def test_say_broken_is_silent_without_a_gate() -> None:
    printer = _Printer()
    say_broken([result()], Gate(), printer)
    say_broken([result()], Gate.parse(thresholds=["lost<=100"]), printer)
    assert printer.lines == [
        "[red]gate broken[/] (none on seed-default): verdict fails (lost 4 of 10 sessions (lost 3, ack_lost 1))"
    ]


# -- JUnit XML ------------------------------------------------------------------------------


def validate(document: str, tmp_path: Path) -> ET.Element:
    import xmlschema

    path = tmp_path / "junit.xml"
    path.write_text(document)
    xmlschema.XMLSchema(SCHEMA).validate(str(path))
    return ET.parse(path).getroot()


def test_junit_has_one_testcase_per_mitigation_and_profile_and_validates(tmp_path: Path) -> None:
    results = [
        result("none", "fails"),
        result("retry", "holds", lost=0, ack_lost=0),
        result("none", "fails", profile="seed-clobber"),
        result("retry", "fails", profile="seed-clobber", partial=True, harness={"problems": ["the mock died"]}),
    ]
    gate = Gate.parse(["none=fails", "retry=holds"], ["none:ack_lost<=0"])
    root = validate(junit_xml("mockgc run", results, gate), tmp_path)
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "mockgc run"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("mockgc.seed-default", "none"),
        ("mockgc.seed-default", "retry"),
        ("mockgc.seed-clobber", "none"),
        ("mockgc.seed-clobber", "retry"),
    ]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("message") == "threshold none:ack_lost<=0 broken: ack_lost = 1"
    assert "lost 4 of 10 sessions (lost 3, ack_lost 1)" in (failure.text or "")
    assert cases[1].find("failure") is None and cases[1].find("error") is None
    error = cases[3].find("error")
    assert error is not None and error.get("message") == "the mock died"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "1")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "1")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {
        "seed": "1",
        "fault_profile": "seed-clobber, seed-default",
        "expect": "none=fails, retry=holds",
        "thresholds": "none:ack_lost<=0",
    }


def test_junit_fails_a_lone_run_that_does_not_hold_and_says_what_was_lost(tmp_path: Path) -> None:
    root = validate(junit_xml("mockgc simulate", [result("none", "fails")], Gate()), tmp_path)
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == "verdict fails (lost 4 of 10 sessions (lost 3, ack_lost 1))"
    holding = validate(junit_xml("s", [result("retry", "holds", lost=0, ack_lost=0)], Gate()), tmp_path)
    assert holding.find("testsuite/testcase/failure") is None and holding.find("testsuite").get("failures") == "0"


def test_junit_errors_name_why_the_harness_could_not_judge(tmp_path: Path) -> None:
    interrupted = result("none", partial=True)
    unknown = result("retry", "unknown")
    root = validate(junit_xml("s", [interrupted, unknown], Gate()), tmp_path)
    messages = [e.get("message") for e in root.iter("error")]
    assert messages == ["the run was interrupted: its result is partial", "no verdict (unknown)"]
    assert root.find("testsuite").get("time") == "0.000"
    timed = copy.deepcopy(result("none", "holds", lost=0, ack_lost=0)) | {"harness": {"load_seconds": 12.5}}
    case = validate(junit_xml("s", [timed], Gate()), tmp_path).find("testsuite/testcase")
    assert case is not None and case.get("time") == "12.500"


def test_the_schema_refuses_what_ci_servers_would_not_read(tmp_path: Path) -> None:
    import xmlschema

    schema = xmlschema.XMLSchema(SCHEMA)
    assert not schema.is_valid('<testsuites><testsuite name="x"><testcase name="a"/></testsuite></testsuites>')
    assert not schema.is_valid('<testsuites><testsuite tests="1"><testcase/></testsuite></testsuites>')
    assert not schema.is_valid('<testsuites><testsuite tests="one"><testcase name="a"/></testsuite></testsuites>')
    assert schema.is_valid('<testsuites><testsuite tests="1"><testcase name="a"/></testsuite></testsuites>')


# -- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("2.5", 2.5), (45, 45.0), (1.5, 1.5), ("30s", 30.0), ("1m", 60.0), ("1h30m", 5400.0),
     ("1h30m10s", 5410.0), ("2h", 7200.0), ("1m0.5s", 60.5), (" 10S ", 10.0)],
)  # fmt: skip
def test_durations_in_locusts_form(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1x", "m", "1.5m", "1s30m", "-", "nan", "inf", True, "1 m"])
def test_a_bad_duration_names_the_accepted_forms(text: object) -> None:
    with pytest.raises(ValueError, match=r"is not a duration: use seconds \(30 or 2.5\), or Locust's form: 30s, 1m"):
        parse_duration(text, "duration")
