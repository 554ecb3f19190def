"""examples/README.md names every example, and every command in it runs a file that exists with options it takes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def test_the_readme_names_every_example_and_nothing_else() -> None:
    text = (EXAMPLES / "README.md").read_text()
    programs = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.glob("*/*.py"))
    linked = sorted(set(re.findall(r"\]\(([a-z_]+/[a-z_]+\.py)\)", text)))
    assert linked == programs
    run = sorted(set(re.findall(r"python (examples/[a-z_]+/[a-z_]+\.py)", text)))
    assert run == [f"examples/{p}" for p in programs]


def test_every_option_the_readme_gives_an_example_is_one_it_takes() -> None:
    text = (EXAMPLES / "README.md").read_text()
    for program, arguments in re.findall(
        r"python (examples/[a-z_/]+\.py)((?: (?:\\\n\s*)?--[a-z-]+(?: [^ \\\n&]+)?)*)", text
    ):
        helped = subprocess.run(
            [sys.executable, str(ROOT / program), "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
        )
        assert helped.returncode == 0, helped.stderr
        for option in re.findall(r"(--[a-z-]+)", arguments):
            assert option in helped.stdout, f"{program} takes no {option}"
