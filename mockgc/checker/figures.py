"""The checker's figures: rounding, nearest-rank percentiles, latency summaries and merged publish windows."""

from __future__ import annotations

import math
from typing import Any


def rounded(value: float) -> float:
    """Three decimals: a millisecond figure to the microsecond, a time to the millisecond."""
    return round(value, 3)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank on sorted values; None when there are none."""
    if not values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(values)))
    return rounded(values[rank - 1])


def latency_summary(values: list[float]) -> dict[str, Any]:
    """p50/p95/p99/max (nearest rank, 3 decimals) and the count; None everywhere when empty."""
    ordered = sorted(values)
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": rounded(ordered[-1]) if ordered else None,
        "count": len(ordered),
    }


def merge_windows(windows: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Sorted, merged [start, end) intervals as parallel lists, for a bisect lookup."""
    starts: list[float] = []
    ends: list[float] = []
    for start, end in sorted((float(a), float(b)) for a, b in windows):
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends
