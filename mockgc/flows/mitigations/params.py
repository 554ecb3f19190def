"""Checks for mitigation parameters, so a bad value fails at construction with a readable message."""

from __future__ import annotations

from typing import Any

MAX_SECONDS = 86_400.0  # one day bounds every duration a strategy may wait


def number(name: str, value: Any, *, low: float = 0.0, high: float = MAX_SECONDS, positive: bool = False) -> float:
    """A real number in [low, high] (strictly above low when `positive`), as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError(f"{name} must be a number, got {value!r}")
    if value < low or value > high or (positive and value <= low):
        bound = f"above {low:g}" if positive else f"at least {low:g}"
        raise ValueError(f"{name} must be {bound} and at most {high:g}, got {value!r}")
    return float(value)


def count(name: str, value: Any, *, low: int = 1, high: int = 1000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


def choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")
    return str(value)
