"""history.jsonl: a live run's history on disk, one entry a line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_history_file(path: Path) -> list[dict[str, Any]]:
    """history.jsonl's entries ([] when the run left none)."""
    if not path.exists():
        return []
    with path.open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_history(path: Path) -> list[dict[str, Any]]:
    """A run's history.jsonl, one entry a line."""
    entries: list[dict[str, Any]] = []
    with path.open() as handle:
        for line in handle:
            if line.strip():
                entries.append(json.loads(line))
    return entries
