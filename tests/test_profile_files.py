"""Profiles as files and distributions: parsing, the plan of a publish's holds, stretching, and every command that takes one."""

from __future__ import annotations

import json
import random
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from mockgc.cli import main
from mockgc.clock import VirtualClock
from mockgc.faults import (
    PROFILES,
    Distribution,
    FaultProfile,
    PublishLock,
    ReplayedPublish,
    get_profile,
    load_profile_file,
    plan_holds,
)
from mockgc.platform.domain.backend import Platform
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import Settings
from mockgc.spec.runspec import RunSpec
from tests.conftest import simulate

LOGNORMAL = {"distribution": "lognormal", "median": 4000, "sigma": 0.2}

PROFILE_TOML = """
name = "acme-monday"
description = "our Monday publish"

[publish]
batch_size = 25
interval_ms = 1500
hold_ms = {distribution = "lognormal", median = 4000, sigma = 0.2}
kind = "clobber"
toxicity = 0.8

[[toxics]]
name = "slow"
type = "latency"
attributes = {latency_ms = 100}
"""


def write(tmp_path: Path, text: str, name: str = "profile.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the model ---------------------------------------------------------------------------------------------


def test_built_in_profiles_serialize_exactly_as_before() -> None:
    """The result JSON's `publish` (and so the goldens) must not change for the built-in profiles."""
    for profile in PROFILES.values():
        before = {k: v for k, v in asdict(profile.publish).items() if k != "replay"}
        assert profile.publish.to_dict() == before
        assert list(profile.publish.to_dict()) == [
            "batch_size", "interval_ms", "hold_ms", "kind", "toxicity", "platform_version", "start_delay_ms",
        ]  # fmt: skip


def test_a_profile_file_reads_into_a_profile(tmp_path: Path) -> None:
    profile = load_profile_file(write(tmp_path, PROFILE_TOML))
    assert profile.name == "acme-monday" and profile.description == "our Monday publish"
    lock = profile.publish
    assert (lock.batch_size, lock.interval_ms, lock.kind, lock.toxicity) == (25, 1500, "clobber", 0.8)
    assert lock.hold_ms == Distribution("lognormal", 4000.0, 0.2)
    assert profile.toxics[0].name == "slow"
    # The file's keys are the profile's: its dictionary reads back into the same profile.
    assert FaultProfile.from_dict(profile.to_dict()) == profile


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("name = ", "is not TOML"),
        ('name = "x"\nbogus = 1', "unknown keys bogus"),
        ('name = "x"\n[publish]\nbatch_size = "ten"', "publish.batch_size has the wrong type"),
        ('name = "x"\n[publish]\nbatch_size = 0', "batch_size must be at least 1"),
        ('name = "x"\n[publish]\nhold_ms = {distribution = "pareto", median = 1}', "distribution must be one of"),
        ('name = "x"\n[publish]\nhold_ms = {distribution = "lognormal"}', "needs a median"),
        ('name = "x"\n[publish]\nhold_ms = {distribution = "lognormal", median = -5}', "hold_ms.median"),
        ('name = "x"\n[publish]\nhold_ms = {distribution = "lognormal", median = 5, sigma = 9}', "sigma"),
        ('name = "x"\n[publish]\nhold_ms = {distribution = "uniform", min = 9, max = 1}', "min must not be above max"),
        ('name = "x"\n[publish]\nhold_ms = {distribution = "normal", median = 5, spread = 1}', "unknown keys spread"),
        ('name = "x"\n[publish]\nreplay = [{holds = [[0, 100]]}]', "[offset_ms, hold_ms, toxic]"),
        ('name = "x"\n[publish]\nreplay = [{holds = [[0, 100, 1]]}]', "toxic flag"),
        ("description = 'no name'", "needs a name"),
    ],
)
def test_a_bad_profile_file_is_one_line_naming_the_file(tmp_path: Path, text: str, says: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match="profile file") as caught:
        load_profile_file(path)
    message = str(caught.value)
    assert says in message and str(path) in message and "\n" not in message


def test_a_missing_or_binary_profile_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the profile file"):
        load_profile_file(tmp_path / "absent.toml")
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="is not TOML"):
        load_profile_file(path)


def test_a_distribution_draws_with_its_seed_within_its_bounds() -> None:
    lognormal = Distribution.from_dict(LOGNORMAL)
    draws = [lognormal.draw(random.Random(f"s:{i}")) for i in range(4000)]
    assert draws == [lognormal.draw(random.Random(f"s:{i}")) for i in range(4000)]
    assert 3850 < statistics.median(draws) < 4150  # the median is the median
    assert 0.18 < statistics.stdev([__import__("math").log(d) for d in draws]) < 0.22
    bounded = Distribution.from_dict({"distribution": "normal", "median": 100, "sigma": 500, "min": 50, "max": 150})
    assert all(50 <= bounded.draw(random.Random(i)) <= 150 for i in range(500))
    uniform = Distribution.from_dict({"distribution": "uniform", "min": 10, "max": 20})
    assert uniform.median == 15 and all(10 <= uniform.draw(random.Random(i)) <= 20 for i in range(500))


def test_constant_plans_are_the_old_arithmetic() -> None:
    lock = get_profile("fast").publish
    planned = plan_holds(lock, 12, 0, seed=1)
    interval_s, hold_s = lock.interval_ms / 1000, lock.hold_ms / 1000
    assert [(p.batch, p.offset_s, p.hold_s) for p in planned] == [
        (i // 5, (i // 5) * interval_s, hold_s) for i in range(12)
    ]


def test_a_distribution_plan_is_seeded_per_publish_and_shares_batch_starts() -> None:
    lock = PublishLock(
        batch_size=4, interval_ms=Distribution("normal", 1000.0, 100.0), hold_ms=Distribution("lognormal", 3000.0, 0.3)
    )
    plan = plan_holds(lock, 10, 0, seed=5)
    assert plan == plan_holds(lock, 10, 0, seed=5)
    assert plan != plan_holds(lock, 10, 1, seed=5) and plan != plan_holds(lock, 10, 0, seed=6)
    for batch in range(3):
        offsets = {p.offset_s for p in plan if p.batch == batch}
        assert len(offsets) == 1  # a batch starts together; only its holds differ
    assert len({p.hold_s for p in plan}) == 10
    gaps = [plan[4].offset_s - plan[0].offset_s, plan[8].offset_s - plan[4].offset_s]
    assert all(0.6 < gap < 1.4 for gap in gaps) and gaps[0] != gaps[1]


def test_a_replay_maps_recorded_holds_onto_the_agents() -> None:
    recorded = ReplayedPublish(
        ((0.0, 2000.0, True), (0.0, 2500.0, False), (1000.0, 3000.0, True), (1000.0, 1000.0, True))
    )
    lock = PublishLock(replay=(recorded, ReplayedPublish(((0.0, 500.0, True),))))
    same = plan_holds(lock, 4, 0, seed=1)
    assert [(p.batch, p.offset_s, p.hold_s, p.toxic) for p in same] == [
        (0, 0.0, 2.0, True), (0, 0.0, 2.5, False), (1, 1.0, 3.0, True), (1, 1.0, 1.0, True),
    ]  # fmt: skip
    fewer = plan_holds(lock, 2, 0, seed=1)  # every other recorded hold, spread over the publish
    assert [(p.offset_s, p.hold_s) for p in fewer] == [(0.0, 2.0), (1.0, 3.0)]
    more = plan_holds(lock, 8, 0, seed=1)
    assert [p.hold_s for p in more] == [2.0, 2.0, 2.5, 2.5, 3.0, 3.0, 1.0, 1.0]
    cycled = plan_holds(lock, 3, 3, seed=1)  # publish 3 of a two-publish replay replays the second
    assert {(p.offset_s, p.hold_s) for p in cycled} == {(0.0, 0.5)}


def test_stretched_lengthens_holds_and_intervals_distributions_and_replays_too() -> None:
    base = FaultProfile(
        "x",
        "",
        PublishLock(batch_size=7, interval_ms=1000, hold_ms=Distribution("lognormal", 2000.0, 0.2), start_delay_ms=40),
    )
    longer = base.stretched(1.25)
    assert longer.name == "x+25%"
    assert (longer.publish.batch_size, longer.publish.start_delay_ms, longer.publish.kind) == (7, 40, "reject")
    assert longer.publish.interval_ms == 1250
    assert longer.publish.hold_ms == Distribution("lognormal", 2500.0, 0.2)
    replayed = FaultProfile("r", "", PublishLock(replay=(ReplayedPublish(((100.0, 2000.0, True),)),))).stretched(2)
    assert replayed.publish.replay[0].holds == ((200.0, 4000.0, True),)
    assert get_profile("seed-default").stretched(1.0).publish.hold_ms == 2500
    for bad in (0, 0.5, 101, True, "2"):
        with pytest.raises(ValueError, match="stretch factor"):
            base.stretched(bad)  # type: ignore[arg-type]


# -- the platform and the simulator on them --------------------------------------------------------------------


def test_a_distribution_profile_holds_each_agent_its_own_time_and_flips_it_then() -> None:
    profile = FaultProfile(
        "d", "", PublishLock(batch_size=5, interval_ms=1000, hold_ms=Distribution("lognormal", 3000.0, 0.3))
    )
    clock = VirtualClock(1_795_000_000.0)
    platform = Platform(Settings(seed=3, agents=12).org, profile, clock)
    operation = platform.publish_schedule()
    (window,) = platform.lock_windows()
    flips = dict(window["flips"])
    assert len(flips) == 12 and len(set(flips.values())) == 12  # each agent its own end
    planned = plan_holds(profile.publish, 12, 0, seed=3)
    members = [agent.id for agent in platform.users.members(operation.business_unit_id)]
    for agent, hold in zip(members, planned, strict=True):
        assert flips[agent] == int((operation.started + hold.offset_s + hold.hold_s) * 1000)
    assert window["completesEpochMs"] == max(flips.values())


def test_simulations_on_a_distribution_are_deterministic_and_differ_from_the_constant() -> None:
    drawn = FaultProfile("drawn", "", PublishLock(hold_ms=Distribution("lognormal", 2500.0, 0.5)))
    runs = [simulate(mitigation="none", profile=drawn, sessions=300, seed=4) for _ in range(2)]
    assert json.dumps(runs[0], sort_keys=True) == json.dumps(runs[1], sort_keys=True)
    assert runs[0]["publish"]["hold_ms"] == {"distribution": "lognormal", "median": 2500.0, "sigma": 0.5}
    constant = simulate(mitigation="none", profile="seed-default", sessions=300, seed=4)
    assert runs[0]["sessions"] != constant["sessions"]


def test_the_admin_api_takes_a_distribution_and_a_replay(client: FlaskClient, admin: dict[str, str]) -> None:
    body: dict[str, Any] = {
        "name": "mine",
        "publish": {"hold_ms": LOGNORMAL, "replay": [{"holds": [[0, 1000, True], [500, 800, False]]}]},
    }
    reply = client.put("/mock/faults/profile", json=body, headers=admin)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["publish"]["hold_ms"] == {"distribution": "lognormal", "median": 4000.0, "sigma": 0.2}
    assert reply.get_json()["publish"]["replay"] == [{"holds": [[0.0, 1000.0, True], [500.0, 800.0, False]]}]
    bad = client.put(
        "/mock/faults/profile", json={"name": "m", "publish": {"hold_ms": {"distribution": "x"}}}, headers=admin
    )
    assert bad.status_code == 400 and bad.get_json()["code"] in ("bad.request", "invalid.value")


def test_serve_with_a_profile_file_goes_back_to_it_on_faults_reset(tmp_path: Path) -> None:
    profile = load_profile_file(write(tmp_path, PROFILE_TOML))
    app = create_app(Settings(admin_key="k", profile=str(tmp_path / "profile.toml")), clock=VirtualClock(1.0e9))
    client = app.test_client()
    admin = {"Authorization": "Bearer k"}
    assert client.get("/mock/faults", headers=admin).get_json()["profile"] == json.loads(json.dumps(profile.to_dict()))
    client.put("/mock/faults/profile", json={"name": "calm"}, headers=admin)
    assert client.post("/mock/faults/reset", headers=admin).get_json()["name"] == "acme-monday"


# -- the commands ------------------------------------------------------------------------------------------------


def test_simulate_takes_a_profile_file_and_a_bad_one_is_one_line_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, PROFILE_TOML)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        main, ["simulate", "-m", "none", "-n", "200", "--profile", str(path), "--json", str(out)]
    )
    assert result.exit_code in (0, 1), result.output
    assert json.loads(out.read_text())["fault_profile"] == "acme-monday"
    broken = write(tmp_path, 'name = "x"\n[publish]\nkind = "melt"', "broken.toml")
    result = CliRunner().invoke(main, ["simulate", "-n", "50", "--profile", str(broken)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "kind must be one of" in result.output and "broken.toml" in result.output
    result = CliRunner().invoke(main, ["simulate", "-n", "50", "--profile", "no-such-profile"])
    assert result.exit_code == 2 and "unknown fault profile" in result.output


def test_a_spec_file_names_its_profile_file_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    write(tmp_path / "profiles", PROFILE_TOML, "acme.toml")
    spec_file = write(tmp_path, 'mitigation = "none"\nprofile = "profiles/acme.toml"\nsessions = 100\n', "run.toml")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["simulate", "--spec", str(spec_file), "--json", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(out.read_text())["fault_profile"] == "acme-monday"


def test_the_spec_carries_a_file_profile_whole_through_its_json() -> None:
    profile = FaultProfile("mine", "", PublishLock(hold_ms=Distribution("lognormal", 3000.0, 0.2)))
    spec = RunSpec().with_options(profile=profile)
    again = RunSpec.from_json(spec.to_json())
    assert again == spec and again.fault_profile() == profile and again.profile == "mine"
    assert RunSpec().with_options(profile="calm").profile_definition is None
    assert spec.with_options(profile="calm").fault_profile() == get_profile("calm")  # a new name drops the old one
    with pytest.raises(ValueError, match="is built in"):
        RunSpec().with_options(
            profile="calm", profile_definition=FaultProfile("calm", "", PublishLock(hold_ms=1)).to_dict()
        )
    with pytest.raises(ValueError, match="does not name its definition"):
        RunSpec().with_options(profile="other", profile_definition=profile.to_dict())
