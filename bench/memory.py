"""A process's memory as the soak judges it: the kernel's high-water mark, and the bound judged on the true peak."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MB = 1024 * 1024


def high_water_mb(pid: int) -> float | None:
    """The most RSS the process ever had (Linux's VmHWM): moments between samples and the truth
    read included. None where the kernel does not say."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / MB
    return None


def bound_problem(samples: list[dict[str, Any]], peak: float, bound_mb: float, where: str) -> str | None:
    """What breaks the bound, if anything: the first sample over it, else a peak over it that the
    10 s samples missed (the truth read's 162 MB once passed as "within the 160 MB bound")."""
    over = [sample for sample in samples if sample["rss_mb"] > bound_mb]
    if over:
        return f"RSS passed the {bound_mb:g} MB bound at {over[0]['t']:g} s"
    if peak > bound_mb:
        return f"RSS peaked at {peak:.0f} MB, past the {bound_mb:g} MB bound ({where})"
    return None
