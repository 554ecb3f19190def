"""mockgc's public Python API: `mockgc.simulate(spec) -> Result`, `mockgc.story(spec)` and `mockgc.RunSpec`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mockgc
from mockgc.drivers.simulator import Simulator
from mockgc.strategies.plans import plan


def test_importing_mockgc_is_cheap() -> None:
    code = (
        "import sys, mockgc; "
        "print(sorted(m for m in ('flask', 'werkzeug', 'faker', 'mockgc.drivers.simulator', 'mockgc.spec.runspec') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_api_is_what_it_says_it_is() -> None:
    assert set(mockgc.__all__) == {"Result", "RunSpec", "simulate", "story"}
    assert mockgc.RunSpec is __import__("mockgc.spec.runspec", fromlist=["RunSpec"]).RunSpec
    assert set(mockgc.__all__) <= set(dir(mockgc))
    with pytest.raises(AttributeError, match="no attribute 'simulated'"):
        mockgc.simulated  # noqa: B018


def test_simulate_is_mockgc_simulates_result_for_a_spec_a_mapping_or_a_file(tmp_path: Path) -> None:
    spec = mockgc.RunSpec(mitigation="none", profile="seed-default", sessions=200, seed=2)
    result = mockgc.simulate(spec)
    assert result["verdict"] == "fails" and result["sessions"]["lost"] > 0
    assert json.dumps(result, sort_keys=True) == json.dumps(Simulator(plan(spec)).run(), sort_keys=True)
    as_mapping = mockgc.simulate({"mitigation": "none", "profile": "seed-default", "sessions": 200, "seed": 2})
    path = tmp_path / "spec.toml"
    path.write_text('mitigation = "none"\nprofile = "seed-default"\nsessions = 200\nseed = 2\n')
    assert as_mapping == result == mockgc.simulate(path) == mockgc.simulate(str(path))
    held = mockgc.simulate(spec.with_options(mitigation="backoff-verify"))
    assert held["verdict"] == "holds" and held["sessions"]["ok"] == 200


def test_simulate_refuses_what_it_cannot_run_in_one_line() -> None:
    with pytest.raises(ValueError, match="one mitigation at a time"):
        mockgc.simulate(mockgc.RunSpec(mitigation="all"))
    with pytest.raises(ValueError, match="unknown keys in the spec: sesions"):
        mockgc.simulate({"sesions": 3})
    with pytest.raises(TypeError, match="not int"):
        mockgc.simulate(3)  # type: ignore[arg-type]


def test_story_tells_the_first_failing_session_or_says_none_failed() -> None:
    spec = mockgc.RunSpec(mitigation="none", profile="seed-clobber", sessions=100)
    story = mockgc.story(spec)
    assert story.splitlines()[0].endswith(": ack_lost")
    assert "Set Data preferenceCode" in story and "puts back the snapshot taken when it began" in story
    calm = mockgc.story(spec.with_options(profile="calm"))
    assert calm == "every session served its customer (100 of 100 ok)"
