"""The run spec: everything a run is, type-checked and validated once, and handed to every process as one JSON document.

`mockgc simulate` and `mockgc run` build it from their options, or from a file (`--spec FILE`: TOML,
or the JSON a run wrote as `config.json`) with the options given on top. It then travels as JSON to
every process of a live run: each Locust process (`--spec`, which the master passes to its workers)
and the worker service (`MOCKGC_SPEC`); the mock's `/mock/reset` gets only what it reads (seed,
agents, profile). Each process resolves it once into a Plan (mockgc/strategies/plans.py: the
strategy built, its companion, the publish offsets). A run directory's `config.json` is the spec
its processes ran, so `mockgc run --spec runs/x/config.json` repeats it.

How a run is carried out (which mock, its credentials, the output directory, Locust's master
address) is not part of the spec: those are the harness's options (mockgc/live/options.py).

Every value is checked once, whatever it came from (a file, an option, config.json): its type by
pydantic (strict: `users = "lots"`, `users = 1.5` and `seed = true` are refused), then its range in
`__post_init__`; a bad value is one line naming the key, the value and what is wanted (SpecError).
Which strategies the names mean, and whether their parameters fit, is the plan's to check.

To add a field: declare it below with its type and default (and, when its type alone does not say
what is wanted, a line in WANTED; when it is a duration, its name in DURATION_FIELDS; when it has a
range, a check in `__post_init__`), then read it where it is used. Files, options, config.json and
every process's document follow by themselves; tests/spec/test_spec.py tries a wrong type on every
field.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, field, fields, replace
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, ValidationError, field_validator
from pydantic.dataclasses import dataclass

from mockgc.checker.gate import Gate
from mockgc.faults import PROFILES, FaultProfile, get_profile, is_profile_file, load_profile_file
from mockgc.spec.arrivals import Arrival, check_arrivals, parse_arrivals
from mockgc.spec.durations import parse_duration
from mockgc.spec.runaway import (
    DEFAULT_MAX_FLOW_SECONDS,
    DEFAULT_MAX_FLOW_STEPS,
    DEFAULT_MAX_MEAN_FLOW_STEPS,
    DEFAULT_MAX_STEP_WALL_SECONDS,
)
from mockgc.spec.simconfig import SimConfig, check_size

ALL = "all"  # the mitigation that means every registered strategy, in the registry's order
MAX_LIVE_PUBLISHES = 100  # a live schedule is bounded in count as well as in time
MAX_DURATION = 86_400.0
# The least calm time a spread schedule leaves before, between and after its publish windows: enough to see the
# load settle before a publish and recover after it, and to keep two windows from running into one.
MIN_CALM_S = 1.0
# Fields that are seconds: a number, or a duration in Locust's form (30s, 1m, 1h30m).
DURATION_FIELDS = (
    "duration",
    "think_time",
    "drain_timeout",
    "reread_after",
    "max_flow_seconds",
    "max_step_seconds",
    "handle_time",
)
# A live run reads the user's own service or store back twice: when the load ends, and again this long
# after (README, "Durable after the run"). A value gone by then was never durable: a cache that kept
# values 60 s held "durable" when the only read came at the load's last second.
DEFAULT_REREAD_AFTER = 30.0
# What a field wants, where its type alone does not say it well.
WANTED = {
    "params": "a table (a JSON object) of the mitigation's parameters",
    "expect": "a table of mitigation = holds or fails",
    "thresholds": "a list of strings such as 'lost<=0'",
    "publish_at": "a list of seconds, or a string such as '5,15.5,1m'",
    "profile_definition": "a table (a fault profile: name, description, publish, toxics)",
    "arrivals": "a list of tables { at = seconds, agent = n, session = n }",
}
# What a pydantic type error means, said the way a user reads it.
WANTED_BY_TYPE = {
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "dict_type": "a table",
    "tuple_type": "a list",
    "bool_type": "true or false",
}


class SpecError(ValueError):
    """A spec value of the wrong type or out of range: one line naming the key, the value and what is wanted."""


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def parse_offsets(text: str) -> tuple[float, ...]:
    """'5,15.5,1m' -> (5.0, 15.5, 60.0): seconds (or Locust's durations) after the load starts, sorted."""
    offsets: list[float] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        value = parse_duration(part, "publish offset")
        if not 0 <= value <= MAX_DURATION:
            raise ValueError(f"publish offset {part!r} must be between 0 and 86400 seconds")
        offsets.append(value)
    return tuple(sorted(offsets))


def publish_window_seconds(profile: str | FaultProfile, agents: int) -> float:
    """How long one publish holds someone: its last batch starts (batches - 1) intervals in and holds for H."""
    resolved = get_profile(profile) if isinstance(profile, str) else profile
    return resolved.publish.window_ms(agents) / 1000.0


def publish_offsets(
    publish_at: str | tuple[float, ...] | None, publishes: int | None, duration: float, window: float = 0.0
) -> list[float]:
    """The live schedule: explicit offsets win; else `publishes` starts spread over the run.

    Spread windows (each `window` seconds long) leave equal calm gaps, at least MIN_CALM_S, before
    the first, between them and after the last, so the report shows the load before a publish and
    its recovery after, and no two windows overlap. A count that does not fit is refused, naming the
    largest that does and the run it would need (explicit offsets are the user's to place).
    """
    if publish_at:
        offsets = list(parse_offsets(publish_at) if isinstance(publish_at, str) else sorted(publish_at))
    else:
        count = publishes or 0
        if count < 0:
            raise ValueError(f"publishes must not be negative, got {count}")
        if count > MAX_LIVE_PUBLISHES:
            raise ValueError(f"at most {MAX_LIVE_PUBLISHES} publishes per run")
        gap = (duration - count * window) / (count + 1)
        if count and gap < MIN_CALM_S:
            raise ValueError(crowded(count, window, duration))
        offsets = [round(gap + i * (window + gap), 3) for i in range(count)]
    if len(offsets) > MAX_LIVE_PUBLISHES:
        raise ValueError(f"at most {MAX_LIVE_PUBLISHES} publishes per run")
    return offsets


def crowded(count: int, window: float, duration: float) -> str:
    """Why `count` publishes do not fit the run, with the largest count that does and the run `count` needs."""
    fits = max(0, math.floor((duration - MIN_CALM_S) / (window + MIN_CALM_S)))
    needed = math.ceil(count * window + (count + 1) * MIN_CALM_S)
    return (
        f"{count} publishes of {window:g} s windows do not fit in a {duration:g} s run with {MIN_CALM_S:g} s of calm "
        f"before, between and after them: at most {fits} fit{'s' if fits == 1 else ''} (--publishes {fits}), or "
        f"give the run {needed} s (-t {needed}s); --publish-at places publishes yourself"
    )


def overlapping(offsets: list[float], window: float) -> list[tuple[int, int]]:
    """The pairs of publishes (indexes, in order) whose windows overlap: explicit offsets closer than a window."""
    return [(i, i + 1) for i in range(len(offsets) - 1) if offsets[i + 1] - offsets[i] < window]


def _json_object(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{source} is not JSON: {error}") from None
    except RecursionError:
        raise ValueError(f"{source} nests too deeply to be a spec") from None
    if not isinstance(data, dict):
        raise ValueError(f"{source} must be a JSON object")
    return data


def read_spec_file(path: str | Path) -> dict[str, Any]:
    """A spec file's fields: TOML (a [spec] table or top-level keys), or JSON such as a run's config.json."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ValueError(f"cannot read the spec file {path}: {error}") from None
    try:
        if path.suffix == ".json":
            return _json_object(text, str(path))
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"the spec file {path} is not TOML: {error}") from None
    except RecursionError:  # a 100,000-deep array: the parsers recurse
        raise ValueError(f"the spec file {path} nests too deeply to be a spec") from None
    return spec_table(data, str(path))


def spec_table(data: dict[str, Any], source: str) -> dict[str, Any]:
    """The spec's fields: the [spec] table, or the top-level keys; never both (the top-level keys were
    silently dropped when a [spec] table was there too)."""
    if "spec" not in data:
        return data
    table, others = data["spec"], sorted(set(data) - {"spec"})
    if not isinstance(table, dict):
        raise ValueError(f"the spec file {source}: [spec] must be a table")
    if others:
        raise ValueError(
            f"the spec file {source} has a [spec] table and top-level keys ({', '.join(others)}): "
            "put every key in one of them"
        )
    return table


def _one_line(error: ValidationError) -> str:
    """The first problem pydantic found, as one line: the key, the value, what is wanted (or the check's own words)."""
    first = error.errors(include_url=False)[0]
    cause = (first.get("ctx") or {}).get("error")
    if first["type"] == "value_error" and cause is not None:
        return str(cause)
    key = str(first["loc"][0]) if first["loc"] else "the spec"
    wanted = WANTED.get(key) or WANTED_BY_TYPE.get(first["type"]) or first["msg"].lower()
    return f"{key} must be {wanted}, got {first['input']!r}"


@dataclass(frozen=True, config=ConfigDict(strict=True))
class RunSpec:
    """Everything a run is. Frozen: build a changed copy with `with_options` (or dataclasses' `replace`);
    every copy is checked again, so no RunSpec holds a value of the wrong type or out of range."""

    # What is under test, and on which org.
    mitigation: str = "none"  # a registered name, package.module:Class, a comma list, or "all"
    params: Mapping[str, Any] = field(default_factory=dict)  # the mitigation's parameters (JSON values)
    profile: str = "seed-default"  # a built-in profile's name, or the name of `profile_definition`
    # The profile itself when it is not a built-in one (a TOML file's, a replayed trace's), so every process
    # and a repeat from config.json get it whole; None for a built-in profile.
    profile_definition: Mapping[str, Any] | None = None
    seed: int = 1
    agents: int = 50
    store: str | None = None  # a live run's external store URL (None: SQLite in its directory); simulated: memory
    # The publish schedule: explicit offsets (seconds after the load starts) win over a count
    # spread over a live run; the simulator places `publishes` (or as many as the offsets) itself.
    publishes: int = 3
    publish_at: tuple[float, ...] = ()
    # The live load (Locust).
    users: int = 50
    spawn_rate: float = 50.0
    duration: float = 30.0
    think_time: float = 1.0
    drain_timeout: float = 10.0
    reread_after: float = DEFAULT_REREAD_AFTER  # seconds after the load's end; 0 reads back once
    # Each flow logs its calls to participant attributes (as a team's Architect flow can), and reads its
    # variable back once the interaction has lasted `handle_time` seconds (0: no read): mockgc/flows/calllog.py.
    log_attributes: bool = False
    handle_time: float = 0.0
    workers: int = 0  # Locust worker processes on this machine (0: one process)
    remote_workers: int = 0  # Locust workers on other machines, connecting to the master
    # The gate (mockgc/checker/gate.py): the verdict each named mitigation must reach, and k6-style thresholds.
    expect: Mapping[str, str] = field(default_factory=dict)
    thresholds: tuple[str, ...] = ()
    # The simulation, and its runaway bounds (mockgc/spec/runaway.py). Explicit arrivals (one per session,
    # mockgc/spec/arrivals.py) replace the ones the seed draws: `mockgc shrink` writes its repros with them.
    sessions: int = 1000
    arrivals: tuple[Arrival, ...] = ()
    max_flow_steps: int = DEFAULT_MAX_FLOW_STEPS
    max_mean_flow_steps: int = DEFAULT_MAX_MEAN_FLOW_STEPS
    max_flow_seconds: float = DEFAULT_MAX_FLOW_SECONDS
    max_step_seconds: float = DEFAULT_MAX_STEP_WALL_SECONDS  # wall-clock, one step of a flow, live and simulated

    # -- normalizing (before the type check) ----------------------------------------------------

    @field_validator(*DURATION_FIELDS, mode="before")
    @classmethod
    def _seconds(cls, value: Any, info: Any) -> Any:
        return parse_duration(value, info.field_name.replace("_", " "))

    @field_validator("publish_at", mode="before")
    @classmethod
    def _offsets(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_offsets(value)
        if isinstance(value, list | tuple):
            return tuple(_number("publish offset", o) for o in value)
        return value

    @field_validator("profile_definition", mode="before")
    @classmethod
    def _definition(cls, value: Any) -> Any:
        return dict(value) if isinstance(value, Mapping) else value

    @field_validator("arrivals", mode="before")
    @classmethod
    def _arrivals(cls, value: Any) -> Any:
        return parse_arrivals(value) if isinstance(value, list | tuple) else value

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        return dict(value) if isinstance(value, Mapping) else value

    @field_validator("expect", mode="before")
    @classmethod
    def _expect(cls, value: Any) -> Any:
        return dict(Gate.parse(value).expect) if isinstance(value, Mapping) else value

    @field_validator("thresholds", mode="before")
    @classmethod
    def _thresholds(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(t.text for t in Gate.parse(thresholds=map(str, value)).thresholds)
        return value

    # -- ranges (after the type check) ------------------------------------------------------------

    def __post_init__(self) -> None:
        check_size(self.sessions, self.agents, self.publishes, self.seed)
        check_arrivals(self.arrivals, self.sessions, self.agents)
        self.fault_profile()
        if self.users < 1:
            raise ValueError(f"users must be at least 1, got {self.users}")
        if self.spawn_rate <= 0:
            raise ValueError(f"spawn rate must be above 0, got {self.spawn_rate:g}")
        if not 1 <= self.duration <= MAX_DURATION:
            raise ValueError("duration must be between 1 s and a day")
        if self.think_time < 0 or self.drain_timeout < 0:
            raise ValueError("think time and drain timeout must not be negative")
        if not 0 <= self.handle_time <= MAX_DURATION:
            raise ValueError(f"handle time must be between 0 and a day, got {self.handle_time:g}")
        if not 0 <= self.reread_after <= 3600:
            raise ValueError(f"reread after must be between 0 s and an hour, got {self.reread_after:g}")
        if self.workers < 0 or self.remote_workers < 0:
            raise ValueError("workers must not be negative")
        if len(self.publish_at) > MAX_LIVE_PUBLISHES:
            raise ValueError(f"at most {MAX_LIVE_PUBLISHES} publishes per run")
        if any(not 0 <= o <= MAX_DURATION for o in self.publish_at):
            raise ValueError(f"publish offsets must be between 0 and 86400 seconds, got {list(self.publish_at)}")
        late = [o for o in self.publish_at if o >= self.duration]
        if late:
            raise ValueError(f"publish offsets {late} are not inside the {self.duration:g} s run")
        self.sim_config()

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "the spec") -> RunSpec:
        """A spec from a mapping of its fields (unknown keys are an error, never silently ignored; None is the default)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SpecError(
                f"unknown keys in {source}: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
            )
        return cls().with_options(**data)

    @classmethod
    def from_json(cls, text: str, *, source: str = "the spec") -> RunSpec:
        return cls.from_dict(_json_object(text, source), source=source)

    @classmethod
    def load(cls, path: str | Path) -> RunSpec:
        return cls.from_dict(read_spec_file(path), source=str(path))

    def with_options(self, **options: Any) -> RunSpec:
        """A copy with these fields changed (None leaves a field as it is), checked. `profile` may also be a
        FaultProfile or a profile file (`*.toml`): its definition is then kept whole in `profile_definition`."""
        changes = {k: v for k, v in options.items() if v is not None}
        profile = changes.get("profile")
        if isinstance(profile, str) and is_profile_file(profile):
            profile = load_profile_file(profile)
        if isinstance(profile, FaultProfile):
            changes["profile"], changes["profile_definition"] = profile.name, profile.to_dict()
        elif isinstance(profile, str) and "profile_definition" not in changes:
            changes["profile_definition"] = None  # a profile named anew drops the definition it replaces
        return replace(self, **changes)

    # -- reading ----------------------------------------------------------------------------------

    def sim_config(self) -> SimConfig:
        """The simulator's timing and runaway bounds, validated."""
        return SimConfig(
            max_flow_steps=self.max_flow_steps,
            max_mean_flow_steps=self.max_mean_flow_steps,
            max_flow_seconds=self.max_flow_seconds,
            log_attributes=self.log_attributes,
            handle_time_s=self.handle_time,
            max_step_wall_seconds=self.max_step_seconds,
        ).validate()

    def fault_profile(self) -> FaultProfile:
        """The profile this spec runs on: its definition, or the built-in profile of that name."""
        if self.profile_definition is None:
            return get_profile(self.profile)
        profile = FaultProfile.from_dict(dict(self.profile_definition))
        if profile.name != self.profile:
            raise ValueError(f"profile {self.profile!r} does not name its definition ({profile.name!r})")
        if profile.name in PROFILES and profile != PROFILES[profile.name]:
            raise ValueError(f"the profile {profile.name!r} is built in: give a profile of your own another name")
        return profile

    def for_mitigation(self, name: str) -> RunSpec:
        """The spec of one run of a matrix, with the part of the gate that concerns it."""
        gate = self.gate()
        return replace(
            self,
            mitigation=name,
            expect={k: v for k, v in self.expect.items() if k == name},
            thresholds=tuple(t.text for t in gate.thresholds if t.applies_to(name)),
        )

    def gate(self) -> Gate:
        """The expectations and thresholds this run is judged against (mockgc/checker/gate.py)."""
        return Gate.parse(self.expect, self.thresholds)

    def offsets(self) -> list[float]:
        """A live run's publish starts, in seconds after the load starts (at most MAX_LIVE_PUBLISHES)."""
        return publish_offsets(
            self.publish_at, self.publishes, self.duration, publish_window_seconds(self.fault_profile(), self.agents)
        )

    def simulated_publishes(self) -> int:
        """How many publishes the simulator fires (it places them itself): one per offset, else `publishes`."""
        return len(self.publish_at) if self.publish_at else self.publishes

    def org(self) -> dict[str, Any]:
        """What the mock's /mock/reset reads: the org's seed, its agents, its fault profile (whole, when it is
        not a built-in one)."""
        profile = self.profile if self.profile_definition is None else dict(self.profile_definition)
        return {"seed": self.seed, "agents": self.agents, "profile": profile}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["params"] = dict(self.params)
        data["profile_definition"] = None if self.profile_definition is None else dict(self.profile_definition)
        data["publish_at"] = list(self.publish_at)
        data["arrivals"] = [a._asdict() for a in self.arrivals]
        data["expect"] = dict(self.expect)
        data["thresholds"] = list(self.thresholds)
        return data

    def to_json(self, indent: int | None = None) -> str:
        """The one document every process gets (and config.json, indented); it holds no secret."""
        return json.dumps(self.as_dict(), indent=indent, sort_keys=True, separators=None if indent else (",", ":"))


# Every way a RunSpec is made (the constructor, `replace`, `with_options`, `from_dict`) goes through
# pydantic's __init__; this turns its report into the one line a user reads.
_checked_init = RunSpec.__init__


def _init(self: RunSpec, *args: Any, **kwargs: Any) -> None:
    try:
        _checked_init(self, *args, **kwargs)
    except ValidationError as error:
        raise SpecError(_one_line(error)) from None


RunSpec.__init__ = _init  # type: ignore[method-assign]
