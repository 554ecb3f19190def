"""The run spec: built and validated once, from options or a file, the same JSON for every process, `all` in one order."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mockgc.cli import main
from mockgc.inlocust.driver import spec_of
from mockgc.spec.runspec import MIN_CALM_S, RunSpec, SpecError, overlapping, parse_offsets, publish_offsets
from mockgc.strategies.plans import plan, plans
from mockgc.strategies.registry import REGISTRY, expand


def test_the_defaults_are_a_valid_spec_and_it_is_frozen() -> None:
    spec = RunSpec()  # checked as it is made
    with pytest.raises(AttributeError):
        spec.seed = 2  # type: ignore[misc]
    assert spec.with_options(seed=2, users=None).seed == 2 and spec.with_options(users=None).users == 50


def test_json_round_trips_and_holds_no_secret() -> None:
    spec = RunSpec().with_options(mitigation="retry", params={"attempts": 5}, publish_at="8, 2", store="memory://")
    document = spec.to_json()
    assert RunSpec.from_json(document) == spec
    assert spec.publish_at == (2.0, 8.0) and json.loads(document)["publish_at"] == [2.0, 8.0]
    assert not {"admin_key", "client_secret", "target", "out"} & set(json.loads(document))


def test_a_toml_file_and_options_on_top(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('[spec]\nmitigation = "retry"\nprofile = "seed-clobber"\nseed = 4\n[spec.params]\nattempts = 5\n')
    spec = RunSpec.load(path)
    assert (spec.mitigation, spec.profile, spec.seed, dict(spec.params)) == (
        "retry",
        "seed-clobber",
        4,
        {"attempts": 5},
    )
    assert spec.with_options(seed=9).profile == "seed-clobber"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sead": 1}, "unknown keys in the spec: sead"),
        ({"mitigation": "no-such"}, "unknown mitigation 'no-such'"),
        ({"mitigation": "retry", "params": {"tries": 2}}, "retry has no parameter 'tries'"),
        ({"duration": "1x"}, "duration '1x' is not a duration: use seconds"),
        ({"expect": {"none": "maybe"}}, "is not NAME=holds or NAME=fails"),
        ({"expect": ["none=fails"]}, "expect must be a table"),
        ({"thresholds": "lost<=0"}, "thresholds must be a list"),
        ({"mitigation": "none", "expect": {"retry": "holds"}}, "the gate names retry, not run here"),
        ({"profile": "nope"}, "unknown fault profile"),
        ({"duration": 5, "publish_at": [6]}, "not inside the 5 s run"),
        ({"sessions": 0}, "sessions must be an integer from 1"),
        ({"params": [1]}, "params must be a table"),
        ({"users": 0}, "users must be at least 1"),
        ({"users": -5}, "users must be at least 1, got -5"),
        ({"spawn_rate": 0}, "spawn rate must be above 0, got 0"),
    ],
)
def test_a_bad_spec_is_one_readable_error(data: dict[str, object], message: str) -> None:
    # The values are checked as the spec is made; the names and parameters as it is resolved, once.
    with pytest.raises(ValueError, match=message):
        plans(RunSpec.from_dict(data))


def test_all_expands_in_the_registrys_order_everywhere() -> None:
    in_all = [name for name, entry in REGISTRY.items() if entry.in_all]
    assert [p.spec.mitigation for p in plans(RunSpec().with_options(mitigation="all"))] == in_all == expand("all")
    assert "data-action" in REGISTRY and "data-action" not in in_all  # it needs the user's URLs
    assert next(iter(REGISTRY)) == "none"
    assert expand(" none, retry ") == ["none", "retry"]
    with pytest.raises(ValueError, match="one process runs one mitigation"):
        plan(RunSpec().with_options(mitigation="none,retry"))


def test_the_live_schedule() -> None:
    assert parse_offsets("15, 5,30s") == (5.0, 15.0, 30.0)
    assert parse_offsets("1m30s, 2m") == (90.0, 120.0)
    # 3 windows of 6.5 s (50 agents, batches of 10 every second, 2.5 s holds) with equal calm around them.
    assert RunSpec().with_options(duration=30, publishes=3).offsets() == [2.625, 11.75, 20.875]
    assert publish_offsets((5.0,), 9, 60) == [5.0]
    assert RunSpec().with_options(publish_at="1,2").simulated_publishes() == 2


def test_spread_publish_windows_never_overlap_a_count_that_does_not_fit_is_refused() -> None:
    # The case: -t 15s with the default 3 publishes of 6.5 s windows overlapped at 0, 4.25 and 8.5 s.
    with pytest.raises(ValueError) as refused:
        RunSpec().with_options(duration=15, publishes=3).offsets()
    assert str(refused.value) == (
        "3 publishes of 6.5 s windows do not fit in a 15 s run with 1 s of calm before, between and after them: "
        "at most 1 fits (--publishes 1), or give the run 24 s (-t 24s); --publish-at places publishes yourself"
    )
    # What the message offers works: the largest count that fits, and the run the asked count needs.
    assert RunSpec().with_options(duration=15, publishes=1).offsets() == [4.25]
    for duration in (24, 30, 61, 600):
        for count in range(1, 12):
            window = 6.5
            try:
                offsets = publish_offsets(None, count, duration, window)
            except ValueError as error:
                assert count * window + (count + 1) * MIN_CALM_S > duration, error
                continue
            starts_and_ends = [(o, o + window) for o in offsets]
            assert starts_and_ends[0][0] >= MIN_CALM_S and starts_and_ends[-1][1] <= duration - MIN_CALM_S + 1e-6
            assert all(b[0] - a[1] >= MIN_CALM_S - 1e-6 for a, b in itertools.pairwise(starts_and_ends))
    assert publish_offsets(None, 0, 5, 6.5) == []
    # Explicit offsets are the user's: kept, and their overlaps named.
    assert publish_offsets("0,3,20", 3, 30, 6.5) == [0.0, 3.0, 20.0]
    assert overlapping([0.0, 3.0, 20.0], 6.5) == [(0, 1)]
    assert overlapping([2.625, 11.75, 20.875], 6.5) == []


class _Options:
    """Locust's parsed options, as the locustfile reads them."""

    def __init__(self, **values: object) -> None:
        defaults: dict[str, object] = {"spec": "", "mitigation": "none", "mitigation_params": "", "seed": 1}
        defaults |= {"store": "", "publishes": 3, "publish_at": "", "run_time": None, "think_time": 1.0}
        defaults |= {"drain_timeout": 10.0}
        self.__dict__.update(defaults | values)


def test_durations_take_locusts_form_in_options_files_and_every_process(tmp_path: Path) -> None:
    spec = RunSpec().with_options(duration="1m30s", think_time="2s", drain_timeout="1m", max_flow_seconds="6h")
    assert (spec.duration, spec.think_time, spec.drain_timeout, spec.max_flow_seconds) == (90.0, 2.0, 60.0, 21600.0)
    path = tmp_path / "run.toml"
    path.write_text('duration = "2m"\npublish_at = "30s,1m"\n')
    assert (RunSpec.load(path).duration, RunSpec.load(path).publish_at) == (120.0, (30.0, 60.0))
    # config.json keeps seconds, so every process reads the same numbers.
    assert json.loads(spec.to_json())["duration"] == 90.0
    assert spec_of(_Options(run_time="1m", drain_timeout="5s")).duration == 60.0
    assert spec_of(_Options(run_time="1m", drain_timeout="5s")).drain_timeout == 5.0


def test_the_gate_travels_in_the_spec_and_each_run_of_a_matrix_gets_its_part() -> None:
    spec = RunSpec().with_options(
        mitigation="none,retry", expect={"none": "fails", "retry": "holds"}, thresholds=["retry:lost<=0", "ok>=1"]
    )
    assert RunSpec.from_json(spec.to_json()) == spec
    one = spec.for_mitigation("none")
    assert dict(one.expect) == {"none": "fails"} and one.thresholds == ("ok>=1",)
    assert RunSpec.from_json(one.to_json()) == one  # a Locust process validates what it gets


def test_a_locust_process_takes_the_runs_spec_whole_or_builds_one_by_hand() -> None:
    spec = RunSpec().with_options(mitigation="retry", params={"attempts": 4}, seed=3, duration=12, publish_at="2")
    assert spec_of(_Options(spec=spec.to_json(), seed=99)) == spec  # the separate options are unused then
    by_hand = spec_of(_Options(mitigation="retry", mitigation_params='{"attempts": 2}', run_time=20, publish_at="5"))
    assert (by_hand.mitigation, dict(by_hand.params), by_hand.duration, by_hand.offsets()) == (
        "retry",
        {"attempts": 2},
        20.0,
        [5.0],
    )


def test_simulate_takes_a_spec_file_and_its_options_win(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text('mitigation = "retry"\nprofile = "seed-clobber"\nsessions = 40\nseed = 5\n[params]\nattempts = 4\n')
    out = tmp_path / "r.json"
    done = CliRunner().invoke(main, ["simulate", "--spec", str(path), "--seed", "6", "--json", str(out)])
    assert done.exit_code in (0, 1), done.output
    result = json.loads(out.read_text())
    assert (result["mitigation"], result["fault_profile"], result["seed"]) == ("retry", "seed-clobber", 6)
    assert result["sessions"]["total"] == 40 and result["mitigation_params"]["attempts"] == 4
    # The same run through options alone gives the same bytes.
    again = tmp_path / "again.json"
    args = ["simulate", "-m", "retry", "-p", "seed-clobber", "-n", "40", "-s", "6", "--param", "attempts=4"]
    assert CliRunner().invoke(main, [*args, "--json", str(again)]).exit_code in (0, 1)
    assert again.read_bytes() == out.read_bytes()


def test_the_file_and_the_options_are_validated_once_together(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text("sessions = 0\n")  # not a run on its own; the option completes it
    assert CliRunner().invoke(main, ["simulate", "--spec", str(path), "-n", "20"]).exit_code in (0, 1)
    assert "sessions must be an integer from 1" in CliRunner().invoke(main, ["simulate", "--spec", str(path)]).output


def test_a_bad_spec_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("sead = 1\n")
    done = CliRunner().invoke(main, ["simulate", "--spec", str(path)])
    assert done.exit_code == 2 and done.output.strip().splitlines() == [
        f"Error: unknown keys in {path}: sead (known: {', '.join(sorted(RunSpec().as_dict()))})"
    ]


def test_the_readmes_spec_file_is_a_valid_spec() -> None:
    import tomllib

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    spec = RunSpec.from_dict(tomllib.loads(block), source="README.md")
    assert (spec.mitigation, spec.offsets(), dict(spec.params)) == ("retry", [5.0, 15.0], {"attempts": 5})


# A value of the wrong type for every field: each is refused with one line naming the key, the value and
# what is wanted (SpecError, exit 2 from the CLI), never a traceback or a value passed on to a process.
WRONG_TYPES: dict[str, list[object]] = {
    "int": ["lots", 1.5, True, [1]],
    "float": ["lots", True, [1]],
    "str": [5, True, ["a"]],
    "optional str": [5, True],
    "table": [[1], "x", 3],
    "list": [5, True, {"a": 1}],
    "bool": ["yes", 1, [True]],
}


def _kind(name: str) -> str:
    annotation = str(next(f.type for f in dataclasses.fields(RunSpec) if f.name == name))
    for key, kind in (
        ("Mapping", "table"),
        ("tuple", "list"),
        ("None", "optional str"),
        ("bool", "bool"),
        ("int", "int"),
    ):
        if key in annotation:
            return kind
    return "float" if "float" in annotation else "str"


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(RunSpec)])
def test_every_field_refuses_a_value_of_the_wrong_type_in_one_line(name: str) -> None:
    for value in WRONG_TYPES[_kind(name)]:
        with pytest.raises(SpecError) as caught:
            RunSpec.from_dict({name: value})
        message = str(caught.value)
        assert "\n" not in message, message
        # the key as written, or as a person reads it (`max flow seconds '1x' is not a duration`)
        assert (name in message or name.replace("_", " ") in message) and repr(value) in message, message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"users": "lots"}, "users must be an integer, got 'lots'"),
        ({"users": 1.5}, "users must be an integer, got 1.5"),
        ({"seed": True}, "seed must be an integer, got True"),
        ({"users": -3}, "users must be at least 1"),
        ({"agents": -1}, "agents must be an integer from 1"),
        ({"think_time": -1}, "think time and drain timeout must not be negative"),
        ({"workers": -2}, "workers must not be negative"),
        ({"publish_at": [-5]}, "publish offsets must be between 0 and 86400 seconds"),
        ({"publish_at": 5}, "publish_at must be a list of seconds"),
        ({"spawn_rate": "fast"}, "spawn_rate must be a number, got 'fast'"),
        ({"store": 5}, "store must be a string, got 5"),
        ({"max_flow_seconds": "lots"}, "max flow seconds 'lots' is not a duration"),
    ],
)
def test_a_mistyped_or_negative_value_names_the_key_the_value_and_what_is_wanted(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        RunSpec.from_dict(data)


@pytest.mark.parametrize("command", ["simulate", "run"])
def test_a_mistyped_spec_file_is_exit_2_and_one_line_in_run_and_simulate(tmp_path: Path, command: str) -> None:
    path = tmp_path / "spec.toml"
    out = ["--out", str(tmp_path / "out")] if command == "run" else []
    for text, message in (('users = "lots"\n', "users must be an integer, got 'lots'"), ("users = 1.5\n", "got 1.5")):
        path.write_text(text)
        done = CliRunner().invoke(main, [command, "--spec", str(path), *out])
        assert done.exit_code == 2, done.output
        assert done.output.count("\n") == 1 and message in done.output, done.output
        assert not (tmp_path / "out").exists()  # refused before anything started


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        # A [spec] table used to win silently, the top-level keys dropped.
        ("mixed.toml", 'users = 5\n[spec]\nmitigation = "retry"\n', "has a [spec] table and top-level keys (users)"),
        ("deep.toml", "users = " + "[" * 100_000 + "]" * 100_000 + "\n", "nests too deeply to be a spec"),
        ("deep.json", "[" * 200_000 + "]" * 200_000, "nests too deeply to be a spec"),
        ("table.toml", "spec = 5\n", "[spec] must be a table"),
    ],
)
def test_a_spec_file_that_cannot_be_a_spec_is_one_line_and_exit_2(
    tmp_path: Path, name: str, text: str, words: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    for command in ("simulate", "run"):
        done = CliRunner().invoke(main, [command, "--spec", str(path)])
        assert done.exit_code == 2, done.output
        assert done.output.count("\n") == 1 and words in done.output, done.output


def test_a_spec_in_one_place_is_read_either_way(tmp_path: Path) -> None:
    table, top = tmp_path / "table.toml", tmp_path / "top.toml"
    table.write_text('[spec]\nmitigation = "retry"\nusers = 5\n')
    top.write_text('mitigation = "retry"\nusers = 5\n')
    assert RunSpec.load(table) == RunSpec.load(top) == RunSpec(mitigation="retry", users=5)
