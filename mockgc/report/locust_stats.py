"""Locust's *_stats.csv, read in one place: the live console's progress and the judge's request rate."""

from __future__ import annotations

import csv
from pathlib import Path


def live_counts(stats_csv: Path) -> tuple[int, dict[str, int], int]:
    """(requests, outcomes by class, Locust failures outside outcomes) from Locust's *_stats.csv."""
    requests_total, outcomes, failures = 0, {}, 0
    try:
        with stats_csv.open(newline="") as handle:
            for row in csv.DictReader(handle):
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
