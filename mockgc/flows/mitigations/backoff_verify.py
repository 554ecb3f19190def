"""`backoff-verify`: exponential backoff with full jitter, a deadline, and a read-after-write check."""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

from mockgc.flows.context import PERSONALIZED, Evaluation, FlowContext, SessionRef, evaluation_from
from mockgc.flows.effects import Call, Effect, Now, Reply, Sleep
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import count, number, tunable_count, tunable_number

INVALIDATED = "script.session.invalidated"
# 4xx answers that a later try can change: a lock or invalidation (bad.request), a conflict,
# a timeout, a rate limit. invalid.value, 401, 403, 404... will answer the same forever.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


def retryable(reply: Reply) -> bool:
    if reply.status == 0 or reply.status >= 500 or reply.status in RETRYABLE_4XX:
        return True
    return reply.status == 400 and reply.code == "bad.request"


def detached(reply: Reply) -> bool:
    """Does this reply say the session lost its context (the invalidate fault)?"""
    if reply.detail_code == INVALIDATED:
        return True
    return reply.ok and isinstance(reply.body, dict) and reply.body.get("attached") is False


class _LazyRandom:
    """ctx.rng(purpose), built on first use: most sessions never back off, and building one is not free."""

    __slots__ = ("_ctx", "_purpose", "_rng")

    def __init__(self, ctx: FlowContext, purpose: str) -> None:
        self._ctx, self._purpose, self._rng = ctx, purpose, None

    def get(self) -> random.Random:
        if self._rng is None:
            self._rng = self._ctx.rng(self._purpose)
        return self._rng


class BackoffVerify(Mitigation):
    """Write, read it back, and only then believe it; back off with full jitter between tries.

    Set Data: write; on a 2xx read the session and require the value to be visible on an
    attached session. A session invalidated by a status change (detail code
    script.session.invalidated, or a read showing attached false) is re-attached and
    written again at once; any other retryable failure sleeps uniform(0, min(cap_s,
    base_s * 2**attempt)) (at least Retry-After) and tries again, until `deadline_s`
    after the first try or `max_attempts` tries.

    Evaluate: retried the same way on a retryable non-2xx. A default branch is double
    checked with a read: a detached session is re-attached and evaluated again, since
    the branch then says nothing about the stored value. What the check cannot see is a
    write that is visible now and undone later (the clobber fault).
    """

    name = "backoff-verify"
    space = (
        tunable_number(
            "base_s", 0.01, 2.0, log=True, trades="a longer first backoff makes fewer tries in a hold, and waits longer"
        ),
        tunable_number(
            "cap_s",
            0.1,
            30.0,
            log=True,
            trades="a longer longest backoff makes fewer tries, and waits longer past a hold's end",
        ),
        tunable_number(
            "deadline_s",
            1.0,
            120.0,
            log=True,
            trades="a later deadline outlasts longer holds; the customer may wait until it",
        ),
        tunable_count("max_attempts", 1, 100, log=True, trades="more tries outlast longer holds, at more requests"),
    )

    def __init__(
        self, *, base_s: float = 0.1, cap_s: float = 5.0, deadline_s: float = 30.0, max_attempts: int = 50
    ) -> None:
        self.base_s = number("base_s", base_s, positive=True)
        self.cap_s = number("cap_s", cap_s, positive=True)
        self.deadline_s = number("deadline_s", deadline_s)
        self.max_attempts = count("max_attempts", max_attempts)

    def persistence_s(self) -> float | None:
        # The longest its backoffs can add up to (full jitter draws each up to its bound), within the deadline.
        bounds = (min(self.cap_s, self.base_s * 2.0 ** min(k, 60)) for k in range(self.max_attempts - 1))
        return min(self.deadline_s, sum(bounds))

    def backoff(self, rng: _LazyRandom, attempt: int, reply: Reply | None = None) -> float:
        """Full jitter (AWS architecture blog): uniform over [0, min(cap, base * 2**attempt)]."""
        delay = rng.get().uniform(0.0, min(self.cap_s, self.base_s * 2.0 ** min(attempt, 60)))
        if reply is not None and reply.retry_after is not None:
            delay = max(delay, reply.retry_after)
        return delay

    def _pause(self, began: float, delay: float) -> Generator[Effect, Any, bool]:
        """Sleep `delay` unless that passes the deadline; False means give up."""
        now = yield Now()
        if now + delay - began > self.deadline_s:
            return False
        if delay > 0:
            yield Sleep(delay)
        return True

    def _attach(self, session: SessionRef) -> Generator[Effect, Any, bool]:
        reply = yield Call("attach", {"sessionId": session.session_id})
        return bool(reply.ok)

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        rng = _LazyRandom(ctx, "backoff-verify:set_data")
        began = yield Now()
        acknowledged = False
        for attempt in range(self.max_attempts):
            reply = yield Call("set_data", {"sessionId": session.session_id, "name": name, "value": value})
            failed = reply
            if reply.ok:
                acknowledged = True
                read = yield Call("read_session", {"sessionId": session.session_id})
                if read.ok and not detached(read):
                    variables = read.body.get("variables") if isinstance(read.body, dict) else None
                    if isinstance(variables, dict) and variables.get(name) == value:
                        return True
                failed = read
            elif not retryable(reply):
                return acknowledged
            if detached(failed) and (yield from self._attach(session)):
                delay = 0.0  # re-attached: write again straight away
            else:
                delay = self.backoff(rng, attempt, failed)
            if not (yield from self._pause(began, delay)):
                break
        return acknowledged

    def evaluate(self, ctx: FlowContext, session: SessionRef, variable: str) -> Generator[Effect, Any, Evaluation]:
        rng = _LazyRandom(ctx, "backoff-verify:evaluate")
        began = yield Now()
        evaluation = None
        for attempt in range(self.max_attempts):
            reply = yield Call("evaluate", {"sessionId": session.session_id, "variable": variable})
            evaluation = evaluation_from(reply)
            if reply.ok:
                if evaluation.branch == PERSONALIZED:
                    return evaluation
                read = yield Call("read_session", {"sessionId": session.session_id})
                if not detached(read):
                    return evaluation  # attached and still default: the value really is not there
                delay = 0.0 if (yield from self._attach(session)) else self.backoff(rng, attempt)
            elif retryable(reply):
                delay = self.backoff(rng, attempt, reply)
            else:
                return evaluation
            if not (yield from self._pause(began, delay)):
                break
        assert evaluation is not None  # max_attempts >= 1
        return evaluation
