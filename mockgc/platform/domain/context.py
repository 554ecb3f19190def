"""What every area of one org shares: its settings, clock, lock, timeline, events and id stream."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from mockgc.clock import Clock
from mockgc.platform.domain.events import EventBus
from mockgc.platform.domain.timeline import Timeline
from mockgc.platform.settings import OrgSettings


class OrgContext:
    """One org's shared state. Ids come from one seeded stream, so the same seed and the same
    calls give the same ids whichever area draws them."""

    def __init__(self, settings: OrgSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.lock = threading.RLock()
        self.timeline = Timeline()
        self.events = EventBus()
        self._ids = random.Random(f"ids:{settings.seed}")

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def stream(self, purpose: str) -> random.Random:
        """A seeded stream of its own, so what it draws never shifts the ids (or anything) above."""
        return random.Random(f"{purpose}:{self.settings.seed}")


def id_from(stream: random.Random) -> str:
    """A v4 UUID string drawn from `stream`."""
    return str(uuid.UUID(int=stream.getrandbits(128), version=4))


class Area(Protocol):
    ctx: OrgContext


A = TypeVar("A", bound=Area)
P = ParamSpec("P")
R = TypeVar("R")


def operation(method: Callable[Concatenate[A, P], R]) -> Callable[Concatenate[A, P], R]:
    """Serialize the call on the org's lock and first apply every timed event that is due, so state
    matches now(). Every public method of an area is one; helpers other areas call are not."""

    @wraps(method)
    def wrapper(self: A, *args: P.args, **kwargs: P.kwargs) -> R:
        ctx = self.ctx
        with ctx.lock:
            ctx.timeline.run_due(ctx.clock.now())
            return method(self, *args, **kwargs)

    return wrapper
