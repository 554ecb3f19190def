"""Locust's *_stats.csv, read in one place: the live console's progress and the judge's request rate."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from mockgc.report.untrusted import MAX_SMALL_FILE_BYTES, read_file


def live_counts(stats_csv: Path) -> tuple[int, dict[str, int], int]:
    """(requests, outcomes by class, Locust failures outside outcomes) from Locust's *_stats.csv."""
    requests_total, outcomes, failures = 0, {}, 0
    try:
        text = read_file(stats_csv, MAX_SMALL_FILE_BYTES).decode("utf-8", "replace")
        for row in csv.DictReader(io.StringIO(text, newline="")):
            kind, name = row.get("Type", ""), row.get("Name", "")
            count = int(row.get("Request Count") or 0)
            if kind == "OUTCOME":
                outcomes[name] = count
            elif name == "Aggregated":
                requests_total = count
            else:
                failures += int(row.get("Failure Count") or 0)
    except (OSError, ValueError, csv.Error):
        pass
    requests_total -= sum(outcomes.values())  # Aggregated counts the outcome rows too
    return max(0, requests_total), outcomes, failures
