"""The trace format and its readers: JSON Lines (versioned), the documented CSV, and hostile input refused in one line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from mockgc.explore.calibrate.command import calibration_json
from mockgc.explore.calibrate.fit import fit
from mockgc.explore.calibrate.sources import CSV_COLUMNS, read_csv, read_trace
from mockgc.explore.calibrate.trace import (
    CallEvent,
    OrgEvent,
    PublishEvent,
    StatusEvent,
    Trace,
    TraceError,
    event_to_dict,
    events,
    parse_lines,
    read_jsonl,
    save,
)
from tests.explore.calibrate.simulated import TRUE_PROFILES, simulated_trace

HEADER = '{"type": "trace", "format": "mockgc-trace", "version": 1, "source": "test"}'
T0 = 1_800_000_000.0


def sample() -> Trace:
    return Trace(
        "test",
        [OrgEvent("bu", 3, ("a", "b", "c"))],
        [PublishEvent("bu", "op-1", T0, T0 + 4.5), PublishEvent("bu", "op-2", None, T0 + 90.0)],
        [StatusEvent("a", T0 + 2.5, "Available", "Reserved", "bu")],
        [
            CallEvent("a", T0 + 1.25, "set", 400, "script.session.locked", 12.0, "c1", "s1", "p1", None, "PREF-1"),
            CallEvent("b", T0 + 3.0, "evaluate", 200, None, 8.0, "c2", "s2", "p2", "personalized", "PREF|2"),
        ],
    )


def test_a_trace_round_trips_through_its_file(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    assert save(sample(), path) == 6
    again = read_jsonl(path)
    assert again == sample()
    first = path.read_text().splitlines()[0]
    assert json.loads(first) == {"type": "trace", "format": "mockgc-trace", "version": 1, "source": "test"}


def test_times_take_an_offset_or_epoch_milliseconds() -> None:
    lines = [
        HEADER,
        '{"type":"status","agent":"a","at":"2027-01-15T08:00:00.250+02:00","from":null,"to":"Busy"}',
        '{"type":"status","agent":"b","at":1800000000250,"from":null,"to":"Busy"}',
        '{"type":"status","agent":"c","at":"2027-01-15T06:00:00.250Z","from":null,"to":"Busy"}',
    ]
    trace = parse_lines(lines, "t")
    assert trace.statuses[0].at == trace.statuses[2].at
    assert trace.statuses[1].at == pytest.approx(1_800_000_000.25)


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        ([], "is empty"),
        (['{"type": "call"}'], "line 1: a trace starts with"),
        (['{"type": "trace", "format": "mockgc-trace", "version": 2}'], "trace version 2; this mockgc reads version 1"),
        ([HEADER, "{not json"], "line 2 is not JSON"),
        ([HEADER, "[1, 2]"], "line 2 is not a JSON object"),
        ([HEADER, '{"type": "meteor"}'], "unknown event type 'meteor'"),
        ([HEADER, '{"type": "call", "at": 1, "operation": "set", "status": 200}'], "needs agent"),
        (
            [HEADER, '{"type": "call", "agent": "a", "at": "yesterday", "operation": "set", "status": 200}'],
            "not an ISO 8601",
        ),
        (
            [HEADER, '{"type": "call", "agent": "a", "at": "2027-01-15T06:00:00", "operation": "set", "status": 200}'],
            "needs an offset",
        ),
        ([HEADER, '{"type": "call", "agent": "a", "at": 1e30, "operation": "set", "status": 200}'], "out of range"),
        (
            [HEADER, '{"type": "call", "agent": "a", "at": 1, "operation": "delete", "status": 200}'],
            "operation must be one of",
        ),
        ([HEADER, '{"type": "call", "agent": "a", "at": 1, "operation": "set", "status": 999}'], "HTTP status"),
        ([HEADER, '{"type": "call", "agent": "a", "at": 1, "operation": "set", "status": true}'], "must be a number"),
        (
            [HEADER, '{"type": "call", "agent": 5, "at": 1, "operation": "set", "status": 200}'],
            "agent must be a string",
        ),
        (
            [HEADER, '{"type": "call", "agent": "a", "at": 1, "operation": "set", "status": 200, "durationMs": -1}'],
            "durationMs",
        ),
        ([HEADER, '{"type": "org", "businessUnit": "bu", "agents": -3}'], "must not be negative"),
        ([HEADER, '{"type": "org", "businessUnit": "bu", "agents": 2.5}'], "whole number"),
        ([HEADER, '{"type": "org", "businessUnit": "bu", "agents": 2, "members": [1]}'], "members must be"),
        (
            [HEADER, '{"type": "publish", "businessUnit": "bu", "operation": "o", "started": 5000, "ended": 1000}'],
            "ends before it starts",
        ),
    ],
)
def test_a_trace_this_version_cannot_read_is_one_line(lines: list[str], says: str) -> None:
    with pytest.raises(TraceError) as caught:
        parse_lines(lines, "trace.jsonl")
    message = str(caught.value)
    assert says in message and "trace.jsonl" in message and "\n" not in message


def test_binary_and_missing_files_are_one_line(tmp_path: Path) -> None:
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe\xfa" * 10)
    with pytest.raises(TraceError, match="not UTF-8"):
        read_jsonl(binary)
    with pytest.raises(TraceError, match="cannot read the trace"):
        read_jsonl(tmp_path / "absent.jsonl")


def as_csv(trace: Trace) -> str:
    """The trace as the documented CSV: its fields as columns, one event a row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for event in events(trace):
        row = event_to_dict(event)
        if "members" in row:
            row["members"] = " ".join(row["members"])
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def test_the_csv_reads_as_the_same_trace(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(as_csv(sample()))
    trace = read_trace(path)
    assert (trace.orgs, trace.publishes, trace.statuses) == (sample().orgs, sample().publishes, sample().statuses)
    assert trace.calls == sample().calls


def test_calibrate_works_from_the_csv_as_from_the_trace(tmp_path: Path) -> None:
    truth = TRUE_PROFILES["reject"]
    trace = simulated_trace(truth)
    (tmp_path / "t.csv").write_text(as_csv(trace))
    save(trace, tmp_path / "t.jsonl")
    from_csv, from_jsonl = fit(read_trace(tmp_path / "t.csv")), fit(read_trace(tmp_path / "t.jsonl"))
    assert calibration_json(from_csv) == calibration_json(from_jsonl)
    assert from_csv.publish_lock().batch_size == truth.publish.batch_size


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("at,agent\n1,a\n", "`type` among them"),
        ("type,at,agent,colour\ncall,1,a,red\n", "unknown columns colour"),
        ("type,at,agent,operation,status\ncall,1,a,set,abc\n", "row 2: a call event: status must be a number"),
        ("type,businessUnit,agents\norg,bu,many\n", "row 2: a org event: agents must be a number"),
    ],
)
def test_a_bad_csv_is_one_line_naming_its_row(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(TraceError) as caught:
        read_csv(path)
    assert says in str(caught.value) and "\n" not in str(caught.value)
