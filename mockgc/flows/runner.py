"""The synchronous driver: runs one flow against a transport in real time, recording the history."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from mockgc.flows.effects import Call, Flow, FlowResult, Now, Reply, Sleep, StoreGet, StorePut
from mockgc.flows.history import History
from mockgc.flows.store import Store, StoreError


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
    """Interpret every effect in order; store calls are recorded in the history like platform calls."""
    answer: Any = None
    while True:
        try:
            effect = flow.send(answer)
        except StopIteration as stop:
            result: FlowResult = stop.value
            history.finish(process, result, clock())
            return result
        if isinstance(effect, Call):
            history.invoke(process, key, effect.op, effect.params, clock())
            answer = transport.call(effect.op, effect.params)
            history.complete(process, key, effect.op, answer, clock())
        elif isinstance(effect, Sleep):
            sleep(max(0.0, effect.seconds))
            answer = None
        elif isinstance(effect, Now):
            answer = clock()
        elif isinstance(effect, StorePut | StoreGet):
            f = "store_put" if isinstance(effect, StorePut) else "store_get"
            history.invoke(process, key, f, {"key": effect.key}, clock())
            answer = store_reply(store, effect)
            history.complete(process, key, f, answer, clock())
        else:
            raise TypeError(f"a flow yielded {effect!r}, which is not an effect")
