"""Flows that log their calls as a team's Architect flow can: each call's outcome in a participant attribute.

With `log_attributes`, every Set Data and evaluate the flow (or its mitigation) makes is followed by a
`PATCH …/participants/{pid}/attributes` on the call participant (the customer, whose participant owns the
script session), the real route a flow's Set Participant Data uses. Attribute names and values (README,
"Your own publishes"):

- `mockgc.call.NN` (NN = 01, 02, … in call order): `at|operation|status|error|durationMs|branch|value`,
  `at` ISO 8601 UTC with milliseconds, `operation` `set` or `evaluate`, `status` the HTTP status (0: no
  answer), `error` the platform's error code, empty fields unknown; `|`, `%` and `;` in a field are
  percent-encoded;
- `mockgc.session`: the script session's id.

With a handle time D above 0, the flow also reads the variable back (an evaluate) once the interaction
has lasted D, as an agent's script reads it later in a real call, and logs that read too: a value lost
after its acknowledgement (a clobber) shows only there. D = 0 adds no read.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from mockgc.flows.context import PREFERENCE_VARIABLE
from mockgc.flows.effects import Call, Effect, Flow, FlowResult, Now, Reply, Sleep

CALL_ATTRIBUTE = "mockgc.call."
SESSION_ATTRIBUTE = "mockgc.session"
LOGGED = {"set_data": "set", "evaluate": "evaluate"}
MAX_LOGGED_CALLS = 99  # two digits in the attribute's name


@dataclass(frozen=True, slots=True)
class LoggedCall:
    """One call as a flow logged it."""

    at: float
    operation: str
    status: int
    error: str | None
    duration_ms: int | None
    branch: str | None
    value: str | None


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _field(value: object) -> str:
    return "" if value is None else quote(str(value), safe=" -_.:@+/")


def format_call(call: LoggedCall) -> str:
    fields = (_iso(call.at), call.operation, call.status, call.error, call.duration_ms, call.branch, call.value)
    return "|".join(_field(f) for f in fields)


def parse_call(text: str) -> LoggedCall:
    """A logged call back from its attribute value; ValueError when it is not one."""
    parts = text.split("|")
    if len(parts) != 7:
        raise ValueError(f"a logged call has 7 fields separated by |, this has {len(parts)}")
    at, operation, status, error, duration, branch, value = (unquote(p) if p else None for p in parts)
    if operation not in LOGGED.values():
        raise ValueError(f"a logged call's operation is set or evaluate, not {operation!r}")
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None
        status_code = int(status) if status else 0
        duration_ms = int(duration) if duration else None
    except ValueError as error:
        raise ValueError(f"a logged call's time, status or duration is malformed: {error}") from None
    if moment is None or moment.tzinfo is None:
        raise ValueError("a logged call needs its time with an offset")
    return LoggedCall(moment.timestamp(), operation, status_code, error, duration_ms, branch, value)


def logged_from(attributes: dict[str, str]) -> list[LoggedCall]:
    """Every logged call in a participant's attributes, in call order (malformed ones skipped)."""
    calls = []
    for name in sorted(n for n in attributes if n.startswith(CALL_ATTRIBUTE)):
        try:
            calls.append(parse_call(attributes[name]))
        except ValueError:
            continue
    return calls


def _outcome(op: str, params: dict[str, Any], reply: Reply) -> tuple[str | None, str | None, str | None]:
    """(error code, branch, value) of a set or an evaluate."""
    error = None if reply.ok else (reply.detail_code or reply.code or reply.error)
    if op == "evaluate":
        body = reply.body if reply.ok and isinstance(reply.body, dict) else {}
        return error, body.get("branch"), body.get("value")
    return error, None, params.get("value")


def logging_flow(flow: Flow, *, log_attributes: bool, handle_time_s: float) -> Flow:
    """`flow` with its calls logged to participant attributes and, after `handle_time_s`, a logged read-back.

    Sans-IO as every flow: the logging is `Call`s and the times are `Now()`, so both drivers run it.
    """
    if not log_attributes and handle_time_s <= 0:
        return (yield from flow)
    began = yield Now()
    session: dict[str, str] = {}
    logged = 0

    def log(op: str, params: dict[str, Any], at: float, done: float, reply: Reply) -> Generator[Effect, Any, None]:
        nonlocal logged
        if not log_attributes or not session or logged >= MAX_LOGGED_CALLS:
            return
        logged += 1
        error, branch, value = _outcome(op, params, reply)
        entry = LoggedCall(at, LOGGED[op], reply.status, error, round((done - at) * 1000), branch, value)
        attributes = {f"{CALL_ATTRIBUTE}{logged:02d}": format_call(entry)}
        if logged == 1:
            attributes[SESSION_ATTRIBUTE] = session["sessionId"]
        yield Call(
            "patch_attributes",
            {
                "conversationId": session["conversationId"],
                "participantId": session["participantId"],
                "attributes": attributes,
            },
        )

    reply: Any = None
    try:
        effect = flow.send(None)
        while True:
            if type(effect) is Call and effect.op in LOGGED and log_attributes:
                at = yield Now()
                reply = yield effect
                done = yield Now()
                yield from log(effect.op, effect.params, at, done, reply)
            else:
                reply = yield effect
                if type(effect) is Call and effect.op == "create_session" and reply.ok and isinstance(reply.body, dict):
                    session = {
                        k: str(reply.body[k]) for k in ("id", "conversationId", "participantId") if k in reply.body
                    }
                    session["sessionId"] = session.pop("id", "")
            effect = flow.send(reply)
    except StopIteration as stop:
        result: FlowResult = stop.value
    if handle_time_s > 0 and session.get("sessionId"):
        now = yield Now()
        if now < began + handle_time_s:
            yield Sleep(began + handle_time_s - now)
        params = {"sessionId": session["sessionId"], "variable": PREFERENCE_VARIABLE}
        at = yield Now()
        read = yield Call("evaluate", params)
        done = yield Now()
        yield from log("evaluate", params, at, done, read)
    return result
