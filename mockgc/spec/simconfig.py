"""How a simulated run goes and how big it may be: the simulator's timing (SimConfig), its runaway bounds and
the sizes a run may have, validated here so every process refuses the same specs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mockgc.platform.domain.wfm import PUBLISH_WEEK, TIME_ZONE
from mockgc.spec.runaway import (
    DEFAULT_MAX_FLOW_SECONDS,
    DEFAULT_MAX_FLOW_STEPS,
    DEFAULT_MAX_MEAN_FLOW_STEPS,
    DEFAULT_MAX_STEP_WALL_SECONDS,
)

# The field report's org publishes on Monday mornings in America/Chicago. The virtual clock
# starts one minute before 06:00 on a Monday (PUBLISH_WEEK, the week every publish mockgc makes
# schedules) and the publishes fire from 06:00 on, so a calendar guard for "Monday 06:00 Chicago"
# and the simulated publishes line up; move `start` and the calendar guard misses them.
DEFAULT_START = datetime.fromisoformat(PUBLISH_WEEK).replace(hour=5, minute=59, tzinfo=ZoneInfo(TIME_ZONE)).timestamp()
MAX_RUN_SECONDS = 14 * 86_400.0  # a component still scheduling two weeks in is broken, not slow


MAX_SESSIONS, MAX_AGENTS, MAX_PUBLISHES = 2_000_000, 100_000, 10_000


def bounded(name: str, value: Any, low: int, high: int) -> int:
    """An integer in [low, high], or a ValueError saying so."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def check_size(sessions: Any, agents: Any, publishes: Any, seed: Any) -> None:
    """A run's size, in the order a user reads the options."""
    bounded("sessions", sessions, 1, MAX_SESSIONS)
    bounded("agents", agents, 1, MAX_AGENTS)
    bounded("publishes", publishes, 0, MAX_PUBLISHES)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")


@dataclass(frozen=True)
class SimConfig:
    """Timing of a run. Latency is per call: uniform [base, base + jitter] ms, the request
    reaching the platform halfway through; a v1 reply arrives no earlier than its ready_at."""

    start: float = DEFAULT_START
    first_publish_s: float = 60.0  # 06:00:00 local
    publish_every_s: float = 30.0
    arrival_span_s: float | None = None  # default: until one publish interval after the last publish starts
    latency_base_ms: float = 20.0
    latency_jitter_ms: float = 30.0
    max_flow_steps: int = DEFAULT_MAX_FLOW_STEPS
    max_mean_flow_steps: int = DEFAULT_MAX_MEAN_FLOW_STEPS
    max_flow_seconds: float = DEFAULT_MAX_FLOW_SECONDS
    max_step_wall_seconds: float = DEFAULT_MAX_STEP_WALL_SECONDS
    # Each flow logs its calls to participant attributes, and reads its variable back after the handle time.
    log_attributes: bool = False
    handle_time_s: float = 0.0

    def validate(self) -> SimConfig:
        for name in ("first_publish_s", "publish_every_s", "latency_base_ms", "latency_jitter_ms"):
            value = getattr(self, name)
            if not 0 <= value <= 86_400_000:
                raise ValueError(f"{name} must be between 0 and 86400000, got {value!r}")
        if isinstance(self.handle_time_s, bool) or not 0 <= self.handle_time_s <= 86_400:
            raise ValueError(f"handle time must be between 0 and a day, got {self.handle_time_s!r}")
        if self.arrival_span_s is not None and not 0 <= self.arrival_span_s <= 7 * 86_400:
            raise ValueError("arrival_span_s must be between 0 and one week")
        bounded("max_flow_steps", self.max_flow_steps, 1, 100_000_000)
        bounded("max_mean_flow_steps", self.max_mean_flow_steps, 1, 100_000_000)
        seconds = self.max_flow_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= MAX_RUN_SECONDS:
            raise ValueError(f"max_flow_seconds must be above 0 and at most {MAX_RUN_SECONDS:.0f}, got {seconds!r}")
        wall = self.max_step_wall_seconds
        if isinstance(wall, bool) or not isinstance(wall, int | float) or not 0 < wall <= 3600:
            raise ValueError(f"max_step_wall_seconds must be above 0 and at most 3600, got {wall!r}")
        return self

    def span(self, publishes: int) -> float:
        if self.arrival_span_s is not None:
            return self.arrival_span_s
        return self.first_publish_s + publishes * self.publish_every_s
