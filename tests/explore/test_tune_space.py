"""The search spaces: each strategy's declared one fits its own checks; `--space` narrows it, bad spaces are refused."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mockgc.cli import main
from mockgc.explore.tune.space import Space, SpaceError, build_space, rounded
from mockgc.flows.context import FlowContext, SessionRef
from mockgc.flows.effects import Effect, Sleep
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import count, number, tunable_number
from mockgc.strategies.registry import REGISTRY, parameters

DECLARED = [name for name, entry in REGISTRY.items() if entry.strategy.space]


class PausedWrite(Mitigation):
    """A user's strategy with its own space: a pause before one plain Set Data."""

    name = "paused-write"
    space = (tunable_number("pause_s", 0.5, 1.5, trades="a longer pause waits out longer holds"),)

    def __init__(self, *, pause_s: float = 1.0, repeats: int = 1) -> None:
        self.pause_s = number("pause_s", pause_s)
        self.repeats = count("repeats", repeats, high=5)

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        yield Sleep(self.pause_s)
        return (yield from super().set_data(ctx, session, name, value))


class Undeclared(PausedWrite):
    """The same, declaring nothing: only --space can tune it."""

    space = ()


def tune(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["tune", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("name", DECLARED)
def test_each_declared_space_names_real_parameters_and_holds_its_defaults(name: str) -> None:
    strategy = REGISTRY[name].strategy
    known = parameters(strategy)
    space = Space(name, strategy.space, defaults={t.name: known[t.name] for t in strategy.space})
    for tunable in strategy.space:
        assert tunable.name in known, tunable
        assert tunable.trades, f"{name}.{tunable.name} must say what it trades"
    # The defaults lie in the space, so the search starts from them and the front shows where they stand.
    assert space.contains(space.default_setting()), name


@pytest.mark.parametrize("name", [n for n in DECLARED if n != "data-action"])
def test_each_declared_space_builds_at_its_low_and_high_ends(name: str) -> None:
    space = build_space(name)  # raises when the strategy refuses either end
    assert {t.name for t in space.tunables} == {t.name for t in REGISTRY[name].strategy.space}


def test_a_real_is_drawn_rounded_to_three_digits_inside_its_range() -> None:
    base = next(t for t in REGISTRY["backoff-verify"].strategy.space if t.name == "base_s")
    assert rounded(0.123456, base) == 0.123
    assert rounded(1.99999, base) == 2.0
    assert rounded(0.0099999, base) == 0.01


def test_space_narrows_a_range_fixes_a_value_and_keeps_the_rest() -> None:
    space = build_space("retry", ["delay_s=1..4:log", "retry_evaluate=true"], {"attempts": 5})
    tuned = {t.name: t for t in space.tunables}
    assert set(tuned) == {"delay_s"}
    assert (tuned["delay_s"].low, tuned["delay_s"].high, tuned["delay_s"].log) == (1.0, 4.0, True)
    assert space.fixed == {"retry_evaluate": True, "attempts": 5}
    assert space.default_setting() == {"delay_s": 2.0, "retry_evaluate": True, "attempts": 5}


def test_a_users_strategy_brings_its_own_space_and_space_can_tune_an_undeclared_number() -> None:
    own = build_space("tests.explore.test_tune_space:PausedWrite")
    assert [(t.name, t.low, t.high) for t in own.tunables] == [("pause_s", 0.5, 1.5)]
    widened = build_space("tests.explore.test_tune_space:Undeclared", ["repeats=1..5"])
    assert [(t.name, t.kind, t.low, t.high) for t in widened.tunables] == [("repeats", "int", 1, 5)]
    with pytest.raises(SpaceError, match="nothing to tune"):
        build_space("tests.explore.test_tune_space:Undeclared")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-m", "backoff-verify", "--space", "base_s=2..1"], "LO must not exceed HI"),
        (["-m", "backoff-verify", "--space", "base_s=a..b"], "LO and HI must be numbers"),
        (["-m", "backoff-verify", "--space", "base_s=0..2:log"], "a log scale needs LO above 0"),
        (["-m", "backoff-verify", "--space", "base_s=0.1..2:lin"], "the only scale is :log"),
        (["-m", "backoff-verify", "--space", "max_attempts=1.5..3"], "whole number"),
        (["-m", "backoff-verify", "--space", "max_attempts=0..10"], "bad space for backoff-verify at its low ends"),
        (["-m", "backoff-verify", "--space", "base_s=0.1..1e9"], "at its high ends"),
        (["-m", "backoff-verify", "--space", "nope=1..2"], "backoff-verify has no parameter 'nope'"),
        (["-m", "backoff-verify", "--space", "base_s"], "--space takes KEY=LO..HI"),
        (["-m", "backoff-verify", "--param", "nope=1"], "backoff-verify has no parameter 'nope'"),
        (["-m", "retry", "--space", "retry_evaluate=0..1"], "retry_evaluate is not a number"),
        (["-m", "soft-hold", "--space", "min_ms=900..1000", "--space", "max_ms=0..800"], "must not exceed max_ms"),
        (["-m", "external-store"], "external-store has nothing to tune"),
        (["-m", "none"], "none has nothing to tune"),
        (["-m", "async-worker", "--param", "external_worker=notifications"], "async-worker cannot be tuned"),
        (
            ["-m", "data-action", "--param", "set_url=http://127.0.0.1:9/s", "--param", "get_url=http://127.0.0.1:9/g"],
            "data-action cannot be tuned: data-action calls your own service",
        ),
        (["-m", "nope"], "unknown mitigation 'nope'"),
        (["-m", "retry", "-p", "nope"], "unknown fault profile 'nope'"),
        (["-m", "retry", "--objective", "speed"], "unknown objective 'speed'"),
        (["-m", "retry", "--margin", "-0.5"], "margin must be from 0"),
        (["-m", "retry", "--seeds", "0"], "seeds must be from 1"),
        (["-m", "retry", "--budget", "0"], "budget must be from 1"),
        (["-m", "retry", "--sessions", "0"], "sessions must be an integer from 1"),
        (["-m", "retry", "--study", "x"], "--study names a study in --storage"),
        (["-m", "retry", "--storage", "sqlite:////no/such/dir/tune.db"], "cannot open the study storage"),
    ],
)
def test_a_bad_space_or_option_is_one_line_and_exit_2(args: list[str], says: str, tmp_path: Path) -> None:
    if "-p" not in args:
        args = [*args, "-p", "seed-default"]
    code, output = tune(*args, "--out", str(tmp_path / "out"), "-q")
    assert code == 2, output
    assert says in output, output
    assert len(output.strip().splitlines()) == 1, output
    assert not (tmp_path / "out" / "tune.json").exists()


def test_a_profile_file_is_read_and_a_bad_one_refused(tmp_path: Path) -> None:
    from mockgc.explore.tune.tuning import load_profile
    from mockgc.faults import get_profile

    good = tmp_path / "mine.json"
    good.write_text(json.dumps(get_profile("long-hold").with_publish(hold_ms=4000).to_dict()))
    assert load_profile(str(good)).publish.hold_ms == 4000
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "publish": {"hold_ms": -1}}')
    code, output = tune("-m", "retry", "-p", str(bad), "--out", str(tmp_path / "o"))
    assert code == 2 and "cannot read the fault profile" in output, output


def test_mitigations_shows_each_space_with_what_it_trades() -> None:
    result = CliRunner().invoke(main, ["mitigations"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "base_s = 0.1 tune 0.01..2:log: a longer first backoff" in text
    assert "retry_evaluate = false tune false|true: retry the branch too" in text
    assert 'variant = "operation" tune operation|weekly' in text
    assert "--space KEY=LO..HI[:log]" in text
