"""The trace of a publish, as data: versioned JSON Lines, one event per line (README, "Your own publishes").

The first line names the format, `{"type": "trace", "format": "mockgc-trace", "version": 1, "source": ...}`;
then, in any order:

- `org`: `businessUnit`, `agents` (how many agents it has), optionally `members` (their ids);
- `publish`: `businessUnit`, `operation`, `started`, `ended` (either may be null when unknown);
- `status`: `agent`, `at`, `from`, `to`, optionally `businessUnit`: a routing-status or presence change;
- `call`: `agent`, `at`, `operation` (`set` or `evaluate`), `status` (HTTP; 0 for no answer), and where
  known `error` (the platform's error code, e.g. `script.session.locked`), `durationMs`, `conversation`,
  `session`, `participant`, `branch`, `value`, `businessUnit`.

Times are ISO 8601 with an offset (`2026-11-23T12:00:01.250Z`), or epoch milliseconds as a number.
Unknown fields are ignored, so a later version can add some; another `version` is refused.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

FORMAT = "mockgc-trace"
VERSION = 1
OPERATIONS = ("set", "evaluate")
MAX_EPOCH_S = 32_503_680_000.0  # the year 3000: bounds every time so arithmetic stays finite


class TraceError(ValueError):
    """The trace is not one this version reads: one readable line saying where and what."""


@dataclass(frozen=True, slots=True)
class OrgEvent:
    business_unit: str
    agents: int
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PublishEvent:
    business_unit: str
    operation: str
    started: float | None
    ended: float | None


@dataclass(frozen=True, slots=True)
class StatusEvent:
    agent: str
    at: float
    before: str | None
    after: str | None
    business_unit: str | None = None


@dataclass(frozen=True, slots=True)
class CallEvent:
    agent: str
    at: float
    operation: str
    status: int
    error: str | None = None
    duration_ms: float | None = None
    conversation: str | None = None
    session: str | None = None
    participant: str | None = None
    branch: str | None = None
    value: str | None = None
    business_unit: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def completed(self) -> float | None:
        """When the answer came, where the duration is known."""
        return None if self.duration_ms is None else self.at + self.duration_ms / 1000


@dataclass
class Trace:
    """A publish (or several) as the platform showed it: what `calibrate` fits and `trace:` replays."""

    source: str = "unknown"
    orgs: list[OrgEvent] = field(default_factory=list)
    publishes: list[PublishEvent] = field(default_factory=list)
    statuses: list[StatusEvent] = field(default_factory=list)
    calls: list[CallEvent] = field(default_factory=list)

    def sorted(self) -> Trace:
        """Events in time order (publishes by start, unknown starts by end)."""
        return Trace(
            self.source,
            list(self.orgs),
            sorted(self.publishes, key=lambda p: p.started if p.started is not None else p.ended or 0.0),
            sorted(self.statuses, key=lambda s: s.at),
            sorted(self.calls, key=lambda c: c.at),
        )


# -- times ------------------------------------------------------------------------------------------------


def parse_time(value: Any, what: str) -> float:
    """Epoch seconds from ISO 8601 with an offset, or from epoch milliseconds."""
    if isinstance(value, bool):
        raise TraceError(f"{what} must be a time, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value) / 1000
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            raise TraceError(f"{what} is not an ISO 8601 time: {value[:40]!r}") from None
        if moment.tzinfo is None:
            raise TraceError(f"{what} needs an offset (Z or +hh:mm): {value[:40]!r}")
        seconds = moment.timestamp()
    else:
        raise TraceError(f"{what} must be a time, got {type(value).__name__}")
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_EPOCH_S:
        raise TraceError(f"{what} is out of range: {value!r}")
    return seconds


def format_time(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- one event from a mapping (JSON lines and CSV rows share it) -----------------------------------------


def _text(data: dict[str, Any], key: str, what: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise TraceError(f"{what} needs {key} (a string)")
        return None
    if not isinstance(value, str):
        raise TraceError(f"{what}: {key} must be a string, got {type(value).__name__}")
    return value


def _optional_time(data: dict[str, Any], key: str, what: str) -> float | None:
    value = data.get(key)
    return None if value is None or value == "" else parse_time(value, f"{what}: {key}")


def _number(value: Any, what: str, *, integer: bool = False) -> float:
    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            raise TraceError(f"{what} must be a number, got {value[:20]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TraceError(f"{what} must be a number, got {value!r}")
    if integer and value != int(value):
        raise TraceError(f"{what} must be a whole number, got {value!r}")
    return float(value)


def event_from(data: dict[str, Any], where: str) -> OrgEvent | PublishEvent | StatusEvent | CallEvent:
    """One event from its fields; TraceError naming `where` (a file and line) when it is not one."""
    kind = data.get("type")
    what = f"{where}: a {kind} event"
    if kind == "org":
        agents = _number(data.get("agents"), f"{what}: agents", integer=True)
        if agents < 0:
            raise TraceError(f"{what}: agents must not be negative")
        members = data.get("members") or ()
        if not isinstance(members, list | tuple) or not all(isinstance(m, str) for m in members):
            raise TraceError(f"{what}: members must be a list of agent ids")
        return OrgEvent(_text(data, "businessUnit", what, required=True) or "", int(agents), tuple(members))
    if kind == "publish":
        started, ended = _optional_time(data, "started", what), _optional_time(data, "ended", what)
        if started is not None and ended is not None and ended < started:
            raise TraceError(f"{what} ends before it starts")
        return PublishEvent(
            _text(data, "businessUnit", what, required=True) or "",
            _text(data, "operation", what, required=True) or "",
            started,
            ended,
        )
    if kind == "status":
        return StatusEvent(
            _text(data, "agent", what, required=True) or "",
            parse_time(data.get("at"), f"{what}: at"),
            _text(data, "from", what),
            _text(data, "to", what),
            _text(data, "businessUnit", what),
        )
    if kind == "call":
        operation = _text(data, "operation", what, required=True)
        if operation not in OPERATIONS:
            raise TraceError(f"{what}: operation must be one of {', '.join(OPERATIONS)}, got {operation!r}")
        status = _number(data.get("status"), f"{what}: status", integer=True)
        if not 0 <= status <= 599:
            raise TraceError(f"{what}: status must be an HTTP status (0 for no answer)")
        duration = data.get("durationMs")
        duration_ms = None if duration is None or duration == "" else _number(duration, f"{what}: durationMs")
        if duration_ms is not None and not 0 <= duration_ms <= 86_400_000:
            raise TraceError(f"{what}: durationMs must be between 0 and a day")
        return CallEvent(
            _text(data, "agent", what, required=True) or "",
            parse_time(data.get("at"), f"{what}: at"),
            operation,
            int(status),
            _text(data, "error", what),
            duration_ms,
            _text(data, "conversation", what),
            _text(data, "session", what),
            _text(data, "participant", what),
            _text(data, "branch", what),
            _text(data, "value", what),
            _text(data, "businessUnit", what),
        )
    raise TraceError(f"{where}: unknown event type {kind!r} (org, publish, status or call)")


def add_event(trace: Trace, event: OrgEvent | PublishEvent | StatusEvent | CallEvent) -> None:
    if isinstance(event, CallEvent):
        trace.calls.append(event)
    elif isinstance(event, StatusEvent):
        trace.statuses.append(event)
    elif isinstance(event, PublishEvent):
        trace.publishes.append(event)
    else:
        trace.orgs.append(event)


# -- JSON Lines ----------------------------------------------------------------------------------------------


def header(source: str) -> dict[str, Any]:
    return {"type": "trace", "format": FORMAT, "version": VERSION, "source": source}


def read_jsonl(path: str | Path) -> Trace:
    """A trace file; TraceError (one line, with the line number) for anything this version cannot read."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise TraceError(f"cannot read the trace {path}: {error.strerror or error}") from None
    with handle:
        return parse_lines(handle, str(path))


def parse_lines(lines: Iterable[str], name: str) -> Trace:
    trace: Trace | None = None
    try:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{name} line {number}"
            try:
                data = json.loads(line)
            except ValueError as error:
                raise TraceError(f"{where} is not JSON: {error}") from None
            if not isinstance(data, dict):
                raise TraceError(f"{where} is not a JSON object")
            if trace is None:
                trace = _from_header(data, where)
                continue
            add_event(trace, event_from(data, where))
    except UnicodeDecodeError:
        raise TraceError(f"{name} is not UTF-8 text") from None
    if trace is None:
        raise TraceError(f"{name} is empty: a trace starts with its format line")
    return trace


def _from_header(data: dict[str, Any], where: str) -> Trace:
    if data.get("type") != "trace" or data.get("format") != FORMAT:
        raise TraceError(f"{where}: a trace starts with {json.dumps(header('...'))}")
    if data.get("version") != VERSION:
        raise TraceError(f"{where}: trace version {data.get('version')!r}; this mockgc reads version {VERSION}")
    source = data.get("source", "unknown")
    return Trace(source if isinstance(source, str) else "unknown")


def event_to_dict(event: OrgEvent | PublishEvent | StatusEvent | CallEvent) -> dict[str, Any]:
    if isinstance(event, OrgEvent):
        data: dict[str, Any] = {"type": "org", "businessUnit": event.business_unit, "agents": event.agents}
        if event.members:
            data["members"] = list(event.members)
        return data
    if isinstance(event, PublishEvent):
        return {
            "type": "publish",
            "businessUnit": event.business_unit,
            "operation": event.operation,
            "started": None if event.started is None else format_time(event.started),
            "ended": None if event.ended is None else format_time(event.ended),
        }
    if isinstance(event, StatusEvent):
        data = {"type": "status", "agent": event.agent, "at": format_time(event.at), "from": event.before}
        data["to"] = event.after
        if event.business_unit:
            data["businessUnit"] = event.business_unit
        return data
    data = {
        "type": "call",
        "agent": event.agent,
        "at": format_time(event.at),
        "operation": event.operation,
        "status": event.status,
        "error": event.error,
    }
    optional = {
        "durationMs": event.duration_ms,
        "conversation": event.conversation,
        "session": event.session,
        "participant": event.participant,
        "branch": event.branch,
        "value": event.value,
        "businessUnit": event.business_unit,
    }
    return data | {k: v for k, v in optional.items() if v is not None}


def events(trace: Trace) -> Iterator[OrgEvent | PublishEvent | StatusEvent | CallEvent]:
    yield from trace.orgs
    yield from trace.publishes
    yield from trace.statuses
    yield from trace.calls


def write_jsonl(trace: Trace, out: IO[str]) -> int:
    """The trace as JSON Lines; returns how many events were written."""
    out.write(json.dumps(header(trace.source)) + "\n")
    written = 0
    for event in events(trace):
        out.write(json.dumps(event_to_dict(event), separators=(",", ":")) + "\n")
        written += 1
    return written


def save(trace: Trace, path: str | Path) -> int:
    """Written whole or not at all (a temporary file replaced)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        written = write_jsonl(trace, out)
    tmp.replace(path)
    return written
