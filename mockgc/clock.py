"""Injected time: the system clock for live servers, a virtual clock for tests and the simulator."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since the epoch, as a float; the only source of time the domain may read."""

    def now(self) -> float: ...

    def wait_until(self, deadline: float, real_timeout: float = 30.0) -> None:
        """Block the calling thread until now() >= deadline (used by v1 serialization)."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def wait_until(self, deadline: float, real_timeout: float = 30.0) -> None:
        delay = min(deadline - time.time(), real_timeout)
        if delay > 0:
            time.sleep(delay)


class VirtualClock:
    """Time that moves only when told to; thread-safe so a live server can run on it."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:
        self._now = float(start)
        self._changed = threading.Condition()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a virtual clock cannot move backwards")
        with self._changed:
            self._now += seconds
            self._changed.notify_all()
            return self._now

    def set(self, when: float) -> float:
        if when < self._now:
            raise ValueError("a virtual clock cannot move backwards")
        with self._changed:
            self._now = float(when)
            self._changed.notify_all()
            return self._now

    def wait_until(self, deadline: float, real_timeout: float = 30.0) -> None:
        # Under a live server another request (the admin clock API) moves time on;
        # the real-time cap keeps a forgotten clock from hanging a worker thread.
        with self._changed:
            self._changed.wait_for(lambda: self._now >= deadline, timeout=real_timeout)
