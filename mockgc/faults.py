"""Fault catalogue as data: named publish-lock profiles plus Toxiproxy-style toxics.

A profile is a built-in name (`PROFILES`), a TOML file (`load_profile_file`), or what a caller
resolves for itself (a recorded trace replayed, mockgc/explore/calibrate). A publish's holds and
intervals may be constants or a `Distribution` drawn with the seed, or a recorded `ReplayedPublish`;
`plan_holds` turns any of them into each agent's hold, and `FaultProfile.stretched` scales them by a margin.
"""

from __future__ import annotations

import math
import random
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

FaultKind = Literal["reject", "clobber", "invalidate"]
PlatformVersion = Literal["v1", "v2"]
ToxicType = Literal["latency", "http_error", "rate_limit", "slow_body", "reset_peer"]

FAULT_KINDS: tuple[str, ...] = ("reject", "clobber", "invalidate")
HOLD_DISTRIBUTIONS: tuple[str, ...] = ("lognormal", "normal", "uniform")
TOXIC_TYPES: tuple[str, ...] = ("latency", "http_error", "rate_limit", "slow_body", "reset_peer")
LATENCY_DISTRIBUTIONS: tuple[str, ...] = ("uniform", "normal", "lognormal")
MAX_MS = 86_400_000  # one day: bounds every duration so float conversions cannot overflow


def _ms(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_MS:
        raise ValueError(f"{name} must be a number of milliseconds from 0 to {MAX_MS}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Distribution:
    """Milliseconds that vary, drawn with the seed: a hold per agent, an interval per batch.

    `lognormal`: `median` and `sigma` (of the logarithm: 0.2 puts two holds in three within about
    ±20% of the median); `normal`: `median` and `sigma` in milliseconds; `uniform`: between `min`
    and `max`. Every draw is kept within [`min`, `max`] (default: 0 to a day).
    """

    distribution: str
    median: float
    sigma: float = 0.0
    min: float = 0.0
    max: float = float(MAX_MS)

    def validate(self, name: str = "the distribution") -> Distribution:
        if self.distribution not in HOLD_DISTRIBUTIONS:
            raise ValueError(f"{name}: distribution must be one of {', '.join(HOLD_DISTRIBUTIONS)}")
        for key in ("median", "min", "max"):
            _ms(f"{name}.{key}", getattr(self, key))
        limit = 5.0 if self.distribution == "lognormal" else MAX_MS
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, int | float) or not 0 <= self.sigma <= limit:
            raise ValueError(f"{name}.sigma must be a number from 0 to {limit:g}")
        if not self.min <= self.median <= self.max:
            raise ValueError(f"{name}: min <= median <= max must hold")
        return self

    def draw(self, rng: random.Random) -> float:
        if self.distribution == "lognormal":
            ms = self.median * math.exp(rng.gauss(0.0, self.sigma))
        elif self.distribution == "normal":
            ms = rng.gauss(self.median, self.sigma)
        else:
            ms = rng.uniform(self.min, self.max)
        return min(max(ms, self.min, 0.0), self.max, float(MAX_MS))

    def scaled(self, factor: float) -> Distribution:
        """Every millisecond figure times `factor` (a lognormal's sigma is a ratio: it stays)."""
        sigma = self.sigma if self.distribution == "lognormal" else self.sigma * factor
        top = min(self.max * factor, float(MAX_MS))
        return replace(self, median=min(self.median * factor, top), sigma=sigma, min=self.min * factor, max=top)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"distribution": self.distribution}
        if self.distribution == "uniform":
            return data | {"min": self.min, "max": self.max}
        data |= {"median": self.median, "sigma": self.sigma}
        if self.min != 0.0:
            data["min"] = self.min
        if self.max != float(MAX_MS):
            data["max"] = self.max
        return data

    @classmethod
    def from_dict(cls, data: Any, name: str = "the distribution") -> Distribution:
        if not isinstance(data, dict):
            raise ValueError(f"{name} must be a number of milliseconds or a distribution table")
        unknown = set(data) - {"distribution", "median", "sigma", "min", "max"}
        if unknown:
            raise ValueError(f"{name}: unknown keys {', '.join(sorted(unknown))}")
        kind = data.get("distribution")
        if kind not in HOLD_DISTRIBUTIONS:
            raise ValueError(f"{name}: distribution must be one of {', '.join(HOLD_DISTRIBUTIONS)}")
        low, high = _ms(f"{name}.min", data.get("min", 0)), _ms(f"{name}.max", data.get("max", MAX_MS))
        if kind == "uniform":
            if "median" in data or "sigma" in data:
                raise ValueError(f"{name}: a uniform distribution takes min and max only")
            if not low <= high:
                raise ValueError(f"{name}: min must not be above max")
            return cls(kind, (low + high) / 2, 0.0, low, high).validate(name)
        if "median" not in data:
            raise ValueError(f"{name}: a {kind} distribution needs a median")
        sigma = data.get("sigma", 0.0)
        if isinstance(sigma, bool) or not isinstance(sigma, int | float):
            raise ValueError(f"{name}.sigma must be a number")
        return cls(kind, _ms(f"{name}.median", data["median"]), float(sigma), low, high).validate(name)


Millis = int | Distribution  # a constant, or drawn with the seed


def nominal_ms(value: Millis) -> float:
    """The typical figure: a constant itself, a distribution's median."""
    return value.median if isinstance(value, Distribution) else float(value)


@dataclass(frozen=True)
class ReplayedPublish:
    """One recorded publish, replayed exactly: each hold as (offset from the publish's start in ms, its
    length in ms, whether it faulted), in the order the platform processed the agents."""

    holds: tuple[tuple[float, float, bool], ...]

    def validate(self) -> ReplayedPublish:
        if not self.holds:
            raise ValueError("a replayed publish needs at least one hold")
        for hold in self.holds:
            if len(hold) != 3:
                raise ValueError("a replayed hold is [offset_ms, hold_ms, toxic]")
            offset, length, toxic = hold
            _ms("a replayed hold's offset", offset)
            _ms("a replayed hold's length", length)
            if not isinstance(toxic, bool):
                raise ValueError("a replayed hold's toxic flag must be true or false")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"holds": [[offset, length, toxic] for offset, length, toxic in self.holds]}

    @classmethod
    def from_dict(cls, data: Any) -> ReplayedPublish:
        if not isinstance(data, dict) or set(data) != {"holds"} or not isinstance(data["holds"], list):
            raise ValueError("a replayed publish is a table with one key, holds = [[offset_ms, hold_ms, toxic], ...]")
        holds = []
        for hold in data["holds"]:
            if not isinstance(hold, list | tuple) or len(hold) != 3:
                raise ValueError("a replayed hold is [offset_ms, hold_ms, toxic]")
            offset, length, toxic = hold
            holds.append((_ms("a replayed hold's offset", offset), _ms("a replayed hold's length", length), toxic))
        return cls(tuple(holds)).validate()


@dataclass(frozen=True)
class PublishLock:
    """How a WFM publish holds agents: B agents every I ms, each held H ms (I and H may be distributions),
    or, with `replay`, exactly the holds of recorded publishes."""

    batch_size: int = 10
    interval_ms: Millis = 1000
    hold_ms: Millis = 2500
    kind: FaultKind = "reject"
    toxicity: float = 1.0
    platform_version: PlatformVersion = "v2"
    start_delay_ms: int = 0
    replay: tuple[ReplayedPublish, ...] = ()

    def validate(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        for name in ("interval_ms", "hold_ms"):
            value = getattr(self, name)
            if isinstance(value, Distribution):
                value.validate(name)
            elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MS:
                raise ValueError(f"interval_ms, hold_ms and start_delay_ms must be between 0 and {MAX_MS}")
        if not 0 <= self.start_delay_ms <= MAX_MS:
            raise ValueError(f"interval_ms, hold_ms and start_delay_ms must be between 0 and {MAX_MS}")
        for publish in self.replay:
            publish.validate()
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.toxicity <= 1.0:
            raise ValueError("toxicity must be between 0 and 1")
        if self.platform_version not in ("v1", "v2"):
            raise ValueError("platform_version must be v1 or v2")

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values (a built-in profile's exactly as before distributions existed)."""
        data: dict[str, Any] = {}
        for name in PublishLock.__dataclass_fields__:
            value = getattr(self, name)
            if name == "replay":
                if value:
                    data[name] = [publish.to_dict() for publish in value]
            else:
                data[name] = value.to_dict() if isinstance(value, Distribution) else value
        return data

    def window_ms(self, agents: int) -> float:
        """How long one publish of `agents` holds someone, typically: the last batch's start plus its hold
        (for a replay, its longest recorded publish)."""
        if self.replay:
            return max(max(offset + length for offset, length, _ in publish.holds) for publish in self.replay)
        batches = max(1, math.ceil(agents / self.batch_size))
        return (batches - 1) * nominal_ms(self.interval_ms) + nominal_ms(self.hold_ms)


@dataclass(frozen=True, slots=True)
class PlannedHold:
    """One agent's hold in a publish: from `offset_s` after its start, for `hold_s`; `batch` counts from 0;
    `toxic` is the recorded outcome of a replayed hold (None: rolled from the profile's toxicity)."""

    batch: int
    offset_s: float
    hold_s: float
    toxic: bool | None = None


def plan_holds(lock: PublishLock, agents: int, publish_index: int, seed: int) -> list[PlannedHold]:
    """Each of `agents` agents' hold, in the order the publish processes them (pure: same arguments, same plan).

    Constants give batch k of `batch_size` agents [k·I, k·I + H). A distribution is drawn on a stream
    of its own (`publish-timing:{seed}:{publish_index}`): one interval per batch after the first, one
    hold per agent. A replay maps the recorded publish `publish_index` (cycling) onto the agents:
    agent i takes recorded hold ⌊i·R/N⌋ of R, so equal counts replay one to one.
    """
    if lock.replay:
        recorded = sorted(lock.replay[publish_index % len(lock.replay)].holds, key=lambda hold: hold[0])
        offsets = sorted({offset for offset, _, _ in recorded})
        batch_of = {offset: index for index, offset in enumerate(offsets)}
        planned = []
        for i in range(agents):
            offset, length, toxic = recorded[i * len(recorded) // agents]
            planned.append(PlannedHold(batch_of[offset], offset / 1000, length / 1000, toxic))
        return planned
    interval, hold = lock.interval_ms, lock.hold_ms
    if not isinstance(interval, Distribution) and not isinstance(hold, Distribution):
        interval_s, hold_s = interval / 1000, hold / 1000
        return [PlannedHold(i // lock.batch_size, (i // lock.batch_size) * interval_s, hold_s) for i in range(agents)]
    rng = random.Random(f"publish-timing:{seed}:{publish_index}")
    planned, offset_s = [], 0.0
    for i in range(agents):
        batch = i // lock.batch_size
        if batch and i % lock.batch_size == 0:
            offset_s += (interval.draw(rng) if isinstance(interval, Distribution) else interval) / 1000
        length_ms = hold.draw(rng) if isinstance(hold, Distribution) else hold
        planned.append(PlannedHold(batch, offset_s, length_ms / 1000))
    return planned


@dataclass(frozen=True)
class Toxic:
    """A named, configurable fault applied to matching API requests (Toxiproxy's toxic)."""

    name: str
    type: ToxicType
    toxicity: float = 1.0
    path_prefix: str = "/api/v2/"
    attributes: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.name:
            raise ValueError("a toxic needs a name")
        if self.type not in TOXIC_TYPES:
            raise ValueError(f"type must be one of {', '.join(TOXIC_TYPES)}")
        if not 0.0 <= self.toxicity <= 1.0:
            raise ValueError("toxicity must be between 0 and 1")
        if self.type == "latency":
            for key in ("latency_ms", "jitter_ms"):
                value = self.attributes.get(key, 0)
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_MS:
                    raise ValueError(f"{key} must be a number from 0 to {MAX_MS}")
        if self.type == "latency":
            if self.attributes.get("distribution", "uniform") not in LATENCY_DISTRIBUTIONS:
                raise ValueError(f"distribution must be one of {', '.join(LATENCY_DISTRIBUTIONS)}")
            sigma = self.attributes.get("sigma", 0.5)
            if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not 0 <= sigma <= 5:
                raise ValueError("sigma must be a number from 0 to 5")
        if self.type == "slow_body":
            rate = self.attributes.get("bytes_per_second", 1024)
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 1 <= rate <= 10**9:
                raise ValueError("bytes_per_second must be a number from 1 to 10^9")
            chunk = self.attributes.get("chunk_bytes", 256)
            if isinstance(chunk, bool) or not isinstance(chunk, int) or not 1 <= chunk <= 65536:
                raise ValueError("chunk_bytes must be an integer from 1 to 65536")
        if self.type == "reset_peer":
            after = self.attributes.get("after_bytes", 0)
            if isinstance(after, bool) or not isinstance(after, int) or after < 0:
                raise ValueError("after_bytes must be a non-negative integer")
        if self.type == "http_error":
            status = self.attributes.get("status", 503)
            if not isinstance(status, int) or not 400 <= status <= 599:
                raise ValueError("status must be an HTTP error status (400-599)")
        if self.type == "rate_limit":
            retry_after = self.attributes.get("retry_after", 1)
            if not isinstance(retry_after, int) or retry_after < 1:
                raise ValueError("retry_after must be a positive integer")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Toxic:
        if not isinstance(data, dict):
            raise ValueError("a toxic is a JSON object")
        unknown = set(data) - {"name", "type", "toxicity", "path_prefix", "attributes"}
        if unknown:
            raise ValueError(f"unknown toxic fields: {', '.join(sorted(unknown))}")
        attributes = data.get("attributes", {})
        if not isinstance(attributes, dict):
            raise ValueError("attributes must be an object")
        toxicity = data.get("toxicity", 1.0)
        if not isinstance(toxicity, int | float) or isinstance(toxicity, bool):
            raise ValueError("toxicity must be a number")
        name, type_, prefix = data.get("name"), data.get("type"), data.get("path_prefix", "/api/v2/")
        if not isinstance(name, str) or not isinstance(type_, str) or not isinstance(prefix, str):
            raise ValueError("name, type and path_prefix must be strings")
        toxic = cls(name=name, type=type_, toxicity=float(toxicity), path_prefix=prefix, attributes=attributes)  # type: ignore[arg-type]
        toxic.validate()
        return toxic


@dataclass(frozen=True)
class FaultProfile:
    """A named, reproducible fault setting: the publish lock and any toxics."""

    name: str
    description: str
    publish: PublishLock = PublishLock()
    toxics: tuple[Toxic, ...] = ()

    def with_publish(self, **changes: Any) -> FaultProfile:
        profile = replace(self, publish=replace(self.publish, **changes))
        profile.publish.validate()
        return profile

    def stretched(self, factor: float) -> FaultProfile:
        """This profile with its holds and batch intervals `factor` times as long, distributions and replays
        included (the start delay, batch size and kind stay), named for it ("long-hold+25%"): a margin against
        the holds growing (`mockgc tune --margin`)."""
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not 1.0 <= factor <= 100.0:
            raise ValueError(f"a stretch factor must be from 1 to 100, got {factor!r}")

        def scale(value: Millis) -> Millis:
            return value.scaled(factor) if isinstance(value, Distribution) else min(round(value * factor), MAX_MS)

        lock = self.publish
        replay = tuple(
            ReplayedPublish(tuple((min(o * factor, MAX_MS), min(h * factor, MAX_MS), t) for o, h, t in p.holds))
            for p in lock.replay
        )
        publish = replace(lock, interval_ms=scale(lock.interval_ms), hold_ms=scale(lock.hold_ms), replay=replay)
        publish.validate()
        percent = f"{(factor - 1.0) * 100.0:.6g}"
        return replace(
            self,
            publish=publish,
            name=f"{self.name}+{percent}%",
            description=f"{self.description} Holds and intervals {percent}% longer.",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "publish": self.publish.to_dict(),
            "toxics": [asdict(t) for t in self.toxics],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultProfile:
        if not isinstance(data, dict):
            raise ValueError("a fault profile is a JSON object")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("a fault profile needs a name")
        publish_data = data.get("publish", {})
        if not isinstance(publish_data, dict):
            raise ValueError("publish must be an object")
        publish = _publish_from(publish_data)
        toxics_data = data.get("toxics", [])
        if not isinstance(toxics_data, list):
            raise ValueError("toxics must be a list")
        description = data.get("description", "")
        if not isinstance(description, str):
            raise ValueError("description must be a string")
        return cls(name, description, publish, tuple(Toxic.from_dict(t) for t in toxics_data))


def _publish_from(publish_data: dict[str, Any]) -> PublishLock:
    known = set(PublishLock.__dataclass_fields__)
    unknown = set(publish_data) - known
    if unknown:
        raise ValueError(f"unknown publish fields: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key, value in publish_data.items():
        if key in ("interval_ms", "hold_ms") and isinstance(value, dict):
            values[key] = Distribution.from_dict(value, f"publish.{key}")
            continue
        if key == "replay":
            if not isinstance(value, list):
                raise ValueError("publish.replay must be a list of recorded publishes")
            values[key] = tuple(ReplayedPublish.from_dict(publish) for publish in value)
            continue
        # Counts and milliseconds must be integers: a float batch_size breaks range() at publish time.
        expected = str if key in ("kind", "platform_version") else (int, float) if key == "toxicity" else int
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ValueError(f"publish.{key} has the wrong type")
        values[key] = value
    publish = PublishLock(**values)
    publish.validate()
    return publish


PROFILES: dict[str, FaultProfile] = {
    p.name: p
    for p in (
        FaultProfile(
            "seed-default",
            "The field report: a Monday publish holds batches of 10 agents every second for "
            "2.5 s each and rejects their script writes with 400.",
            PublishLock(batch_size=10, interval_ms=1000, hold_ms=2500, kind="reject"),
        ),
        FaultProfile(
            "seed-clobber",
            "As seed-default, but writes during a hold are acknowledged and then overwritten "
            "by the snapshot taken when the hold began.",
            PublishLock(batch_size=10, interval_ms=1000, hold_ms=2500, kind="clobber"),
        ),
        FaultProfile(
            "seed-invalidate",
            "As seed-default, but the status flip at the end of a hold invalidates the "
            "session context until the client re-attaches.",
            PublishLock(batch_size=10, interval_ms=1000, hold_ms=2500, kind="invalidate"),
        ),
        FaultProfile(
            "long-hold",
            "Holds of 6 s: longer than any fixed jitter and longer than two 2 s retries.",
            PublishLock(batch_size=10, interval_ms=1000, hold_ms=6000, kind="reject"),
        ),
        FaultProfile(
            "legacy-v1",
            "The v1 platform: the publish serializes with in-flight writes, which wait instead of failing.",
            PublishLock(batch_size=10, interval_ms=1000, hold_ms=2500, platform_version="v1"),
        ),
        FaultProfile(
            "fast",
            "For tests: batches of 5 agents every 100 ms, each held 300 ms.",
            PublishLock(batch_size=5, interval_ms=100, hold_ms=300, kind="reject"),
        ),
        FaultProfile(
            "calm",
            "Publishes flip statuses but hold nothing: the control group.",
            PublishLock(batch_size=10, interval_ms=1000, hold_ms=2500, toxicity=0.0),
        ),
    )
}


def get_profile(name: str) -> FaultProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown fault profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None


def load_profile_file(path: str | Path) -> FaultProfile:
    """A profile from a TOML file: `name`, `description`, a `[publish]` table and `[[toxics]]`, the keys of
    `FaultProfile.to_dict`. ValueError, one line naming the file, for anything else."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"cannot read the profile file {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"the profile file {path} is not TOML: {error}") from None
    unknown = set(data) - {"name", "description", "publish", "toxics"}
    if unknown:
        raise ValueError(f"the profile file {path}: unknown keys {', '.join(sorted(unknown))}")
    try:
        return FaultProfile.from_dict(data)
    except ValueError as error:
        raise ValueError(f"the profile file {path}: {error}") from None


TRACE_PREFIX = "trace:"


def is_profile_file(ref: str) -> bool:
    return ref.endswith(".toml")


def resolve_profile(ref: str) -> FaultProfile:
    """A built-in profile by name, or a TOML profile file by path (`*.toml`). A `trace:FILE` replay needs
    the trace reader (mockgc/explore/calibrate), above this module: its callers resolve it."""
    if ref in PROFILES:
        return PROFILES[ref]
    if is_profile_file(ref):
        return load_profile_file(ref)
    if ref.startswith(TRACE_PREFIX):
        raise ValueError(f"{ref!r}: a recorded trace is replayed by the command line (--profile {ref})")
    return get_profile(ref)
