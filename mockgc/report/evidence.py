"""evidence.json: what the checker needs beside the history, saved when a run ends so `mockgc check` works offline.

The Locust master writes it at test stop (a by-hand, web-UI or distributed run: the truth snapshot and
the publish windows it reads from the mock with the admin key, the spec, the user's store read back);
`mockgc run` writes it again once its companions have finished (their repairs and what they read).
Each test a web UI session starts gets its own directory, test-001, test-002, ... (`next_test_dir`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockgc.report.untrusted import MAX_EVIDENCE_BYTES, read_json

EVIDENCE_FILE = "evidence.json"
FORMAT = "mockgc-evidence/1"
TEST_DIR = re.compile(r"^test-(\d{3,})$")


@dataclass
class SavedEvidence:
    """The document's fields; `ground_truth_error` says why the truth or windows are missing (None: both read)."""

    spec: dict[str, Any]
    operations: list[dict[str, Any]] | None
    truth: dict[str, dict[str, Any]] | None
    store: dict[str, str | None] | None = None
    repairs: dict[str, float] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    ground_truth_error: str | None = None
    written_by: str = "locust"
    health: dict[str, Any] = field(default_factory=dict)
    agents: dict[str, str] = field(default_factory=dict)  # agent id -> name, for the report's lost sessions

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT} | {name: getattr(self, name) for name in self.__dataclass_fields__}


def write_evidence(directory: Path, evidence: SavedEvidence) -> Path:
    """Written whole or not at all (a temporary file replaced), so a reader never sees half of it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / EVIDENCE_FILE
    tmp = directory / (EVIDENCE_FILE + ".tmp")
    tmp.write_text(json.dumps(evidence.to_json(), sort_keys=True, separators=(",", ":")))
    tmp.replace(path)
    return path


# The type each field must have (None allowed where the field may be absent): a run directory is
# untrusted input, and `"health": 5` used to end in a traceback deep inside the judge.
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "spec": (dict,),
    "operations": (list, type(None)),
    "truth": (dict, type(None)),
    "store": (dict, type(None)),
    "repairs": (dict,),
    "services": (dict,),
    "ground_truth_error": (str, type(None)),
    "written_by": (str,),
    "health": (dict,),
    "agents": (dict,),
}


def read_evidence(directory: Path) -> SavedEvidence:
    """The directory's evidence.json, read as untrusted input (mockgc/report/untrusted.py); ValueError (one
    readable line) when it is missing, not this format, or a field has the wrong type."""
    path = directory / EVIDENCE_FILE
    if not path.exists() and not path.is_symlink():
        raise ValueError(
            f"{directory} has no {EVIDENCE_FILE}: give the Locust master --admin-key (and --history-dir) so it "
            "saves the truth and the publish windows at test stop"
        )
    data = read_json(path, MAX_EVIDENCE_BYTES)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} document")
    known = SavedEvidence.__dataclass_fields__
    fields = {k: v for k, v in data.items() if k in known}
    for name, value in fields.items():
        if not isinstance(value, FIELD_TYPES[name]):
            wanted = " or ".join(
                "null" if t is type(None) else {dict: "an object", list: "a list", str: "a string"}[t]
                for t in FIELD_TYPES[name]
            )
            raise ValueError(f"{path}: {name} must be {wanted}, got {type(value).__name__} {str(value)[:40]!r}")
    if "spec" not in fields:
        raise ValueError(f"{path} has no spec")
    for operation in fields.get("operations") or []:
        if not (
            isinstance(operation, dict)
            and all(isinstance(operation.get(k), int | float) for k in ("startedEpochMs", "completesEpochMs"))
        ):
            raise ValueError(f"{path}: each publish operation needs numbers startedEpochMs and completesEpochMs")
    if any(not isinstance(state, dict) for state in (fields.get("truth") or {}).values()):
        raise ValueError(f"{path}: each session of the truth must be an object")
    return SavedEvidence(**fields)


def next_test_dir(base: Path) -> Path:
    """The next free test-NNN under `base`, created at once so a second test never takes the same one."""
    base.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1)) for p in base.iterdir() if (m := TEST_DIR.match(p.name))]
    number = max(taken, default=0) + 1
    while True:
        path = base / f"test-{number:03d}"
        try:
            path.mkdir()
        except FileExistsError:
            number += 1
            continue
        return path


def per_test_dirs(base: Path) -> list[Path]:
    """The test-NNN directories a web UI session left under `base`, in order."""
    if not base.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in base.iterdir() if p.is_dir() and (m := TEST_DIR.match(p.name))]
    return [p for _, p in sorted(found)]
