"""What each session went through, read from the history: its agent, its session id, the call that failed it,
the publish that held it, and (for a session whose data went wrong) its own operations, for sessions.json and
the report's table of lost sessions."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from mockgc.checker.result import BAD_CLASSES, CLASSES, DEFAULT, HOLDS, INDETERMINATE

# The calls that carry the customer's data: the one that failed a session is one of these.
DATA_CALLS = frozenset(
    {
        "set_data",
        "evaluate",
        "read_session",
        "attach",
        "store_put",
        "store_get",
        "script_data",
        "action_set",
        "action_get",
    }
)


def _held_by(at: float | None, operations: list[dict[str, Any]]) -> str | None:
    """The publish operation whose window [start, end) holds the instant `at` (the latest started, if several)."""
    if at is None:
        return None
    holding = [op for op in operations if op["startedEpochMs"] / 1000.0 <= at < op["completesEpochMs"] / 1000.0]
    return max(holding, key=lambda op: op["startedEpochMs"])["operationId"] if holding else None


def failing_calls(entries: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(first, last) data call of a session that did not succeed; where none failed, the evaluate (or store read)
    that answered the default, as both. The first is where the data was lost (a Set Data refused by the lock);
    the last is where the flow gave up (often the evaluate that then answered the default)."""
    invoked: dict[str, float] = {}
    first = failed = fallback = None
    for entry in entries:
        kind, f = entry.get("type"), entry.get("f")
        if kind == "invoke":
            invoked[f] = entry["time"]
            continue
        if kind not in ("ok", "fail", "info") or f not in DATA_CALLS:
            continue
        call = {"f": f, "status": entry.get("status"), "code": entry.get("code"), "at": invoked.get(f, entry["time"])}
        value = entry.get("value")
        if kind != "ok":
            failed = call
            first = first or call
        elif f in ("evaluate", "store_get") and (
            (isinstance(value, dict) and value.get("branch") == DEFAULT) or (f == "store_get" and not value)
        ):
            fallback = call | {"code": "default branch"}
    return first or fallback, failed or fallback


def _operation(entry: dict[str, Any], origin: float) -> dict[str, Any]:
    shown = {"t": round(entry["time"] - origin, 3), "type": entry["type"], "f": entry.get("f")}
    if entry["type"] == "invoke":
        shown["params"] = entry.get("params")
    elif entry["type"] == "flow":
        shown["value"] = entry.get("value")
    else:
        shown |= {"status": entry.get("status"), "code": entry.get("code")}
    return shown


def session_details(
    history: list[dict[str, Any]],
    sessions: list[dict[str, Any]],
    operations: list[dict[str, Any]],
    names: dict[str, str] | None = None,
    nemesis: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The checker's per-session outcomes with agent (its name from `names`), session_id, start, the first and
    the last failing call, the publish operation whose window held the first (and its number, 1-based, in the
    nemesis's order: the Nemesis table's); and `operations` (times in seconds from the session's first entry)
    for each session whose data went wrong."""
    numbers = {r.get("operationId"): int(r.get("index", 0)) + 1 for r in nemesis or [] if r.get("operationId")}
    by_key: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for entry in history:
        if entry.get("key") is not None:
            by_key[entry["key"]].append(entry)
    detailed = []
    for session in sessions:
        entries = by_key.get(session["key"], [])
        agent = session_id = None
        for entry in entries:
            if entry.get("type") == "invoke" and entry.get("f") == "create_call":
                agent = (entry.get("params") or {}).get("userId", agent)
            elif entry.get("type") == "ok" and entry.get("f") == "create_session":
                session_id = (entry.get("value") or {}).get("id", session_id)
            elif entry.get("type") == "flow":
                session_id = (entry.get("value") or {}).get("sessionId") or session_id
        first, failing = failing_calls(entries)
        held_by = _held_by(first["at"] if first else None, operations)
        start = entries[0]["time"] if entries else None
        extra: dict[str, Any] = {
            "agent": agent,
            "agent_name": (names or {}).get(agent) if agent else None,
            "session_id": session_id,
            "start": start,
            # Where the data went wrong: the first failing call's time, else (acknowledged, then lost) the start.
            "in_window": _held_by(first["at"] if first else start, operations) is not None,
            "first_failing_call": first,
            "failing_call": failing,
            "held_by": held_by,
            "publish": numbers.get(held_by) if held_by else None,
        }
        if session["class"] in BAD_CLASSES and entries:
            origin = entries[0]["time"]
            extra["operations"] = [_operation(e, origin) for e in entries]
        detailed.append(session | extra)
    return detailed


# How the report names the calls that carry the customer's data.
CALL_NAMES = {
    "set_data": "Set Data",
    "evaluate": "evaluate",
    "read_session": "read session",
    "attach": "re-attach",
    "store_put": "store write",
    "store_get": "store read",
    "script_data": "script-data",
    "action_set": "Data Action set",
    "action_get": "Data Action get",
}


def call_text(call: dict[str, Any] | None) -> str:
    """'Set Data → 400 script.session.locked'; what an acknowledged-then-lost session shows when no call failed."""
    if not call:
        return "none failed (acknowledged, then lost)"
    name = CALL_NAMES.get(call["f"], str(call["f"]))
    return f"{name} → {call.get('status')} {call.get('code') or ''}".strip()


def finding(result: dict[str, Any], sessions: list[dict[str, Any]]) -> str:
    """The report's first line, one sentence: how many sessions of how many lost what, where, and the first
    failing call, e.g. "373 of 1,467 sessions (25%) lost the customer's preference (lost 340, ack_lost 33), all
    inside publish windows; first failing call: Set Data → 400 script.session.locked"."""
    counts = result["sessions"]
    total = counts["total"]
    bad = [x for x in sessions if x.get("class") in BAD_CLASSES]
    unfinished = counts.get(INDETERMINATE, 0)
    tail = f"; {unfinished:,} never finished or took no branch (indeterminate)" if unfinished else ""
    if not bad and not sum(counts.get(name, 0) for name in BAD_CLASSES):
        verdict = "holds" if result.get("verdict") == HOLDS else result.get("verdict")
        return f"No session of {total:,} lost the customer's preference ({verdict}){tail}"
    lost = len(bad) or sum(counts.get(name, 0) for name in BAD_CLASSES)
    kinds = [f"{name} {counts[name]:,}" for name in CLASSES if name in BAD_CLASSES and counts.get(name)]
    text = f"{lost:,} of {total:,} sessions ({100 * lost / total:.0f}%) lost the customer's preference"
    text += f" ({', '.join(kinds)})" if len(kinds) > 1 else ""
    inside = sum(1 for x in bad if x.get("in_window"))
    if bad:
        where = {len(bad): "all inside publish windows", 0: "none inside a publish window"}
        text += ", " + where.get(inside, f"{inside:,} inside publish windows, {len(bad) - inside:,} outside")
    first_calls = Counter(call_text(x.get("first_failing_call")) for x in bad)
    if first_calls:
        call, times = first_calls.most_common(1)[0]
        text += f"; first failing call: {call}" + ("" if times == len(bad) else f" (in {times:,} of them)")
    return text + tail


def session_p95(sessions: list[dict[str, Any]]) -> float | None:
    """The p95 session length in seconds, first call to the flow's end (what a customer waited), None for none."""
    try:
        lengths = sorted(x["end"] - x["start"] for x in sessions if x.get("end") is not None)
    except (KeyError, TypeError):
        return None
    return lengths[min(len(lengths) - 1, int(len(lengths) * 0.95))] if lengths else None


def read_sessions(directory: Path) -> list[dict[str, Any]]:
    """A run's sessions.json, [] when it has none (a run cut short) or it cannot be read."""
    try:
        data = json.loads((directory / "sessions.json").read_text())
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []
