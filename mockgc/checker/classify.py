"""The classifier: one interaction's facts and the ground truth give its class, durability and outcome.

The one classifier there is: the checker runs it on every interaction of a history, and a Locust
process on each flow as it ends (`judge_flow` in mockgc/checker/check.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockgc.checker.figures import rounded
from mockgc.checker.reading import Interaction
from mockgc.checker.result import ACK_LOST, CORRUPTED, DEFAULT, INDETERMINATE, LOST, OK, PERSONALIZED, UNVERIFIED

# The truth's per-session log of the values the platform's evaluate answered `personalized`
# with ({variable: [values]}); the mock keeps it, a flow cannot write it.
EVALUATE_LOG = "evaluatedPersonalized"


@dataclass(frozen=True, slots=True)
class Ground:
    """What the history is judged against: the platform's truth by session id, the strategy's own store
    (None when it keeps nothing outside the platform) and the variable that carries the code."""

    truth: dict[str, dict[str, Any]]
    store: dict[str, str | None] | None = None
    variable: str = "preferenceCode"


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What the history shows of one interaction, before any class is given."""

    expected: Any
    session_id: Any
    proven: bool
    refuted: bool
    written: bool
    acknowledged: bool


def _evidence(s: Interaction, ground: Ground) -> _Evidence:
    flow = s.flow or {}
    variable = ground.variable
    expected = flow["expected"] if s.flow is not None else s.written_value
    session_id = flow.get("sessionId") or s.created_id
    record = ground.truth.get(session_id) or {}
    # The branch's evidence, from driver-recorded completions only: an evaluate of this session's
    # variable that answered personalized with the expected value (and, when the truth carries the
    # mock's own evaluate log, that log agrees), or a read of the flow's store key that returned it.
    evaluated = (session_id, variable, expected) in s.evaluations
    log = record.get(EVALUATE_LOG)
    refuted = evaluated and log is not None and expected not in log.get(variable, ())
    proven = (evaluated and not refuted) or (flow.get("storeKey"), expected) in s.store_reads
    # A 2xx write acknowledges the value when it wrote the expected code to this variable (one
    # whose history records no name or value, a store put, counts too). A flow may also claim an
    # acknowledgement the history does not show (a broken mitigation): any source counts, so a
    # dropped write cannot hide behind a missing ack. A value the platform (or store) was seen to
    # hold is acknowledged too: losing it afterwards is ack_lost.
    written = any(name in (None, variable) and (value is None or value == expected) for name, value in s.acked)
    acknowledged = bool(flow.get("acknowledged")) or written or proven
    return _Evidence(expected, session_id, proven, refuted, written, acknowledged)


def _durability(s: Interaction, e: _Evidence, ground: Ground) -> str:
    """Is the final stored value the expected one? The store for a flow with a storeKey, else the truth."""
    store_key = (s.flow or {}).get("storeKey")
    if store_key is not None and ground.store is not None:
        stored = ground.store.get(store_key)
    else:
        stored = (ground.truth.get(e.session_id) or {}).get("variables", {}).get(ground.variable)
    if e.session_id is None or e.expected is None:
        return "unknown"
    if stored == e.expected:
        return "durable"
    if stored:
        return "stored_wrong"
    return "ack_lost" if e.acknowledged else "not_stored"


def _outcome(branch: Any, seen: Any, e: _Evidence) -> str:
    if branch == PERSONALIZED and seen != e.expected:
        return "wrong_code"  # the engine only personalizes on a code it saw: the wrong one, or none
    if branch == PERSONALIZED:
        return "personalized_ok" if e.proven else "unverified"
    if branch == DEFAULT:
        return "default"
    return "unknown"


def _primary(s: Interaction, e: _Evidence, durability: str, outcome: str, seen: Any) -> str:
    """indeterminate > corrupted > unverified > ack_lost > lost > ok."""
    if s.flow is None or outcome == "unknown":
        return INDETERMINATE
    if (bool(seen) and seen != e.expected) or outcome == "wrong_code" or durability == "stored_wrong":
        return CORRUPTED
    if outcome == "unverified":
        return UNVERIFIED
    if e.acknowledged and durability != "durable":
        return ACK_LOST
    if outcome == "default":
        return LOST
    return OK  # personalized on evidence, and durable (else ack_lost above)


def classify(s: Interaction, ground: Ground) -> dict[str, Any]:
    """The interaction's class (precedence: indeterminate > corrupted > unverified > ack_lost > lost > ok),
    its durability and outcome, and what the report shows of it."""
    flow = s.flow or {}
    branch, seen = flow.get("branch"), flow.get("value")
    e = _evidence(s, ground)
    durability = _durability(s, e, ground)
    outcome = _outcome(branch, seen, e)
    return {
        "key": s.key,
        "class": _primary(s, e, durability, outcome, seen),
        "durability": durability,
        "outcome": outcome,
        "branch": branch,
        "durable": None if durability == "unknown" else durability == "durable",
        "session_id": e.session_id,
        "claimed_ack_without_write": bool(flow.get("acknowledged")) and not e.written,
        "evaluate_not_in_mock_log": e.refuted,
        "latency_ms_total": rounded(s.latency_ms),
        "start": rounded(s.start),
        "end": rounded(s.end),
        "finished_at": s.flow_time,
    }
