"""`soft-hold`: the field report's first remedy, a jittered pause of about 500 ms before Set Data."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from mockgc.flows.context import FlowContext, SessionRef
from mockgc.flows.effects import Effect, Sleep
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import number, tunable_number


class SoftHold(Mitigation):
    """Sleep uniform(min_ms, max_ms) before one plain Set Data; evaluate is plain.

    It only shifts the write in time, so it can only help when the lock ends within the
    shift: under holds longer than max_ms it is expected to fail, and that is a finding.
    """

    name = "soft-hold"
    space = (
        tunable_number("min_ms", 0.0, 2000.0, trades="the shortest pause: longer moves more writes past a hold"),
        tunable_number(
            "max_ms", 0.0, 5000.0, trades="the longest pause: longer moves writes further, and the customer waits it"
        ),
    )

    def __init__(self, *, min_ms: float = 250.0, max_ms: float = 750.0) -> None:
        self.min_ms = number("min_ms", min_ms, high=86_400_000)
        self.max_ms = number("max_ms", max_ms, high=86_400_000)
        if self.min_ms > self.max_ms:
            raise ValueError(f"min_ms ({min_ms}) must not exceed max_ms ({max_ms})")

    def persistence_s(self) -> float | None:
        return self.max_ms / 1000.0  # one write, moved at most this far

    def delay_seconds(self, ctx: FlowContext) -> float:
        return ctx.rng("soft-hold").uniform(self.min_ms, self.max_ms) / 1000.0

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        yield Sleep(self.delay_seconds(ctx))
        return (yield from super().set_data(ctx, session, name, value))
