"""A live test's status as the Locust master sees it: one document for `mockgc run`'s progress lines (status.json)
and the web UI's mockgc tab (/mockgc/status). Kept free of Locust imports, so tests build it from plain values.

The session counts are the checker's own classes, judged per flow as it ends (inlocust/driver.py's
`checked_outcome`), and provisional: only the final truth can show that an acknowledged value was
lost later (`ack_lost`), or a session that never finished. The verdict comes at the stop.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockgc.checker.result import BAD_CLASSES, CLASSES, OK

STATUS_FILE = "status.json"
MAX_LOST_SHOWN = 50  # the lost sessions a status carries (the latest); sessions.json has every one at the end
RUNNING, STOPPING, STOPPED = "running", "stopping", "stopped"


@dataclass(frozen=True)
class Load:
    """What Locust itself says: its state, users, requests per second, and when the test started (epoch s)."""

    state: str
    users: int
    requests_per_s: float
    started: float
    now: float
    duration_s: float | None  # the planned load time (Locust's --run-time), None when it runs until stopped


@dataclass
class Nemesis:
    """The publishes: their schedule (offsets from the start), what the nemesis did, how long a window lasts."""

    scheduled: Sequence[float]
    records: Sequence[Mapping[str, Any]]
    window_s: float


@dataclass
class Sessions:
    """The flows that ended so far, by class (all processes), those still in flight, and the bad ones seen."""

    by_class: Mapping[str, int]
    in_flight: int = 0
    lost: Sequence[Mapping[str, Any]] = field(default_factory=list)


def publishes(nemesis: Nemesis, now: float, started: float) -> list[dict[str, Any]]:
    """Each scheduled publish: when it started and its window ends (seconds from the start), and its state."""
    shown = []
    by_index = {int(r.get("index", -1)): r for r in nemesis.records}
    for index, offset in enumerate(nemesis.scheduled):
        record = by_index.get(index)
        entry: dict[str, Any] = {"number": index + 1, "scheduled_s": round(offset, 3), "state": "scheduled"}
        if record is not None and record.get("error"):
            entry |= {"state": "failed", "error": str(record["error"])}
        elif record is not None:
            began = float(record.get("invokedAt", started + offset)) - started
            ends = began + nemesis.window_s
            entry |= {
                "started_s": round(began, 3),
                "ends_s": round(ends, 3),
                "operation": record.get("operationId"),
                "state": "in window" if now - started < ends else "ended",
            }
        shown.append(entry)
    return shown


def publish_at(seconds: float | None, shown: Sequence[Mapping[str, Any]]) -> int | None:
    """The number of the publish whose window holds this instant (seconds from the start), the latest started."""
    if seconds is None:
        return None
    holding = [p["number"] for p in shown if "started_s" in p and p["started_s"] <= seconds < p["ends_s"]]
    return max(holding) if holding else None


def verdict_so_far(by_class: Mapping[str, int]) -> str:
    """What the counts say before the truth: a bad session fails the run whatever comes after it."""
    bad = sum(by_class.get(name, 0) for name in BAD_CLASSES)
    if bad:
        return "fails (provisional: sessions lost so far)"
    if by_class.get(OK, 0):
        return "no session lost so far (provisional: the verdict comes at the stop)"
    return "no session has ended yet"


def live_status(
    load: Load, nemesis: Nemesis, sessions: Sessions, judged: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The status document: elapsed of total, users, requests/s, sessions by class (provisional), publishes
    (each as it fires), the lost sessions so far (with the publish that held them), and the judgement once made."""
    elapsed = max(0.0, load.now - load.started)
    shown = publishes(nemesis, load.now, load.started)
    counts = {name: int(sessions.by_class.get(name, 0)) for name in CLASSES}
    total = sum(counts.values())
    bad = sum(counts[name] for name in BAD_CLASSES)
    lost = [
        dict(entry) | {"publish": publish_at(entry.get("time_s"), shown)}
        for entry in list(sessions.lost)[-MAX_LOST_SHOWN:]
    ]
    return {
        "state": load.state,
        "elapsed_s": round(elapsed, 1),
        "duration_s": load.duration_s,
        "users": load.users,
        "requests_per_s": round(load.requests_per_s, 1),
        "sessions": {
            "total": total,
            "by_class": counts,
            "bad": bad,
            "bad_pct": round(100.0 * bad / total, 1) if total else None,
            "provisional": judged is None,
            "in_flight": sessions.in_flight,
        },
        "verdict_so_far": verdict_so_far(counts) if judged is None else judged.get("verdict"),
        "publishes": shown,
        "publishes_fired": sum(1 for p in shown if p["state"] in ("in window", "ended")),
        "publishes_failed": sum(1 for p in shown if p["state"] == "failed"),
        "lost_so_far": lost,
        "judged": dict(judged) if judged is not None else None,
    }


def write_status(directory: Path, status: Mapping[str, Any]) -> None:
    """status.json, replaced whole, so a reader (mockgc run's progress) never sees half of it."""
    tmp = directory / (STATUS_FILE + ".tmp")
    tmp.write_text(json.dumps(status, sort_keys=True))
    tmp.replace(directory / STATUS_FILE)


def read_status(directory: Path) -> dict[str, Any]:
    """The last status.json the master wrote, {} when there is none yet (or it is not a status)."""
    try:
        data = json.loads((directory / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
