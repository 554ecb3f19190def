"""The Jepsen-style checker: a pure function from a history (plus ground truth) to outcomes and a verdict.

The history is read once (mockgc/checker/reading.py), every interaction classified by the one
classifier (mockgc/checker/classify.py), and the named sub-checkers (mockgc/checker/checkers.py)
each give their part of the result, joined by `compose`.
"""

from __future__ import annotations

from typing import Any

from mockgc.checker.checkers import Judged, compose, consistency, cost, latency_by_window, sessions, timeline
from mockgc.checker.classify import EVALUATE_LOG, Ground, classify
from mockgc.checker.figures import latency_summary, percentile
from mockgc.checker.reading import HistoryError, gc_paused, read_history
from mockgc.checker.result import INDETERMINATE, Result

__all__ = ["CHECKERS", "EVALUATE_LOG", "HistoryError", "check", "judge_flow", "latency_summary", "percentile"]

# The result, part by part.
CHECKERS = compose(sessions, consistency, latency_by_window, cost, timeline)


def check(
    history: list[dict[str, Any]],
    truth: dict[str, dict[str, Any]],
    windows: list[tuple[float, float]],
    *,
    mitigation: str,
    fault_profile: str,
    seed: int,
    store: dict[str, str | None] | None = None,
    repairs: dict[str, float] | None = None,
    variable: str = "preferenceCode",
    extra: dict[str, Any] | None = None,
    include_sessions: bool = False,
) -> Result:
    """Classify every session in `history` and report the cost.

    Sessions are the keys in the history; entries whose key is None are calls no session owns
    (a worker's): they count in the cost, never as sessions. The flow entry (the latest per key
    by time; ties: the later one listed) says what the mitigation reports; it is never evidence.
    A personalized branch counts only on a driver-recorded ok completion that carried the
    expected value (an evaluate of the flow's session and `variable`, confirmed by the truth's
    evaluate log when it has one, or a store read of the flow's storeKey); a claim without it is
    `unverified`. Durability compares the final stored value (the store for a flow with a
    storeKey, else the ground truth) with the expected one. A write counts as acknowledged when
    the flow says so, the history shows a 2xx Set Data / store put of the expected value, or the
    branch's evidence showed the value stored. Primary class precedence: indeterminate >
    corrupted > unverified > ack_lost > lost > ok. Calls whose f starts with "store_" or "action_"
    (a Data Action call to the user's service: action_set writes, action_get reads like store_get)
    are counted apart from platform calls. Invokes are paired with completions per (process, key, f) in
    order; latency is inside a publish window when the invoke time is in [start, end).

    Raises HistoryError for a history no driver writes: an unknown entry type, a flow entry
    without a key or a value, a completion without its invoke, a malformed field.
    """
    ground = Ground(truth, store, variable)
    with gc_paused():
        reading = read_history(history)
        outcomes = [classify(reading.interactions[key], ground) for key in sorted(reading.interactions)]
        judged = Judged(reading, outcomes, ground, windows, repairs or {}, include_sessions)
        result: dict[str, Any] = {"mitigation": mitigation, "fault_profile": fault_profile, "seed": seed}
        result |= CHECKERS(judged)
    for k, v in (extra or {}).items():
        if k in result:
            raise ValueError(f"extra key {k!r} would overwrite the checker's own result")
        result[k] = v
    return result  # type: ignore[return-value]


def judge_flow(
    entries: list[dict[str, Any]], key: str, truth: dict[str, dict[str, Any]], store: dict[str, str | None] | None
) -> str:
    """The class of one finished flow from its own entries, by the same classifier as the verdict's;
    indeterminate when its entries cannot be judged."""
    try:
        interaction = read_history(entries).interactions.get(key)
    except HistoryError:
        return INDETERMINATE
    return INDETERMINATE if interaction is None else classify(interaction, Ground(truth, store))["class"]
