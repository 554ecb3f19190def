"""What each session went through, read from the history: its agent, its session id, the call that failed it,
the publish that held it, and (for a session whose data went wrong) its own operations, for sessions.json and
the report's table of lost sessions."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mockgc.checker.result import BAD_CLASSES, DEFAULT

# The calls that carry the customer's data: the one that failed a session is one of these.
DATA_CALLS = frozenset({"set_data", "evaluate", "read_session", "attach", "store_put", "store_get", "script_data"})


def _held_by(at: float | None, operations: list[dict[str, Any]]) -> str | None:
    """The publish operation whose window [start, end) holds the instant `at` (the latest started, if several)."""
    if at is None:
        return None
    holding = [op for op in operations if op["startedEpochMs"] / 1000.0 <= at < op["completesEpochMs"] / 1000.0]
    return max(holding, key=lambda op: op["startedEpochMs"])["operationId"] if holding else None


def _failing_call(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The last data call that did not succeed; else the evaluate (or store read) that answered the default."""
    invoked: dict[str, float] = {}
    failed = fallback = None
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
        elif f in ("evaluate", "store_get") and (
            (isinstance(value, dict) and value.get("branch") == DEFAULT) or (f == "store_get" and not value)
        ):
            fallback = call | {"code": "default branch"}
    return failed or fallback


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
    history: list[dict[str, Any]], sessions: list[dict[str, Any]], operations: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The checker's per-session outcomes with agent, session_id, failing_call, held_by; and `operations`
    (times in seconds from the session's first entry) for each session whose data went wrong."""
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
        failing = _failing_call(entries)
        extra: dict[str, Any] = {
            "agent": agent,
            "session_id": session_id,
            "failing_call": failing,
            "held_by": _held_by(failing["at"] if failing else None, operations),
        }
        if session["class"] in BAD_CLASSES and entries:
            origin = entries[0]["time"]
            extra["operations"] = [_operation(e, origin) for e in entries]
        detailed.append(session | extra)
    return detailed
