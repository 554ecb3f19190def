"""The real-time driver: runs a flow (or a worker's job) against a transport, sleeping for real, recording the history."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from mockgc.drivers.core import ActionCaller, NotAnEffect, Transport, answer, request_of
from mockgc.drivers.dataaction import call_action
from mockgc.drivers.stepwatch import StepOverrun, StepWatch
from mockgc.flows.effects import Call, DataAction, Effect, Flow, FlowResult, Now, Sleep, StoreGet, StorePut
from mockgc.flows.history import History
from mockgc.stores import Store

R = TypeVar("R")


class RunawayFlow(Exception):
    """A flow past its runaway bounds in a live run (spec.max_flow_steps effects, spec.max_step_seconds
    of one step): what it did, for the run to name with its session and stop the load."""


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
    max_steps: int | None = None,
    watch: StepWatch | None = None,
) -> R:
    """Interpret every effect of a generator in real time; with a history, calls are recorded
    (store calls too, like platform calls). Flows and the async worker's jobs both run on it.
    With `max_steps`, more effects than that are a RunawayFlow; with a `watch` (entered by the
    caller), so is one step that runs past its limit without yielding."""
    reply: Any = None
    steps_taken = 0
    while True:
        try:
            if watch is not None:
                watch.began = time.perf_counter()
            effect = steps.send(reply)
        except StopIteration as stop:
            result: R = stop.value
            return result
        except StepOverrun:
            raise RunawayFlow(
                f"one step ran past {watch.limit if watch else 0:g} s of wall-clock time without yielding an effect"
            ) from None
        finally:
            if watch is not None:
                watch.began = 0.0
        steps_taken += 1
        if max_steps is not None and steps_taken > max_steps:
            raise RunawayFlow(f"more than {max_steps} effects in one flow (the last: {type(effect).__name__})")
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
    max_steps: int | None = None,
    watch: StepWatch | None = None,
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
        max_steps=max_steps,
        watch=watch,
    )
    history.finish(process, result, clock())
    return result
