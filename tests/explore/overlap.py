"""A planted strategy for shrink's tests: it loses a session's data only when another session overlaps it."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from mockgc.flows.context import Evaluation, FlowContext, SessionRef
from mockgc.flows.effects import Effect, Sleep
from mockgc.flows.mitigations.base import Mitigation


class LosesWhenOverlapping(Mitigation):
    """Skips the write while another session is between its write and its evaluate: no session fails alone,
    so a shrink has to keep two."""

    def __init__(self) -> None:
        self.active = 0

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        self.active += 1
        if self.active > 1:
            return False
        written = yield from super().set_data(ctx, session, name, value)
        yield Sleep(1.0)
        return written

    def evaluate(self, ctx: FlowContext, session: SessionRef, variable: str) -> Generator[Effect, Any, Evaluation]:
        try:
            return (yield from super().evaluate(ctx, session, variable))
        finally:
            self.active -= 1
