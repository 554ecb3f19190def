"""What a tune searches: the strategy's declared space, narrowed or overridden by `--space`, checked by the strategy.

A strategy declares its space next to the checks of its parameters (`space` on the Mitigation,
mockgc/flows/mitigations/params.py). `--space KEY=LO..HI[:log]` replaces a range (or adds one for a
numeric parameter the strategy did not declare), `--space KEY=VALUE` and `--param KEY=VALUE` fix a
parameter. The result is checked by building the strategy at the low ends and at the high ends of
every range together: its own validation says what it accepts, so a range it refuses is refused
before any trial runs.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import Tunable, tunable_count, tunable_number
from mockgc.strategies.registry import load_mitigation, parameters, strategy_class, takes_any

SIGNIFICANT_DIGITS = 3  # a suggested real is rounded to this many, so a setting reads (and is run) as printed


class SpaceError(ValueError):
    """A space that cannot be searched: a bad range, an unknown parameter, nothing to tune, a live-only strategy."""


@dataclass(frozen=True)
class Space:
    """The parameters searched (`tunables`) and those held at one value (`fixed`), for one strategy."""

    mitigation: str
    tunables: tuple[Tunable, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)  # the strategy's own value of each tuned parameter

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One setting drawn through an Optuna trial (its suggest_* methods), with the fixed parameters."""
        setting = dict(self.fixed)
        for t in self.tunables:
            if t.kind == "float":
                setting[t.name] = rounded(trial.suggest_float(t.name, t.low, t.high, log=t.log), t)
            elif t.kind == "int":
                setting[t.name] = trial.suggest_int(t.name, int(t.low or 0), int(t.high or 0), log=t.log)
            else:
                setting[t.name] = trial.suggest_categorical(t.name, list(t.choices))
        return setting

    def contains(self, setting: Mapping[str, Any]) -> bool:
        """Could a trial draw this setting? (Each tuned value in its range, a real already rounded as drawn.)"""
        return all(_drawable(t, setting.get(t.name)) for t in self.tunables)

    def default_setting(self) -> dict[str, Any]:
        """The strategy's defaults for what is tuned, with the fixed parameters: the setting tune compares with."""
        return {**self.defaults, **self.fixed}

    def as_dict(self) -> dict[str, Any]:
        return {"tuned": [t.as_dict() for t in self.tunables], "fixed": dict(self.fixed)}


def _drawable(t: Tunable, value: Any) -> bool:
    if t.kind in ("bool", "choice"):
        return any(value is c or (type(value) is type(c) and value == c) for c in t.choices)
    if isinstance(value, bool) or not isinstance(value, int | float) or not (t.low or 0) <= value <= (t.high or 0):
        return False
    return value == int(value) if t.kind == "int" else rounded(value, t) == value


def rounded(value: float, tunable: Tunable) -> float:
    """`value` to SIGNIFICANT_DIGITS, kept inside the tunable's range."""
    if value == 0:
        return 0.0
    digits = SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(value)))
    low, high = tunable.low or 0.0, tunable.high or 0.0
    return min(max(round(value, digits), low), high)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _range(key: str, text: str, declared: Tunable | None, default: Any) -> Tunable:
    """`LO..HI[:log]` for the parameter `key` as a Tunable, or a SpaceError saying what is wrong with it."""
    where = f"--space {key}={text}"
    body, _, scale = text.partition(":")
    if scale not in ("", "log"):
        raise SpaceError(f"{where}: the only scale is :log, got :{scale}")
    low_text, _, high_text = body.partition("..")
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        raise SpaceError(f"{where}: LO and HI must be numbers, as in {key}=0.5..3 or {key}=0.01..2:log") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise SpaceError(f"{where}: LO and HI must be finite numbers")
    kind = declared.kind if declared else ("int" if type(default) is int else "float")
    if kind in ("bool", "choice") or isinstance(default, bool | str):
        shown = declared.describe() if declared else json.dumps(default)
        raise SpaceError(f"{where}: {key} is not a number ({shown}); fix it with --space {key}=VALUE")
    if low > high:
        raise SpaceError(f"{where}: LO must not exceed HI")
    if scale and low <= 0:
        raise SpaceError(f"{where}: a log scale needs LO above 0")
    trades = declared.trades if declared else ""
    if kind == "int":
        if not (low.is_integer() and high.is_integer()):
            raise SpaceError(f"{where}: {key} is a whole number, so LO and HI must be too")
        return tunable_count(key, int(low), int(high), log=bool(scale), trades=trades)
    return tunable_number(key, low, high, log=bool(scale), trades=trades)


def build_space(mitigation: str, items: Sequence[str] = (), params: Mapping[str, Any] | None = None) -> Space:
    """The space searched for `mitigation`: its declared one, with `--space` items and fixed `params` applied, and
    checked by the strategy itself. Raises SpaceError with one readable line."""
    try:
        cls = strategy_class(mitigation)
    except ValueError as error:
        raise SpaceError(str(error)) from None
    known = parameters(cls)
    tunables: dict[str, Tunable] = {t.name: t for t in cls.space}
    fixed: dict[str, Any] = dict(params or {})
    for name in fixed:
        tunables.pop(name, None)
    for item in items:
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise SpaceError(f"--space takes KEY=LO..HI, KEY=LO..HI:log or KEY=VALUE, got {item!r}")
        if key not in known and not takes_any(cls):
            have = ", ".join(known) or "none"
            raise SpaceError(f"--space {item}: {mitigation} has no parameter {key!r}; its parameters: {have}")
        if ".." in text:
            tunables[key] = _range(key, text, next((t for t in cls.space if t.name == key), None), known.get(key))
            fixed.pop(key, None)
        else:
            fixed[key] = _value(text)
            tunables.pop(key, None)
    if not tunables:
        raise SpaceError(
            f"{mitigation} has nothing to tune: it declares no space (`mockgc mitigations` shows each), "
            "and no --space KEY=LO..HI gave one"
        )
    defaults = {name: known[name] for name in tunables if name in known and known[name] is not inspect.Parameter.empty}
    space = Space(mitigation, tuple(tunables.values()), fixed, defaults)
    _check(space)
    return space


def _ends(space: Space, end: int) -> dict[str, Any]:
    """Every tuned parameter at its low end (0) or its high end (1), with the fixed ones."""
    setting = dict(space.fixed)
    for t in space.tunables:
        if t.kind in ("float", "int"):
            value = (t.low, t.high)[end]
            setting[t.name] = int(value or 0) if t.kind == "int" else value
        else:
            setting[t.name] = t.choices[-end]
    return setting


def _check(space: Space) -> None:
    """The strategy builds at the low ends together and at the high ends together, and runs in virtual time."""
    for end, label in ((0, "low"), (1, "high")):
        setting = _ends(space, end)
        try:
            strategy = load_mitigation(space.mitigation, setting)
        except ValueError as error:
            shown = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(setting.items()))
            raise SpaceError(f"bad space for {space.mitigation} at its {label} ends ({shown}): {error}") from None
        reason = strategy.live_only() if isinstance(strategy, Mitigation) else None
        if reason:
            raise SpaceError(f"{space.mitigation} cannot be tuned: {reason}; tune searches in virtual time")
