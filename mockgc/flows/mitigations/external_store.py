"""`external-store`: keep the variable in a store the platform's locks never touch, and branch on it."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from mockgc.flows.context import DEFAULT, PERSONALIZED, PREFERENCE_VARIABLE, Evaluation, FlowContext, SessionRef
from mockgc.flows.effects import Effect, StoreGet, StorePut
from mockgc.flows.mitigations.base import Mitigation

NAMESPACE = "mockgc:es:"


class ExternalStore(Mitigation):
    """Set Data becomes a store write; the branch decision reads the store (DynamoDB in the field report).

    The platform is not written at all, so its publish lock cannot reject or clobber the value;
    what can fail instead is the store itself. A store that is down or times out answers status 0,
    which the flow reports as an unknown branch (indeterminate) or an unacknowledged write,
    never as a success. Keys live under `namespace`, so one Redis database can hold several runs
    once each uses its own namespace.
    """

    name = "external-store"
    needs_store = True

    def __init__(self, *, namespace: str = NAMESPACE) -> None:
        if not isinstance(namespace, str) or len(namespace) > 200:
            raise ValueError("namespace must be a string of at most 200 characters")
        self.namespace = namespace

    def key(self, session_id: str, name: str) -> str:
        return f"{self.namespace}{session_id}:{name}"

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        reply = yield StorePut(self.key(session.session_id, name), value)
        return bool(reply.ok)

    def evaluate(self, ctx: FlowContext, session: SessionRef, variable: str) -> Generator[Effect, Any, Evaluation]:
        reply = yield StoreGet(self.key(session.session_id, variable))
        if not reply.ok:
            return Evaluation(None, None)  # no answer from the store: the branch is unknowable
        value = reply.body.get("value") if isinstance(reply.body, dict) else None
        return Evaluation(PERSONALIZED if value else DEFAULT, value)

    def store_key(self, ctx: FlowContext, session: SessionRef) -> str | None:
        return self.key(session.session_id, PREFERENCE_VARIABLE)
