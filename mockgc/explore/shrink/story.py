"""The story of one session, in virtual time, in the words of `mockgc demo --scripted`.

Each call the flow made (what was sent, the status and error code), the hold that caught it (the
publish, the agent, how far into the hold), what the holds did when they began and ended, a repair
if one came, the branch the customer got and the checker's class for it. Read from a simulated
trace only: the history the driver recorded, the holds the publishes planned, the repairs.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mockgc.explore.shrink.probe import Failure, Trace, counted
from mockgc.platform.domain.publish_lock import Hold
from mockgc.platform.domain.wfm import TIME_ZONE
from mockgc.report.sessions import DATA_CALLS

ZONE = ZoneInfo(TIME_ZONE)

# What each class means for the customer, in one line.
MEANING = {
    "lost": "the customer got the default branch, and the preference was never stored",
    "ack_lost": "the write was acknowledged, yet the value is not stored at the end",
    "corrupted": "a wrong code was seen or stored",
    "unverified": "the flow claims the personalized branch, but nothing the driver recorded shows it",
    "indeterminate": "the flow never finished, or took no branch",
    "ok": "the customer got the personalized branch, and the value is stored",
}
GAP = "the customer got the default branch, though the value is stored at the end (the outcome gap)"
# What a toxic hold does, by kind, when it begins and when it ends.
HOLD_KIND = {
    "reject": "reads and writes of the agent's sessions get 400",
    "clobber": "writes are acknowledged, and the snapshot taken now is put back when it ends",
    "invalidate": "when it ends, the status flip detaches the agent's sessions: they must re-attach",
    "serialize": "v1: writes wait until it ends",
}
HOLD_END = {
    "reject": "",
    "clobber": ", and puts back the snapshot taken when it began: what was written during the hold is gone",
    "invalidate": ": the status flip detaches the session's context, writes fail until it re-attaches",
    "serialize": ": the writes that waited are answered",
}


def clock(at: float) -> str:
    """An instant on the org's wall clock, to the millisecond."""
    return datetime.fromtimestamp(at, ZONE).strftime("%H:%M:%S.%f")[:-3]


def _short(identifier: Any) -> str:
    return str(identifier)[:8]


def _what(f: str, params: dict[str, Any]) -> str:
    """A call as the demo names it, with what it sent."""
    if f == "set_data":
        return f"Set Data {params.get('name')} = {params.get('value')}"
    if f == "evaluate":
        return f"evaluate {params.get('variable', '')}".strip()
    if f == "patch_attributes":
        attributes = params.get("attributes") or {}
        sent = ", ".join(f"{k} = {v}" for k, v in attributes.items())
        return f"log to participant attributes ({sent})"
    if f in ("store_put", "store_get"):
        shown = f" = {params['value']}" if f == "store_put" and params.get("value") is not None else ""
        return f"external store {f[6:]} {params.get('key')}{shown}"
    return {
        "create_call": "create the call",
        "create_session": "create the script session",
        "read_session": "read the session",
        "attach": "re-attach the session",
        "list_operations": "ask whether a publish is running",
        "script_data": "bulk script-data update",
    }.get(f, f)


def _answer(f: str, completion: dict[str, Any]) -> str:
    status = completion.get("status")
    text = "no answer" if status == 0 else str(status)
    if completion.get("code"):
        text += f" {completion['code']}"
    value = completion.get("value")
    if completion.get("type") == "ok" and isinstance(value, dict):
        if f == "evaluate":
            text += f", branch {value.get('branch')}" + (f" ({value['value']})" if value.get("value") else "")
        elif f == "create_session":
            text += f" (session {_short(value.get('id'))})"
        elif f == "list_operations":
            running = [op for op in value.get("entities") or () if op.get("status") == "Processing"]
            text += f" ({len(running)} publish{'es' if len(running) != 1 else ''} Processing)"
        elif f == "store_get":
            text += f" ({value.get('value')})"
    return text


@dataclass(frozen=True)
class Story:
    title: str
    context: list[str]
    lines: list[str]
    verdict: str

    def text(self) -> str:
        """The story as printed: plain lines."""
        return "\n".join([self.title, *self.context, "", *self.lines, "", self.verdict])

    def markdown(self) -> str:
        body = "\n".join(f"    {line}" for line in self.lines)
        return "\n".join([f"# {self.title}", "", *self.context, "", body, "", self.verdict]) + "\n"


class _Teller:
    def __init__(self, trace: Trace, session: int) -> None:
        self.trace = trace
        arrival = next(a for a in trace.spec.arrivals if a.session == session)
        self.arrival = arrival
        self.key = trace.keys[session]
        self.agent_id, self.agent_name = trace.agents[arrival.agent]
        self.entries = [e for e in trace.history if e.get("key") == self.key]
        self.holds = trace.holds_of(session)
        simulation = trace.result.get("simulation", {})
        self.max_latency = (simulation.get("latency_base_ms", 20.0) + simulation.get("latency_jitter_ms", 30.0)) / 1e3

    def phase(self, at: float) -> tuple[str, Hold | None]:
        """Where the agent stood at `at`: before the publish, during its hold, or after it."""
        for hold in self.holds:
            if hold.start <= at < hold.end:
                harmless = "" if hold.toxic else " (a harmless one)"
                return f"during the hold of {self.agent_name}{harmless}", hold
        if any(hold.end <= at for hold in self.holds):
            return "after the hold", None
        if any(t <= at for t in self.trace.publish_times):
            return "during the publish, before this agent's hold", None
        return "before the publish", None

    def calls(self) -> list[tuple[float, int, str]]:
        lines: list[tuple[float, int, str]] = []
        pending: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        for entry in self.entries:
            kind = entry["type"]
            if kind == "invoke":
                pending[entry["f"]].append(entry)
            elif kind == "flow":
                lines.append((entry["time"], 3, self._finish(entry["value"])))
            elif pending[entry["f"]]:
                invoke = pending[entry["f"]].popleft()
                lines.append((invoke["time"], 2, self._call(invoke, entry)))
        return lines

    def _call(self, invoke: dict[str, Any], completion: dict[str, Any]) -> str:
        f, began = invoke["f"], invoke["time"]
        # The request reaches the platform halfway through its round trip (a v1 answer waits longer).
        reached = began + min(completion["time"] - began, self.max_latency) / 2
        phase, hold = self.phase(reached)
        line = f"{clock(began)}  {phase}: {_what(f, invoke.get('params') or {})} -> {_answer(f, completion)}"
        if hold is not None and f in DATA_CALLS:
            line += f" ({reached - hold.start:.2f} s into the hold)"
        return line

    def _finish(self, flow: dict[str, Any]) -> str:
        branch = flow.get("branch")
        if branch == "default":
            ending = "the flow takes the default branch and the preference is lost"
        elif branch == "personalized":
            ending = f"the flow takes the personalized branch ({flow.get('value')})"
        else:
            ending = "the flow ends without a branch"
        return f"{clock(self._finished_at())}  {ending}"

    def _finished_at(self) -> float:
        return max(e["time"] for e in self.entries if e["type"] == "flow")

    def hold_events(self) -> list[tuple[float, int, str]]:
        events: list[tuple[float, int, str]] = []
        for hold in self.holds:
            number = self.trace.operations.index(hold.operation_id) + 1
            published = self.trace.publish_times[number - 1]
            kind = HOLD_KIND.get(hold.kind, hold.kind) if hold.toxic else "not toxic: nothing fails"
            events.append(
                (
                    published,
                    0,
                    f"{clock(published)}  WFM publish {number} started: operation {_short(hold.operation_id)}",
                )
            )
            events.append(
                (
                    hold.start,
                    1,
                    f"{clock(hold.start)}  the hold of {self.agent_name} begins, until {clock(hold.end)} "
                    f"({hold.kind}: {kind})",
                )
            )
            ending = HOLD_END.get(hold.kind, "") if hold.toxic else ""
            events.append((hold.end, 1, f"{clock(hold.end)}  the hold of {self.agent_name} ends{ending}"))
        return events

    def repair(self) -> list[tuple[float, int, str]]:
        flows = [e["value"] for e in self.entries if e["type"] == "flow"]
        session_id = flows[-1].get("sessionId") if flows else None
        at = self.trace.repairs.get(session_id) if session_id else None
        if at is None:
            return []
        return [(at, 4, f"{clock(at)}  the async worker re-applies the value: stored from now on (a repair)")]

    def tell(self) -> Story:
        outcome = self.trace.outcomes.get(self.key, {})
        failure = Failure.of(outcome) if outcome else Failure("indeterminate")
        spec = self.trace.spec
        params = ", ".join(f"{k}={v}" for k, v in sorted(spec.params.items()))
        strategy = f"{spec.mitigation}" + (f" ({params})" if params else "")
        events = sorted(self.calls() + self.hold_events() + self.repair(), key=lambda e: (e[0], e[1]))
        meaning = GAP if failure.outcome_gap else MEANING.get(failure.cls, failure.cls)
        return Story(
            title=f"Session {self.key}: {failure}",
            context=[
                f"{strategy} on {spec.profile}, seed {spec.seed}: {counted(spec.sessions, 'session')} on "
                f"{counted(spec.agents, 'agent')}, {counted(spec.simulated_publishes(), 'publish', 'publishes')}. "
                f"Times are the org's clock ({TIME_ZONE}), in virtual time.",
                f"The session arrives at {clock(self.trace.start + self.arrival.at)} on agent {self.arrival.agent}, "
                f"{self.agent_name}.",
            ],
            lines=[text for _, _, text in events],
            verdict=(
                f"{failure}: {meaning} (the checker: outcome {outcome.get('outcome')}, "
                f"durability {outcome.get('durability')})."
            ),
        )


def tell(trace: Trace, session: int) -> Story:
    """The story of session number `session` of a simulated trace."""
    return _Teller(trace, session).tell()
