"""The history a driver records: Jepsen-style invoke/complete pairs plus one entry per finished flow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockgc.flows.effects import FlowResult, Reply, completion_type

# An operation's entries: its invoke, then one completion (Jepsen's ok, fail or info).
OP_TYPES = frozenset({"invoke", "ok", "fail", "info"})
FLOW = "flow"  # the entry a finished flow leaves


@dataclass
class History:
    """Entries are plain dicts so Locust workers can ship them to the master as JSON.

    Operation entries: {"process", "key", "type": "invoke"|"ok"|"fail"|"info", "f", "time",
    "status" (completions), "code" (error code or None), "params"/"value"}.
    Flow entries: {"process", "key", "type": "flow", "time", "value": FlowResult fields}.
    """

    entries: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, process: str, key: str | None, f: str, params: dict[str, Any], time: float) -> None:
        self.entries.append({"process": process, "key": key, "type": "invoke", "f": f, "time": time, "params": params})

    def complete(self, process: str, key: str | None, f: str, reply: Reply, time: float) -> None:
        self.entries.append(
            {
                "process": process,
                "key": key,
                "type": completion_type(reply),
                "f": f,
                "time": time,
                "status": reply.status,
                "code": reply.detail_code or reply.code or reply.error,
                "value": reply.body if reply.ok else None,
            }
        )

    def finish(self, process: str, result: FlowResult, time: float) -> None:
        self.entries.append(
            {
                "process": process,
                "key": result.key,
                "type": FLOW,
                "time": time,
                "value": {
                    "expected": result.expected,
                    "branch": result.branch,
                    "value": result.value,
                    "sessionId": result.session_id,
                    "acknowledged": result.acknowledged,
                    "storeKey": result.store_key,
                    "notes": list(result.notes),
                },
            }
        )

    def extend(self, entries: list[dict[str, Any]]) -> None:
        self.entries.extend(entries)
