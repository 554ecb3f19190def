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


def read_evidence(directory: Path) -> SavedEvidence:
    """The directory's evidence.json; ValueError (one readable line) when it is missing or not this format."""
    path = directory / EVIDENCE_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(
            f"{directory} has no {EVIDENCE_FILE}: give the Locust master --admin-key (and --history-dir) so it "
            "saves the truth and the publish windows at test stop"
        ) from None
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} document")
    known = SavedEvidence.__dataclass_fields__
    try:
        return SavedEvidence(**{k: v for k, v in data.items() if k in known})
    except TypeError as error:
        raise ValueError(f"{path}: {error}") from None


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
