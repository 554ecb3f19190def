"""The platform's import contracts ([tool.importlinter] in pyproject.toml) hold: run by the suite as by `make lint`."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_platforms_import_contracts_are_kept() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    ids = [c["id"] for c in contracts if c["id"].startswith("platform-")]
    assert len(ids) >= 2, "the platform's contracts are missing from pyproject.toml"
    args = [str(LINT_IMPORTS), "--no-cache", *(arg for i in ids for arg in ("--contract", i))]
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"Contracts: {len(ids)} kept, 0 broken." in result.stdout
