"""`mockgc tune` end to end on small searches: the margin rule, determinism, Ctrl-C, the held-out confirmation,
the honest exits, and the two runs the issue asks for (backoff-verify and retry on long-hold)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import psutil
from click.testing import CliRunner

from mockgc.cli import main
from mockgc.explore.tune.evaluate import TunePlan, evaluate
from mockgc.faults import get_profile
from mockgc.flows.context import FlowContext, SessionRef
from mockgc.flows.effects import Call, Effect, Sleep
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import number, tunable_number
from mockgc.spec.runspec import RunSpec

# On `fast` (300 ms holds), two tries 0.35-0.45 s apart outlast every hold; with holds twice as long they do not.
JUST_ENOUGH = ["-m", "retry", "-p", "fast", "--space", "delay_s=0.35..0.45", "--space", "attempts=2"]
JUST_ENOUGH += ["--space", "retry_evaluate=true", "--seeds", "2", "--sessions", "500", "--budget", "3", "-j", "1"]


def tune(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["tune", "-q", *args])
    return result.exit_code, " ".join(result.output.split())


def document(out: Path) -> dict[str, Any]:
    return json.loads((out / "tune.json").read_text())


def test_margin_rule_a_setting_holding_on_the_exact_profile_only_does_not_hold() -> None:
    setting = {"attempts": 2, "delay_s": 0.4, "retry_evaluate": True}
    plan = TunePlan("retry", get_profile("fast"), margin=1.0, seeds=(1, 2), sessions=500)
    judged = evaluate(plan, setting)
    exact = [r for r in judged["runs"] if not r["stretched"]]
    stretched = [r for r in judged["runs"] if r["stretched"]]
    assert [r["verdict"] for r in exact] == ["holds", "holds"]
    assert {r["profile"] for r in stretched} == {"fast+100%"} and any(r["verdict"] == "fails" for r in stretched)
    assert judged["holds"] is False and judged["failing"] > 0
    assert evaluate(TunePlan("retry", get_profile("fast"), margin=0.0, seeds=(1, 2), sessions=500), setting)["holds"]


def test_margin_rule_through_the_command(tmp_path: Path) -> None:
    code, output = tune(*JUST_ENOUGH, "--margin", "1.0", "--out", str(tmp_path / "m"))
    assert code == 1, output
    assert "nothing held: none of the 3 settings judged held on seeds 1, 2 and on fast+100%" in output
    assert "it held on fast itself, not with the 100% margin (fast+100%)" in output
    judged = document(tmp_path / "m")
    assert judged["front"] == [] and judged["chosen"] is None
    for trial in judged["trials"]:  # every one held on the exact profile, and is still not reported as holding
        assert not trial["holds"]
        assert all(r["verdict"] == "holds" for r in trial["runs"] if not r["stretched"])
    assert not (tmp_path / "m" / "tuned.toml").exists()
    code, output = tune(*JUST_ENOUGH, "--margin", "0", "--out", str(tmp_path / "exact"))
    assert code == 0 and "chosen" in output, output


def test_same_arguments_give_the_same_tune_json_whatever_the_jobs(tmp_path: Path) -> None:
    args = ["-m", "backoff-verify", "-p", "seed-default", "--budget", "9", "--seeds", "1", "--sessions", "120"]
    for jobs, name in (("1", "a"), ("2", "b")):
        code, output = tune(*args, "-j", jobs, "--out", str(tmp_path / name))
        assert code in (0, 1), output
    first, second = (tmp_path / "a" / "tune.json").read_bytes(), (tmp_path / "b" / "tune.json").read_bytes()
    assert first == second
    judged = json.loads(first)
    assert len(judged["trials"]) == 9 and judged["trials"][0]["setting"] == judged["defaults"]["setting"]
    assert len({json.dumps(t["setting"], sort_keys=True) for t in judged["trials"]}) > 5  # it searched
    code, _ = tune(*args, "-j", "1", "--seed", "2", "--out", str(tmp_path / "c"))
    assert (tmp_path / "c" / "tune.json").read_bytes() != first  # another seed, another search


def test_ctrl_c_keeps_the_trials_judged_and_ends_the_workers(tmp_path: Path) -> None:
    out = tmp_path / "cut"
    command = [sys.executable, "-m", "mockgc.cli", "tune", "-m", "backoff-verify", "-p", "seed-default", "-q"]
    command += ["--budget", "400", "--seeds", "1", "--sessions", "300", "-j", "2", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        seen: list[Any] = []
        deadline = time.monotonic() + 60
        while not seen and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
            if (out / "tune.json").exists():
                seen = document(out)["trials"]
        assert seen, "no batch was judged within a minute"
        workers = psutil.Process(process.pid).children(recursive=True)
        assert len(workers) == 2
        os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    text = output.decode()
    assert process.returncode == 130, text
    assert "interrupted" in text and "Traceback" not in text, text
    kept = document(out)
    assert kept["interrupted"] is True
    assert len(seen) <= len(kept["trials"]) < 400
    assert [t["number"] for t in kept["trials"][: len(seen)]] == [t["number"] for t in seen]
    assert all("runs" in t for t in kept["trials"])  # only whole judgements are kept
    assert (out / "pareto.png").exists() and (out / "report.html").exists()
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]


class HeldOutCheat(Mitigation):
    """Holds on seeds 1 and 2 only when `care` is low (cheap: one call fewer, but a pause); a high `care` holds
    everywhere. So the cheapest setting of the search fails on the held-out seeds 3 and 4."""

    name = "held-out-cheat"
    space = (tunable_number("care", 0.0, 1.0, trades="more care reads back, at one more request"),)

    def __init__(self, *, care: float = 0.9) -> None:
        self.care = number("care", care, high=1.0)

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        if self.care < 0.5:
            yield Sleep(1.0)
            if ctx.seed >= 3:
                return False  # never written: the customer gets the default branch
            return (yield from super().set_data(ctx, session, name, value))
        written = yield from super().set_data(ctx, session, name, value)
        yield Call("read_session", {"sessionId": session.session_id})
        return written


def test_a_setting_failing_on_held_out_seeds_is_reported_and_the_next_on_the_front_tried(tmp_path: Path) -> None:
    code, output = tune(
        "-m", "tests.explore.test_tune:HeldOutCheat", "-p", "calm", "--seeds", "2", "--sessions", "40",
        "--budget", "8", "-j", "1", "--margin", "0", "--out", str(tmp_path / "h"),
    )  # fmt: skip
    assert code == 0, output
    assert "failed on the held-out seeds" in output and "trying the next on the front" in output
    judged = document(tmp_path / "h")
    *cheats, honest = judged["confirmations"]
    assert cheats and all(c["setting"]["care"] < 0.5 and not c["holds"] for c in cheats)
    assert honest["setting"]["care"] >= 0.5 and honest["holds"]
    assert judged["chosen"]["setting"] == honest["setting"]
    assert [c["number"] for c in judged["confirmations"]] == judged["front"][: len(judged["confirmations"])]


def test_backoff_verify_on_long_hold_beats_the_defaults_on_held_out_seeds(tmp_path: Path) -> None:
    out = tmp_path / "bv"
    code, output = tune(
        "-m", "backoff-verify", "-p", "long-hold", "--budget", "16", "--seeds", "1", "--sessions", "400", "-j", "2",
        "--threshold", "requests_per_session<=20", "--junit", str(tmp_path / "junit.xml"), "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    judged = document(out)
    chosen, defaults = judged["chosen"], judged["defaults"]
    assert judged["confirmations"][-1]["holds"] and judged["confirmations"][-1]["setting"] == chosen["setting"]
    assert "confirmed on the held-out seed 2" in output
    if chosen["figures"]["requests_per_session"] < defaults["figures"]["requests_per_session"]:
        assert "against the defaults: requests_per_session" in output
    else:
        assert judged["defaults_on_front"] and "the defaults are" in output and "on the front" in output
    junit = (tmp_path / "junit.xml").read_text()  # the gate judged the confirmation's two runs: both passed
    assert 'tests="2"' in junit and 'failures="0"' in junit and "requests_per_session&lt;=20" in junit
    spec = RunSpec.load(out / "tuned.toml")
    assert (spec.mitigation, spec.profile, spec.seed, dict(spec.params)) == (
        "backoff-verify", "long-hold", 2, chosen["setting"],
    )  # fmt: skip
    simulated = CliRunner().invoke(main, ["simulate", "--spec", str(out / "tuned.toml")])
    assert simulated.exit_code == 0, simulated.output
    assert (
        f"mockgc simulate --spec {out / 'tuned.toml'}" in output and f"mockgc run --spec {out / 'tuned.toml'}" in output
    )


def test_retry_on_long_hold_holds_only_with_evaluate_retried(tmp_path: Path) -> None:
    code, output = tune(
        "-m", "retry", "-p", "long-hold", "--budget", "16", "--seeds", "1", "--sessions", "300", "-j", "2",
        "--out", str(tmp_path / "r"),
    )  # fmt: skip
    judged = document(tmp_path / "r")
    assert code == 0, output
    assert judged["chosen"]["setting"]["retry_evaluate"] is True
    # The truth table's reason: a plain evaluate landing in a hold takes the default branch, whatever the retries.
    assert not any(t["holds"] for t in judged["trials"] if not t["setting"]["retry_evaluate"])
    assert "the defaults (attempts=3, delay_s=2.0, retry_evaluate=false) do not hold here" in output


def test_nothing_held_names_the_closest_setting_and_why(tmp_path: Path) -> None:
    code, output = tune(
        "-m", "retry", "-p", "long-hold", "--space", "attempts=1..3", "--space", "delay_s=0.5..2",
        "--space", "retry_evaluate=true", "--budget", "6", "--seeds", "1", "--sessions", "300", "-j", "1",
        "--junit", str(tmp_path / "j.xml"), "--out", str(tmp_path / "n"),
    )  # fmt: skip
    assert code == 1, output
    assert "nothing held" in output and "closest (trial" in output
    assert "the 6 s holds outlast every setting tried: the longest any keeps trying is 4 s" in output
    closest = document(tmp_path / "n")["closest"]
    assert closest["failing"] > 0 and closest["why"]


def test_the_gate_judges_the_confirmation(tmp_path: Path) -> None:
    code, output = tune(*JUST_ENOUGH, "--margin", "0", "--expect", "retry=fails", "--out", str(tmp_path / "g"))
    assert code == 1, output
    assert "gate broken (retry on fast): expected fails, got holds" in output
    code, output = tune(*JUST_ENOUGH, "--margin", "0", "--expect", "backoff-verify=holds", "--out", str(tmp_path / "x"))
    assert code == 2 and "backoff-verify" in output, output
