"""Per-token fixed-window rate limit (the platform's 300 requests per minute)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mockgc.platform.domain.errors import TooManyRequests

WINDOW_SECONDS = 60.0
UNLIMITED_PER_MINUTE = 2**31 - 1  # the allowance an unlimited client's headers report
PRUNE_FLOOR = 1024  # windows kept before the first sweep for ended ones


@dataclass(frozen=True, slots=True)
class RateStatus:
    """What the inin-ratelimit-* headers report after a request was counted."""

    count: int
    allowed: int
    reset_seconds: int


class RateLimiter:
    """Counts requests per key in fixed 60 s windows read from the injected clock.

    Hand-written rather than the `limits` library because `limits` reads the wall
    clock itself, which would break the virtual clock and so determinism.
    """

    def __init__(self) -> None:
        self._windows: dict[str, list[float]] = {}
        self._prune_above = PRUNE_FLOOR

    def __len__(self) -> int:
        return len(self._windows)

    def hit(self, key: str, allowed: int, now: float) -> RateStatus:
        window = self._windows.get(key)
        if window is None or now >= window[0] + WINDOW_SECONDS:
            if window is None and len(self._windows) >= self._prune_above:
                self._prune(now)
            window = self._windows[key] = [now, 0]
        reset = max(1, math.ceil(window[0] + WINDOW_SECONDS - now))
        if window[1] >= allowed:
            raise TooManyRequests(reset)
        window[1] += 1
        return RateStatus(int(window[1]), allowed, reset)

    def _prune(self, now: float) -> None:
        """Drop windows that have ended (counting in one starts afresh anyway): a key per token would
        otherwise keep one entry for every token ever used. Amortized: the next prune waits until
        the table has doubled again."""
        for key in [key for key, window in self._windows.items() if now >= window[0] + WINDOW_SECONDS]:
            del self._windows[key]
        self._prune_above = max(PRUNE_FLOOR, 2 * len(self._windows))
