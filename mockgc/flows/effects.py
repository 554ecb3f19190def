"""The effects a flow yields and the replies it gets back: the contract between flows and drivers.

A flow is a generator. It yields an effect and receives the driver's answer:
- `Call(op, params)` -> `Reply` (the driver records it in the history as invoke + completion); the
  operations are the platform's, named as in mockgc/drivers/http.py's ROUTES;
- `Sleep(seconds)` -> None (virtual time in the simulator, real time live);
- `Now()` -> float, the driver's clock in epoch seconds;
- `StorePut(key, value)` -> `Reply`, `StoreGet(key)` -> `Reply` (body {"value": str | None}):
  an external store the platform's locks do not touch;
- `DataAction(action, url, body, key, timeout_s, headers)` -> `Reply` (the service's status and JSON
  body; status 0 for a timeout or no answer): a POST to the user's own service, as a Genesys Data
  Action makes one. Only a live driver can make it: an outside process cannot run in virtual time.
Its return value is a `FlowResult`.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Call:
    op: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float

    def __post_init__(self) -> None:
        # A NaN or negative sleep used to pass as none at all (max(0, nan) is 0): a strategy that
        # computes its delay wrongly is told so where it yields it, in both drivers alike.
        seconds = self.seconds
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise ValueError(f"Sleep needs a finite number of seconds, 0 or more; got {seconds!r}")


@dataclass(frozen=True, slots=True)
class Now:
    pass


@dataclass(frozen=True, slots=True)
class StorePut:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class StoreGet:
    key: str


@dataclass(frozen=True, slots=True)
class DataAction:
    """A POST of `body` to the user's service at `url`. `action` is "set" (a write) or "get" (a read);
    `key` names the value the call is about (the history's and the checker's store key); a header
    value "$NAME" is read from the environment variable NAME when the call is made, so a key never
    sits in a spec."""

    action: str
    url: str
    body: dict[str, Any]
    key: str
    timeout_s: float
    headers: tuple[tuple[str, str], ...] = ()


Effect = Call | Sleep | Now | StorePut | StoreGet | DataAction


@dataclass(frozen=True, slots=True)
class Reply:
    """What came back. status 0 means no HTTP answer at all (reset, timeout, store down)."""

    status: int
    body: Any = None
    retry_after: float | None = None
    error: str | None = None
    # In-process only: when a v1 platform would have answered (its latency, in virtual time).
    ready_at: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def definite_failure(self) -> bool:
        """A 4xx: the platform says it did not apply the request."""
        return 400 <= self.status < 500

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def detail_code(self) -> str | None:
        if isinstance(self.body, dict) and self.body.get("details"):
            first = self.body["details"][0]
            return first.get("errorCode") if isinstance(first, dict) else None
        return None


def completion_type(reply: Reply) -> str:
    """Jepsen's completion: ok (it happened), fail (it did not), info (we cannot know)."""
    if reply.ok:
        return "ok"
    if reply.definite_failure:
        return "fail"
    return "info"


# The script's two branches: the customer's preference was seen, or the flow fell back.
PERSONALIZED, DEFAULT = "personalized", "default"


@dataclass(frozen=True, slots=True)
class FlowResult:
    """How one interaction ended, as the flow itself saw it."""

    key: str
    expected: str
    branch: str | None  # "personalized", "default", or None when the flow never got there
    value: str | None  # the value the branch saw
    session_id: str | None
    acknowledged: bool  # did any Set Data of `expected` get a 2xx?
    store_key: str | None = None  # where external-store kept the value, if it did
    notes: tuple[str, ...] = ()


Flow = Generator[Effect, Any, FlowResult]
