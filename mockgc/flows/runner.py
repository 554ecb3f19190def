"""The synchronous driver: runs one flow against a transport in real time, recording the history."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, Protocol, TypeVar

from mockgc.flows.effects import Call, Effect, Flow, FlowResult, Now, Reply, Sleep, StoreGet, StorePut
from mockgc.flows.history import History
from mockgc.stores import Store, StoreError

R = TypeVar("R")


class Transport(Protocol):
    def call(self, op: str, params: dict[str, Any]) -> Reply: ...


def store_reply(store: Store | None, effect: StorePut | StoreGet) -> Reply:
    """A store's answer as a Reply; a failing store is an indeterminate status 0, never a success."""
    if store is None:
        return Reply(0, None, error="no external store configured")
    try:
        if isinstance(effect, StorePut):
            store.put(effect.key, effect.value)
            return Reply(200, {"key": effect.key, "value": effect.value})
        return Reply(200, {"key": effect.key, "value": store.get(effect.key)})
    except StoreError as error:
        return Reply(0, None, error=f"store: {error}")


def drive(
    steps: Generator[Effect, Any, R],
    transport: Transport,
    *,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    history: History | None = None,
    process: str = "",
    key: str | None = None,
) -> R:
    """Interpret every effect of a generator in real time; with a history, calls are recorded
    (store calls too, like platform calls). Flows and the async worker's jobs both run on it."""
    answer: Any = None
    while True:
        try:
            effect = steps.send(answer)
        except StopIteration as stop:
            result: R = stop.value
            return result
        if isinstance(effect, Call | StorePut | StoreGet):
            if isinstance(effect, Call):
                f, params = effect.op, effect.params
            else:
                f, params = ("store_put" if isinstance(effect, StorePut) else "store_get"), {"key": effect.key}
            if history is not None:
                history.invoke(process, key, f, params, clock())
            answer = transport.call(f, params) if isinstance(effect, Call) else store_reply(store, effect)
            if history is not None:
                history.complete(process, key, f, answer, clock())
        elif isinstance(effect, Sleep):
            sleep(max(0.0, effect.seconds))
            answer = None
        elif isinstance(effect, Now):
            answer = clock()
        else:
            raise TypeError(f"{effect!r} is not an effect")


def run_flow(
    flow: Flow,
    transport: Transport,
    history: History,
    *,
    process: str,
    key: str,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> FlowResult:
    """One interaction, recorded: its calls as invoke/complete pairs, then its result."""
    result = drive(flow, transport, store=store, clock=clock, sleep=sleep, history=history, process=process, key=key)
    history.finish(process, result, clock())
    return result
