"""`mockgc check` on a run directory it cannot trust (a CI job may judge one it downloaded): planted symlinks,
devices, FIFOs, huge or deep files and wrong types are one line and exit 2; nothing is written through a
link; no module the evidence names is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mockgc.cli import main
from mockgc.report import untrusted
from mockgc.report.check import check_run

SPEC = {"mitigation": "none", "publishes": 0}
EVIDENCE = {"format": "mockgc-evidence/1", "spec": SPEC, "operations": [], "truth": {}, "health": {}}


def run_dir(tmp_path: Path, **evidence: Any) -> Path:
    """A minimal run directory `mockgc check` judges (no sessions): history, live.json, evidence.json."""
    directory = tmp_path / "run"
    directory.mkdir()
    (directory / "history.jsonl").write_text("")
    (directory / "live.json").write_text("{}")
    (directory / "evidence.json").write_text(json.dumps({**EVIDENCE, **evidence}))
    return directory


def check(directory: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--quiet", str(directory)])
    return result.exit_code, result.output


def refused(directory: Path, words: str) -> None:
    code, output = check(directory)
    assert code == 2, output
    assert output.count("\n") == 1 and output.startswith("Error: ") and words in output, output
    assert "Traceback" not in output


def test_a_plain_run_directory_is_judged(tmp_path: Path) -> None:
    code, _ = check(run_dir(tmp_path))
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    # No session at all: nothing shows the customer's data kept, so it does not hold (exit 1, not 2).
    assert (code, result["mitigation"], result["verdict"]) == (1, "none", "fails")


def test_outputs_planted_as_symlinks_are_replaced_never_written_through(tmp_path: Path) -> None:
    directory = run_dir(tmp_path)
    victims = {name: tmp_path / f"victim-{name}" for name in ("result.json", "report.html", "sessions.json")}
    for name, victim in victims.items():
        victim.write_text("precious")
        (directory / name).symlink_to(victim)
    hard = tmp_path / "hard-victim"
    hard.write_text("precious too")
    check(directory)
    for name, victim in victims.items():
        assert victim.read_text() == "precious", name
        assert not (directory / name).is_symlink() and (directory / name).stat().st_size > 0
    # A hard link is a name like any other: the new file replaces the name, the other name keeps its data.
    (directory / "result.json").unlink()
    os.link(hard, directory / "result.json")
    check(directory)
    assert hard.read_text() == "precious too"


@pytest.mark.parametrize("name", ["history.jsonl", "evidence.json", "live.json"])
def test_a_file_linked_to_dev_zero_is_refused_at_once(tmp_path: Path, name: str) -> None:
    directory = run_dir(tmp_path)
    (directory / name).unlink()
    (directory / name).symlink_to("/dev/zero")
    refused(directory, "symbolic link")


def test_a_fifo_or_a_device_is_never_waited_on(tmp_path: Path) -> None:
    directory = run_dir(tmp_path)
    (directory / "history.jsonl").unlink()
    os.mkfifo(directory / "history.jsonl")  # nobody writes it: opening it for reading used to hang
    refused(directory, "not a regular file")
    with pytest.raises(ValueError, match="not a regular file"):
        untrusted.read_file(Path("/dev/zero"), 10)  # a device named directly is refused too


def test_locust_stats_from_a_fifo_do_not_hang_the_judge(tmp_path: Path) -> None:
    directory = run_dir(tmp_path)
    os.mkfifo(directory / "locust_stats.csv")  # read for the request rate only: unreadable is no rate
    assert check(directory)[0] == 1


def test_a_file_over_its_bound_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = run_dir(tmp_path)
    (directory / "history.jsonl").write_text("{}\n" * 1000)
    monkeypatch.setattr(untrusted, "MAX_HISTORY_BYTES", 100)
    monkeypatch.setattr(untrusted.read_json_lines, "__defaults__", (100,))
    with pytest.raises(ValueError, match="over the 100 bytes a run's file may have"):
        check_run(directory)


@pytest.mark.parametrize(
    ("evidence", "words"),
    [
        ({"health": 5}, "health must be an object, got int"),
        ({"truth": []}, "truth must be an object or null"),
        ({"spec": "none"}, "spec must be an object"),
        ({"operations": [{"startedEpochMs": "soon"}]}, "startedEpochMs and completesEpochMs"),
        ({"truth": {"s1": 7}}, "each session of the truth must be an object"),
        ({"spec": {**SPEC, "users": "lots"}}, "users must be an integer"),
        ({"format": "something else"}, "is not a mockgc-evidence/1 document"),
    ],
)
def test_evidence_of_the_wrong_shape_is_one_line(tmp_path: Path, evidence: dict[str, Any], words: str) -> None:
    refused(run_dir(tmp_path, **evidence), words)


def test_evidence_nested_200000_deep_is_one_line(tmp_path: Path) -> None:
    directory = run_dir(tmp_path)
    (directory / "evidence.json").write_text(
        '{"format": "mockgc-evidence/1", "spec": ' + "[" * 200_000 + "]" * 200_000 + "}"
    )
    refused(directory, "nests deeper than 64 levels")
    assert untrusted.check_depth([[[]]], "x", limit=3) == [[[]]]
    with pytest.raises(ValueError, match="nests deeper than 3"):
        untrusted.check_depth([[[[]]]], "x", limit=3)


@pytest.mark.parametrize(
    "line",
    [
        "[1, 2]",  # not an object
        "not json",
        "[" * 5000 + "]" * 5000,
        json.dumps({"type": 5, "f": None, "process": [], "key": {}}),  # an entry of the wrong shape
    ],
)
def test_a_history_line_of_the_wrong_shape_is_one_line(tmp_path: Path, line: str) -> None:
    directory = run_dir(tmp_path)
    (directory / "history.jsonl").write_text(line + "\n")
    code, output = check(directory)
    assert code == 2 and output.count("\n") == 1 and "Traceback" not in output, output


def test_a_run_directory_symlinked_from_inside_is_not_followed(tmp_path: Path) -> None:
    elsewhere = run_dir(tmp_path)
    base = tmp_path / "downloaded"
    base.mkdir()
    (base / "test-001").symlink_to(elsewhere, target_is_directory=True)
    refused(base, "holds no history.jsonl")
    assert not (elsewhere / "result.json").exists()


def test_no_module_the_evidence_names_is_imported(tmp_path: Path) -> None:
    """`this:Zen` used to run: importing `this` prints the Zen of Python. The spec is data to check."""
    directory = run_dir(tmp_path, spec={**SPEC, "mitigation": "this:Zen"})
    done = subprocess.run(
        [sys.executable, "-m", "mockgc.cli", "check", "--quiet", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Beautiful is better than ugly" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads((tmp_path / "run" / "result.json").read_text())["mitigation"] == "this:Zen"


def test_every_evidence_field_has_the_type_it_is_checked_against() -> None:
    from mockgc.report.evidence import FIELD_TYPES, SavedEvidence

    assert set(FIELD_TYPES) == set(SavedEvidence.__dataclass_fields__)
