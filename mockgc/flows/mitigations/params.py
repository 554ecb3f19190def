"""Checks for mitigation parameters, so a bad value fails at construction with a readable message."""

from __future__ import annotations

import json
from dataclasses import dataclass
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


# -- what a search may vary (mockgc tune): declared by each strategy next to the checks above --------

TUNABLE_KINDS = ("float", "int", "bool", "choice")


@dataclass(frozen=True)
class Tunable:
    """One parameter a search may vary: its type, the range searched (inside what `__init__` accepts), whether
    that range is searched on a log scale, and what a higher value trades (shown by `mockgc mitigations`)."""

    name: str
    kind: str  # one of TUNABLE_KINDS
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    trades: str = ""

    def describe(self) -> str:
        """`0.01..2 (log)`, `1..10`, `true|false`, `operation|weekly`: the range as `--space` takes it."""
        if self.kind in ("float", "int"):
            return f"{self.low:g}..{self.high:g}" + (":log" if self.log else "")
        return "|".join(json.dumps(c) if not isinstance(c, str) else c for c in self.choices)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind in ("float", "int"):
            data |= {"low": self.low, "high": self.high, "log": self.log}
        else:
            data["choices"] = list(self.choices)
        return data | {"trades": self.trades}


def tunable_number(name: str, low: float, high: float, *, log: bool = False, trades: str = "") -> Tunable:
    """A real number searched over [low, high] (a log scale needs low above 0)."""
    return _range(Tunable(name, "float", float(low), float(high), log, trades=trades))


def tunable_count(name: str, low: int, high: int, *, log: bool = False, trades: str = "") -> Tunable:
    """An integer searched over [low, high]."""
    return _range(Tunable(name, "int", low, high, log, trades=trades))


def tunable_flag(name: str, *, trades: str = "") -> Tunable:
    return Tunable(name, "bool", choices=(False, True), trades=trades)


def tunable_choice(name: str, options: tuple[str, ...], *, trades: str = "") -> Tunable:
    return Tunable(name, "choice", choices=tuple(options), trades=trades)


def _range(tunable: Tunable) -> Tunable:
    low, high = tunable.low, tunable.high
    assert low is not None and high is not None
    if low > high or (tunable.log and low <= 0) or (tunable.kind == "int" and not float(low).is_integer()):
        raise ValueError(f"{tunable.name}: a bad range {low:g}..{high:g}" + (" on a log scale" if tunable.log else ""))
    return tunable
