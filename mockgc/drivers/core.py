"""What every driver does with an effect: the history's name for a request, and how a store answers one.

Drivers differ only in when things happen (real time, virtual time); what an effect means is here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from mockgc.flows.effects import Call, DataAction, Reply, StoreGet, StorePut
from mockgc.stores import Store, StoreError

Request = Call | StorePut | StoreGet | DataAction
# How a live driver makes a Data Action call (mockgc/drivers/dataaction.py); the simulator has none.
ActionCaller = Callable[[DataAction], Reply]


class Transport(Protocol):
    """Turns a platform operation (effects.Call) into the platform's reply."""

    def call(self, op: str, params: dict[str, Any]) -> Reply: ...


class NotAnEffect(TypeError):
    """A flow or job yielded something that is not an effect."""


def request_of(effect: Request) -> tuple[str, dict[str, Any]]:
    """(f, params) as the history records the request: a platform operation, store_put/store_get, or
    action_set/action_get (a Data Action call: its key, URL and body, never its headers)."""
    if type(effect) is Call:
        return effect.op, effect.params
    if type(effect) is DataAction:
        return f"action_{effect.action}", {"key": effect.key, "url": effect.url, **effect.body}
    return ("store_put" if type(effect) is StorePut else "store_get"), {"key": effect.key}


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


def answer(effect: Request, transport: Transport, store: Store | None, actions: ActionCaller | None = None) -> Reply:
    """The reply to a request: a platform call through the transport, a store effect from the store, a
    Data Action call through `actions` (a driver without it has no answer: status 0)."""
    if type(effect) is Call:
        return transport.call(effect.op, effect.params)
    if type(effect) is DataAction:
        if actions is None:
            return Reply(0, None, error="this driver cannot call a data action")
        return actions(effect)
    return store_reply(store, effect)
