"""Planted broken mitigations: each is a way a strategy could fool a checker that believed what flows report.

Not a test module (pytest does not collect it): the truth-table suites, the checker's tests
and the live run (`mockgc run --mitigation tests.planted:FabricatedBranch`) load these.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from mockgc.flows.context import PERSONALIZED, Evaluation, evaluation_from
from mockgc.flows.effects import Call, Effect, Now, Sleep
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.script import preference_code

if TYPE_CHECKING:
    from mockgc.flows.context import FlowContext, SessionRef

OTHER_VARIABLE = "preferenceCodeBackup"


class _Planted(Mitigation):
    def __init__(self) -> None:
        pass


class FabricatedBranch(_Planted):
    """Writes nothing, claims no write, and reports the personalized branch without evaluating."""

    name = "planted-fabricated-branch"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        yield from ()
        return False

    def evaluate(self, ctx: FlowContext, session: SessionRef, variable: str) -> Generator[Effect, Any, Evaluation]:
        yield from ()
        return Evaluation(PERSONALIZED, preference_code(ctx.seed, ctx.key))


class FabricatedAfterWrite(FabricatedBranch):
    """Writes honestly once, then reports the personalized branch without evaluating."""

    name = "planted-fabricated-after-write"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        return (yield from Mitigation.set_data(self, ctx, session, name, value))


class FakeAck(_Planted):
    """Says the write was acknowledged without ever sending it; evaluates honestly."""

    name = "planted-fake-ack"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        yield from ()
        return True


class WrongValue(_Planted):
    """Stores a code that is not the customer's; evaluates honestly."""

    name = "planted-wrong-value"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        return (yield from Mitigation.set_data(self, ctx, session, name, value[::-1]))


class WrongVariable(_Planted):
    """Writes the right code into another variable and reports what evaluating that variable says."""

    name = "planted-wrong-variable"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        return (yield from Mitigation.set_data(self, ctx, session, OTHER_VARIABLE, value))

    def evaluate(self, ctx: FlowContext, session: SessionRef, variable: str) -> Generator[Effect, Any, Evaluation]:
        reply = yield Call("evaluate", {"sessionId": session.session_id, "variable": OTHER_VARIABLE})
        return evaluation_from(reply)


class Spinning(_Planted):
    """Asks the time forever: no call, no sleep, so virtual time never moves."""

    name = "planted-spinning"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        while True:
            yield Now()


class RetryingForever(_Planted):
    """Write, verify, retry after 0.1 s; its check reads a variable it never wrote, so it never passes."""

    name = "planted-retrying-forever"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        while True:
            yield Call("set_data", {"sessionId": session.session_id, "name": name, "value": value})
            read = yield Call("read_session", {"sessionId": session.session_id})
            if read.ok and read.body.get("variables", {}).get(OTHER_VARIABLE) == value:
                return True
            yield Sleep(0.1)


# The planted strategies the checker must fail, and the runaways the simulator must stop (exit 2).
CAUGHT_BY_THE_VERDICT: tuple[type[Mitigation], ...] = (
    FabricatedBranch,
    FabricatedAfterWrite,
    FakeAck,
    WrongValue,
    WrongVariable,
)
RUNAWAYS: tuple[type[Mitigation], ...] = (Spinning, RetryingForever)


class BusyLoop(_Planted):
    """Loops without yielding: no effect ever reaches the driver, so virtual time never sees it."""

    name = "planted-busy-loop"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        spins = 0
        while True:
            with contextlib.suppress(Exception):  # a strategy that swallows what it should not
                spins += 1
        yield Now()  # unreachable: it is a generator all the same


class SleepsNaN(_Planted):
    """Computes its delay as 0/0 (NaN): the drivers used to sleep not at all."""

    name = "planted-sleeps-nan"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        yield Sleep(float("nan"))
        return (yield from Mitigation.set_data(self, ctx, session, name, value))
