"""`data-action`: the user's own service behind a Genesys Cloud Data Action takes the write and answers the branch."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from mockgc.flows.context import DEFAULT, PERSONALIZED, PREFERENCE_VARIABLE, Evaluation, FlowContext, SessionRef
from mockgc.flows.effects import DataAction, Effect
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import flag, number, tunable_number

# The Data Action timeout as public write-ups give it (README, "Testing your own service", says how sure).
DATA_ACTION_TIMEOUT_S = 3.0
MAX_TIMEOUT_S = 60.0  # the longest any source we found allows
SET, GET = "set", "get"


TIMED_OUT = "timeout"  # how a driver's error for a call that outlived timeout_s begins


def _url(name: str, value: Any, *, required: bool) -> str:
    """An http(s) URL; "" only where the URL is optional."""
    if value == "" and not required:
        return value
    if not isinstance(value, str) or len(value) > 2000 or not value.startswith(("http://", "https://")):
        raise ValueError(f"{name} must be an http:// or https:// URL of your service, got {value!r}")
    return value


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError('headers must be a table of header name = value strings, e.g. {"x-api-key": "$MY_KEY"}')
    return tuple(sorted(value.items()))


class DataActionService(Mitigation):
    """Set Data and the branch become calls to the user's service, as Data Actions in the flow make them.

    - Set Data is `POST set_url` with {conversationId, participantId, sessionId, userId, variable,
      value}; a 2xx answer acknowledges the write.
    - The branch is `POST get_url` with {conversationId, sessionId, variable}; an answer {"value": v}
      with a value takes `personalized`, no value `default`.
    - A non-2xx answer, a timeout or no answer at all takes the Data Action's failure path: the write is
      unacknowledged (whether it landed is unknown until the read-back), the branch `default`.
    - `evaluate_on_platform=True` keeps the branch on the platform (a service that writes the value back
      to the platform instead of keeping it); durability is then the platform's truth, else `get_url`'s
      answer read back at the end of the run.

    Header values "$NAME" are read from the environment variable NAME at call time (an API key stays out
    of the spec and config.json). Live only: the simulator refuses it (`live_only`).
    """

    name = "data-action"
    space = (
        tunable_number(
            "timeout_s",
            0.5,
            MAX_TIMEOUT_S,
            log=True,
            trades="a longer timeout waits out a slow service, and the customer waits it",
        ),
    )

    def __init__(
        self,
        *,
        set_url: str = "",
        get_url: str = "",
        timeout_s: float = DATA_ACTION_TIMEOUT_S,
        headers: Mapping[str, str] | None = None,
        evaluate_on_platform: bool = False,
    ) -> None:
        self.set_url = _url("set_url", set_url, required=True)
        self.evaluate_on_platform = flag("evaluate_on_platform", evaluate_on_platform)
        self.get_url = _url("get_url", get_url, required=not self.evaluate_on_platform)
        self.timeout_s = number("timeout_s", timeout_s, high=MAX_TIMEOUT_S, positive=True)
        self.headers = dict(_headers(headers or {}))

    def live_only(self) -> str | None:
        return "data-action calls your own service, an outside process that cannot run in virtual time"

    def key(self, session: SessionRef, variable: str) -> str:
        return f"{session.conversation_id}:{session.session_id}:{variable}"

    def _action(self, action: str, url: str, body: dict[str, Any], key: str) -> DataAction:
        return DataAction(action, url, body, key, self.timeout_s, tuple(sorted(self.headers.items())))

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        body = {
            "conversationId": session.conversation_id,
            "participantId": session.participant_id,
            "sessionId": session.session_id,
            "userId": ctx.agent_id,
            "variable": name,
            "value": value,
        }
        reply = yield self._action(SET, self.set_url, body, self.key(session, name))
        return bool(reply.ok)

    def evaluate(self, ctx: FlowContext, session: SessionRef, variable: str) -> Generator[Effect, Any, Evaluation]:
        if self.evaluate_on_platform:
            return (yield from super().evaluate(ctx, session, variable))
        body = {"conversationId": session.conversation_id, "sessionId": session.session_id, "variable": variable}
        reply = yield self._action(GET, self.get_url, body, self.key(session, variable))
        if not reply.ok:
            # A non-2xx, a timeout or no answer at all: the flow leaves the Data Action by its failure or
            # timeout path, never with the value. Calling the branch unknown instead would let a service
            # that is mostly down hold on the few sessions it answered (indeterminate sessions never fail a run).
            return Evaluation(DEFAULT, None)
        value = reply.body.get("value") if isinstance(reply.body, dict) else None
        if value is not None and not isinstance(value, str):
            value = str(value)
        return Evaluation(PERSONALIZED if value else DEFAULT, value or None)

    def store_key(self, ctx: FlowContext, session: SessionRef) -> str | None:
        return None if self.evaluate_on_platform else self.key(session, PREFERENCE_VARIABLE)
