"""Fault catalogue as data: named publish-lock profiles plus Toxiproxy-style toxics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

FaultKind = Literal["reject", "clobber", "invalidate"]
PlatformVersion = Literal["v1", "v2"]
ToxicType = Literal["latency", "http_error", "rate_limit", "slow_body", "reset_peer"]

FAULT_KINDS: tuple[str, ...] = ("reject", "clobber", "invalidate")
TOXIC_TYPES: tuple[str, ...] = ("latency", "http_error", "rate_limit", "slow_body", "reset_peer")
LATENCY_DISTRIBUTIONS: tuple[str, ...] = ("uniform", "normal", "lognormal")
MAX_MS = 86_400_000  # one day: bounds every duration so float conversions cannot overflow


@dataclass(frozen=True)
class PublishLock:
    """How a WFM publish holds agents: B agents every I ms, each held H ms."""

    batch_size: int = 10
    interval_ms: int = 1000
    hold_ms: int = 2500
    kind: FaultKind = "reject"
    toxicity: float = 1.0
    platform_version: PlatformVersion = "v2"
    start_delay_ms: int = 0

    def validate(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not all(0 <= ms <= MAX_MS for ms in (self.interval_ms, self.hold_ms, self.start_delay_ms)):
            raise ValueError(f"interval_ms, hold_ms and start_delay_ms must be between 0 and {MAX_MS}")
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.toxicity <= 1.0:
            raise ValueError("toxicity must be between 0 and 1")
        if self.platform_version not in ("v1", "v2"):
            raise ValueError("platform_version must be v1 or v2")


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
        """This profile with its holds and batch intervals `factor` times as long, named for it ("long-hold+25%"):
        a margin against the holds growing (`mockgc tune --margin`)."""
        if not 1.0 <= factor <= 100.0:
            raise ValueError(f"a stretch factor must be from 1 to 100, got {factor!r}")
        lock = self.publish
        percent = f"{(factor - 1.0) * 100.0:.6g}"
        return replace(
            self.with_publish(hold_ms=round(lock.hold_ms * factor), interval_ms=round(lock.interval_ms * factor)),
            name=f"{self.name}+{percent}%",
            description=f"{self.description} Holds and intervals {percent}% longer.",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "publish": asdict(self.publish),
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
        known = set(PublishLock.__dataclass_fields__)
        unknown = set(publish_data) - known
        if unknown:
            raise ValueError(f"unknown publish fields: {', '.join(sorted(unknown))}")
        for key, value in publish_data.items():
            # Counts and milliseconds must be integers: a float batch_size breaks range() at publish time.
            expected = str if key in ("kind", "platform_version") else (int, float) if key == "toxicity" else int
            if isinstance(value, bool) or not isinstance(value, expected):
                raise ValueError(f"publish.{key} has the wrong type")
        publish = PublishLock(**publish_data)
        publish.validate()
        toxics_data = data.get("toxics", [])
        if not isinstance(toxics_data, list):
            raise ValueError("toxics must be a list")
        description = data.get("description", "")
        if not isinstance(description, str):
            raise ValueError("description must be a string")
        return cls(name, description, publish, tuple(Toxic.from_dict(t) for t in toxics_data))


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
