"""Golden `mockgc simulate --json` outputs: the refactors' safety net, byte for byte.

A deliberate behaviour change regenerates them (`MOCKGC_REGEN_GOLDEN=1 make test` or
`.venv/bin/python -m pytest tests/drivers/test_golden.py`), and its commit says why they changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mockgc.cli import main

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
MITIGATIONS = ("none", "retry", "backoff-verify", "external-store", "async-worker")
PROFILES = ("seed-default", "seed-clobber", "seed-invalidate")
SESSIONS, SEED = "300", "7"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("mitigation", MITIGATIONS)
def test_simulate_json_is_byte_identical_to_the_golden_file(mitigation: str, profile: str, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    args = ["simulate", "-m", mitigation, "-p", profile, "-n", SESSIONS, "-s", SEED, "--json", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    golden = GOLDEN / f"{mitigation}--{profile}.json"
    if os.environ.get("MOCKGC_REGEN_GOLDEN") == "1":
        golden.write_bytes(out.read_bytes())
    assert out.read_bytes() == golden.read_bytes(), f"{golden.name} changed; regenerate only for a deliberate change"
