"""The mitigation interface: strategies wrapped around the Set Data and evaluate steps."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

from mockgc.flows.context import Evaluation, FlowContext, SessionRef, evaluation_from
from mockgc.flows.effects import Call, Effect
from mockgc.flows.mitigations.params import Tunable


class Mitigation:
    """Subclass and override `set_data` and/or `evaluate`; both are generators of effects.

    `set_data` returns True when a write of the value was acknowledged (2xx).
    `evaluate` returns an Evaluation (branch, value seen). Parameters are keyword
    arguments with the seed's values as defaults; randomness comes from ctx.rng().
    """

    name: ClassVar[str] = "base"
    # True when the strategy keeps state in an external store (drivers must then provide one).
    needs_store: ClassVar[bool] = False
    # What `mockgc tune` may vary, declared next to the checks in __init__ (flows/mitigations/params.py).
    space: ClassVar[tuple[Tunable, ...]] = ()

    def __init__(self, **params: Any) -> None:
        if params:
            raise ValueError(f"{self.name} takes no parameters, got {', '.join(sorted(params))}")

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        reply = yield Call("set_data", {"sessionId": session.session_id, "name": name, "value": value})
        return bool(reply.ok)

    def evaluate(self, ctx: FlowContext, session: SessionRef, variable: str) -> Generator[Effect, Any, Evaluation]:
        reply = yield Call("evaluate", {"sessionId": session.session_id, "variable": variable})
        return evaluation_from(reply)

    def live_only(self) -> str | None:
        """Why this strategy cannot be simulated (it calls an outside process), or None when it can."""
        return None

    def persistence_s(self) -> float | None:
        """How long after its first write the strategy can still land one: a hold longer than this defeats it.
        None when it does not say (`mockgc tune` then explains a failure by its losses alone)."""
        return None

    def store_key(self, ctx: FlowContext, session: SessionRef) -> str | None:
        """Where the value lives outside the platform, for mitigations that keep it elsewhere."""
        return None

    def label(self) -> str:
        """The name a result carries: the strategy's name, else where its class came from."""
        if self.name != Mitigation.name:
            return self.name
        cls = type(self)
        return f"{cls.__module__}:{cls.__qualname__}"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(vars(self))}


class NoMitigation(Mitigation):
    """The baseline: one Set Data, one evaluate, no protection."""

    name = "none"

    def persistence_s(self) -> float | None:
        return 0.0
