"""`retry`: the field report's try/catch remedy: log the error to participant attributes, retry after 2 s."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from mockgc.flows.context import Evaluation, FlowContext, SessionRef, evaluation_from
from mockgc.flows.effects import Call, Effect, Reply, Sleep
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import count, flag, number, tunable_count, tunable_flag, tunable_number

ERROR_ATTRIBUTE = "mockgc.setDataError"
ATTEMPT_ATTRIBUTE = "mockgc.attempt"


def error_text(reply: Reply) -> str:
    """`<status> <code>` for the participant attribute, e.g. "400 script.session.locked"."""
    return f"{reply.status} {reply.detail_code or reply.code or reply.error or 'unknown'}"


class Retry(Mitigation):
    """Set Data inside try/catch: on any non-2xx, log it and try again after `delay_s`, at most `attempts` times.

    The field report's remedy wraps the Set Data step only, so evaluate is plain by
    default; `retry_evaluate=True` wraps evaluate in the same loop (without the logging),
    for comparison. A 200 is trusted as it is: nothing is read back.
    """

    name = "retry"
    space = (
        tunable_count("attempts", 1, 10, trades="more tries outlast longer holds, at more requests"),
        tunable_number(
            "delay_s", 0.1, 10.0, log=True, trades="a longer wait outlasts longer holds, and the customer waits it"
        ),
        tunable_flag(
            "retry_evaluate", trades="retry the branch too: an evaluate in a hold is tried again, at more requests"
        ),
    )

    def __init__(self, *, attempts: int = 3, delay_s: float = 2.0, retry_evaluate: bool = False) -> None:
        self.attempts = count("attempts", attempts, high=100)
        self.delay_s = number("delay_s", delay_s)
        self.retry_evaluate = flag("retry_evaluate", retry_evaluate)

    def persistence_s(self) -> float | None:
        return (self.attempts - 1) * self.delay_s

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        for attempt in range(1, self.attempts + 1):
            reply = yield Call("set_data", {"sessionId": session.session_id, "name": name, "value": value})
            if reply.ok:
                return True
            # The catch branch: record what went wrong on the interaction itself. Its own
            # outcome does not matter to the write, so a failed log is not retried.
            yield Call(
                "patch_attributes",
                {
                    "conversationId": session.conversation_id,
                    "participantId": session.participant_id,
                    "attributes": {ERROR_ATTRIBUTE: error_text(reply), ATTEMPT_ATTRIBUTE: str(attempt)},
                },
            )
            if attempt < self.attempts:
                yield Sleep(self.delay_s)
        return False

    def evaluate(self, ctx: FlowContext, session: SessionRef, variable: str) -> Generator[Effect, Any, Evaluation]:
        tries = self.attempts if self.retry_evaluate else 1
        for attempt in range(1, tries + 1):
            reply = yield Call("evaluate", {"sessionId": session.session_id, "variable": variable})
            if reply.ok or attempt == tries:
                return evaluation_from(reply)
            yield Sleep(self.delay_s)
        raise AssertionError("unreachable: the loop always returns")
