"""The real-time driver: runs a flow (or a worker's job) against a transport, sleeping for real, recording the history."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from mockgc.drivers.core import ActionCaller, NotAnEffect, Transport, answer, request_of
from mockgc.drivers.dataaction import call_action
from mockgc.flows.effects import Call, DataAction, Effect, Flow, FlowResult, Now, Sleep, StoreGet, StorePut
from mockgc.flows.history import History
from mockgc.stores import Store

R = TypeVar("R")


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
    actions: ActionCaller = call_action,
) -> R:
    """Interpret every effect of a generator in real time; with a history, calls are recorded
    (store calls too, like platform calls). Flows and the async worker's jobs both run on it."""
    reply: Any = None
    while True:
        try:
            effect = steps.send(reply)
        except StopIteration as stop:
            result: R = stop.value
            return result
        if isinstance(effect, Call | StorePut | StoreGet | DataAction):
            f, params = request_of(effect)
            if history is not None:
                history.invoke(process, key, f, params, clock())
            reply = answer(effect, transport, store, actions)
            if history is not None:
                history.complete(process, key, f, reply, clock())
        elif isinstance(effect, Sleep):
            sleep(max(0.0, effect.seconds))
            reply = None
        elif isinstance(effect, Now):
            reply = clock()
        else:
            raise NotAnEffect(f"{effect!r} is not an effect")


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
    actions: ActionCaller = call_action,
) -> FlowResult:
    """One interaction, recorded: its calls as invoke/complete pairs, then its result."""
    result = drive(
        flow,
        transport,
        store=store,
        clock=clock,
        sleep=sleep,
        history=history,
        process=process,
        key=key,
        actions=actions,
    )
    history.finish(process, result, clock())
    return result
