"""The self-contained HTML report: matplotlib charts (Agg) inlined as base64 PNG, no network needed."""

from __future__ import annotations

import base64
import bisect
import html
import io
import itertools
import json
import re
from collections import defaultdict, deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockgc.checker.result import BAD_CLASSES, CLASSES
from mockgc.checker.summary import table_cells
from mockgc.drivers.history_file import read_history
from mockgc.report.untrusted import write_fresh

if TYPE_CHECKING:
    from mockgc.report.records import RunOutcome

MAX_POINTS = 60_000  # scatter points per chart; more are thinned evenly (the chart looks the same)
MAX_LOST_ROWS = 50  # rows of the lost-sessions table; sessions.json has every one
# Jepsen's colours (checker/perf.clj): ok, fail, info.
JEPSEN = {"ok": "#81BFFC", "fail": "#FF1E90", "info": "#FFA400"}
CLASS_COLORS = {
    "ok": JEPSEN["ok"],
    "lost": JEPSEN["fail"],
    "ack_lost": "#d50000",
    "corrupted": "#6a1b9a",
    "unverified": "#ad1457",
    "indeterminate": JEPSEN["info"],
}
CLASS_MARKERS = {"ok": ".", "lost": "X", "ack_lost": "^", "corrupted": "D", "unverified": "s", "indeterminate": "o"}
HUMAN = {
    "ok": "OK",
    "lost": "Lost",
    "ack_lost": "Ack lost",
    "corrupted": "Corrupted",
    "unverified": "Unverified",
    "indeterminate": "Indeterminate",
    "durable": "Durable",
    "not_stored": "Not stored",
    "stored_wrong": "Stored wrong",
    "unknown": "Unknown",
    "personalized_ok": "Personalized (right code)",
    "default": "Default branch",
    "wrong_code": "Wrong code",
    "total": "Total",
}
_SCHEME = re.compile(r"https?://", re.IGNORECASE)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em auto;max-width:1240px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{font-size:1.05em;margin-top:1.4em}
.verdict{display:inline-block;padding:.2em .7em;border-radius:.3em;color:#fff;font-weight:600}
.holds,.pass{background:#2e7d32} .fails,.broken{background:#c62828} .partial,.unknown{background:#ef6c00}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em;max-width:100%}
td,th{border:1px solid #ddd;padding:.2em .45em;text-align:right;vertical-align:top}
th{background:#f4f4f4;white-space:normal} td:first-child,th:first-child{text-align:left}
td.text{text-align:left;word-break:break-all}
img{max-width:100%;border:1px solid #eee;margin:.4em 0} .muted{color:#666;font-size:.9em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.8em}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em} .bad{color:#c62828;font-weight:600}
details summary{cursor:pointer;color:#1565c0} table.lost td,table.lost th{text-align:left} nav ul{columns:2;margin:.3em 0}
"""


def _text(value: Any) -> str:
    """Escaped, with URL schemes dropped so the file references nothing outside itself; n/a for a missing figure."""
    return html.escape(_SCHEME.sub("", "n/a" if value is None else str(value)))


def _human(name: str) -> str:
    return HUMAN.get(name, name.replace("_", " "))


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any, alt: str = "chart") -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    _plt().close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{_text(alt)}" src="data:image/png;base64,{data}">'


def latency_points(history: list[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """Per completion type (ok, fail, info): (invoke times, latencies ms), pairing invokes and completions per
    (process, key, f) in order."""
    pending: dict[tuple[Any, Any, Any], deque[float]] = defaultdict(deque)
    points: dict[str, tuple[list[float], list[float]]] = {}
    for entry in history:
        kind = entry.get("type")
        if kind not in ("invoke", "ok", "fail", "info"):
            continue
        slot = (entry.get("process"), entry.get("key"), entry.get("f"))
        if kind == "invoke":
            pending[slot].append(float(entry["time"]))
            continue
        queue = pending.get(slot)
        if not queue:
            continue
        began = queue.popleft()
        xs, ys = points.setdefault(str(kind), ([], []))
        xs.append(began)
        ys.append(max(0.0, (float(entry["time"]) - began) * 1000.0))
    return points


def _shade(ax: Any, windows: list[list[float]], origin: float) -> None:
    for index, (start, end) in enumerate(windows):
        ax.axvspan(
            start - origin,
            end - origin,
            color="#ffcc80",
            alpha=0.35,
            lw=0,
            label="publish window" if index == 0 else None,
        )


def _legend_outside(ax: Any, **options: Any) -> None:
    """The legend below the axes, where it can hide no point and no bar."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=options.pop("ncol", 7), fontsize=8, **options)


def timeline_chart(history: list[dict[str, Any]], windows: list[list[float]], origin: float) -> str:
    """Jepsen's perf graph: every call's latency over time, coloured ok/fail/info, publish windows shaded."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 3.8))
    _shade(ax, windows, origin)
    points = latency_points(history)
    total = sum(len(xs) for xs, _ in points.values())
    step = max(1, -(-total // MAX_POINTS))
    labels = {"ok": "ok (2xx)", "fail": "fail (4xx/5xx: 400 from a lock, 429...)", "info": "info (no answer)"}
    for kind in ("ok", "info", "fail"):  # failures drawn last, on top
        if kind in points:
            xs, ys = points[kind]
            ax.scatter([x - origin for x in xs[::step]], ys[::step], s=5 if kind == "ok" else 9, alpha=0.6,
                       color=JEPSEN[kind], label=labels[kind], linewidths=0)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("seconds since the first call")
    ax.set_ylabel("call latency (ms, log)")
    ax.set_title("Every call" + (f" (every {step}th)" if step > 1 else ""))
    ax.grid(alpha=0.3)
    _legend_outside(ax, markerscale=2.5)
    return _png(fig, "call latency over time")


def sessions_chart(sessions: list[dict[str, Any]], windows: list[list[float]], origin: float) -> str:
    """Each session at its end, by how long it took, marked by its outcome: the bad ones stand out."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 3.8))
    _shade(ax, windows, origin)
    for name in CLASSES:  # ok first, so every other class is drawn over it
        chosen = [s for s in sessions if s.get("class") == name and s.get("end") is not None]
        if not chosen:
            continue
        step = max(1, -(-len(chosen) // MAX_POINTS)) if name == "ok" else 1
        xs = [s["end"] - origin for s in chosen[::step]]
        ys = [max(0.001, s["end"] - s["start"]) for s in chosen[::step]]
        ax.scatter(xs, ys, s=10 if name == "ok" else 28, marker=CLASS_MARKERS[name], color=CLASS_COLORS[name],
                   alpha=0.6 if name == "ok" else 0.9, linewidths=0, label=f"{_human(name)} ({len(chosen)})")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("seconds since the first call (when the session ended)")
    ax.set_ylabel("session length (s, log)")
    ax.set_title("Every session, by its outcome")
    ax.grid(alpha=0.3)
    _legend_outside(ax, markerscale=1.5)
    return _png(fig, "sessions by outcome over time")


def aligned_edges(start: float, end: float, windows: list[list[float]], width: float = 1.0) -> list[float]:
    """Bin edges from `start` to `end`, every `width` seconds and at every window's start and end, so that no bin
    straddles a window's edge; slivers under a quarter bin are merged into their neighbour."""
    if end <= start:
        return [start, start + width]
    marks = {start + i * width for i in range(int((end - start) / width) + 1)} | {end}
    marks |= {t for window in windows for t in window if start < t < end}
    edges: list[float] = []
    fixed = {t for window in windows for t in window}
    for mark in sorted(marks):
        if edges and mark - edges[-1] < width / 4:
            if mark in fixed:
                edges[-1] = mark  # a window's edge wins over a grid mark
            continue
        edges.append(mark)
    if edges[-1] < end:
        edges.append(end)
    return edges


def rates(
    history: list[dict[str, Any]], sessions: list[dict[str, Any]], windows: list[list[float]], origin: float
) -> dict[str, Any]:
    """400s, 429s and sessions whose data went wrong, per second, in bins aligned with the windows."""
    times = {"400": [], "429": [], "bad": []}  # type: dict[str, list[float]]
    for entry in history:
        status = str(entry.get("status"))
        if status in times and entry.get("type") != "invoke" and not str(entry.get("f", "")).startswith("store_"):
            times[status].append(float(entry["time"]))
    times["bad"] = [float(s["end"]) for s in sessions if s.get("class") in BAD_CLASSES and s.get("end") is not None]
    last = max([origin, *(t for column in times.values() for t in column), *(w[1] for w in windows)])
    edges = aligned_edges(origin, last, windows)
    counts = {name: [0] * (len(edges) - 1) for name in times}
    for name, column in times.items():
        for t in column:
            counts[name][max(0, min(len(edges) - 2, bisect.bisect_right(edges, t) - 1))] += 1
    widths = [b - a for a, b in itertools.pairwise(edges)]
    return {"edges": edges} | {
        name: [c / w for c, w in zip(values, widths, strict=True)] for name, values in counts.items()
    }


def rates_chart(binned: dict[str, Any], windows: list[list[float]], origin: float) -> str:
    """400s, 429s and sessions lost per second, publish windows shaded; each window's edge is a bin edge."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 3.2))
    _shade(ax, windows, origin)
    edges = [e - origin for e in binned["edges"]]
    for column, color, label in (
        ("400", JEPSEN["fail"], "400s per second"),
        ("429", "#1565c0", "429s per second"),
        ("bad", "#000", "sessions lost (any bad class) per second"),
    ):
        values = binned[column]
        if values:
            ax.stairs(values, edges, color=color, label=label, lw=1.5)
    ax.set_xlabel("seconds since the first call")
    ax.set_ylabel("per second")
    ax.set_title("Rejections and lost sessions over time (bins end at every window edge)")
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    return _png(fig, "rejections and lost sessions per second")


def latency_window_chart(result: dict[str, Any]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    by_window = result["latency_ms_by_window"]
    marks = ("p50", "p95", "p99")
    for offset, (side, color) in enumerate((("outside", "#90a4ae"), ("inside", "#ef6c00"))):
        values = [by_window[side].get(m) for m in marks]
        bars = ax.bar([i + offset * 0.38 for i in range(len(marks))], [v or 0 for v in values], width=0.38,
                      color=color, label=f"{side} the windows ({by_window[side].get('count', 0)} calls)")  # fmt: skip
        ax.bar_label(bars, labels=["n/a" if v is None else f"{v:.0f}" for v in values], fontsize=7)
    ax.set_xticks([i + 0.19 for i in range(len(marks))], marks)
    ax.set_ylabel("call latency, ms")
    ax.set_title("Latency inside vs outside the publish windows")
    ax.margins(y=0.15)
    _legend_outside(ax, ncol=1)
    return _png(fig, "latency inside and outside the windows")


def outcomes_chart(sessions: dict[str, int]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    counts = [sessions.get(c, 0) for c in CLASSES]
    bars = ax.barh([_human(c) for c in CLASSES], counts, color=[CLASS_COLORS[c] for c in CLASSES])
    ax.bar_label(bars, fontsize=8)
    ax.invert_yaxis()
    ax.margins(x=0.15)
    ax.set_title(f"Sessions by outcome ({sessions.get('total', 0)} in all)")
    return _png(fig, "sessions by outcome")


def consistency_chart(result: dict[str, Any]) -> str:
    """What is stored at the end against what the customer got: the outcome gap is the difference."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 2.6))
    rows = (
        ("Stored at the end (durability)", result.get("durability", {}),
         {"durable": "#2e7d32", "ack_lost": "#d50000", "not_stored": JEPSEN["fail"], "stored_wrong": "#6a1b9a", "unknown": "#bdbdbd"}),
        ("What the customer got (outcome)", result.get("outcome", {}),
         {"personalized_ok": "#2e7d32", "default": JEPSEN["fail"], "wrong_code": "#6a1b9a", "unverified": "#ad1457", "unknown": "#bdbdbd"}),
    )  # fmt: skip
    for y, (label, counts, colours) in enumerate(rows):
        left = 0
        for name, colour in colours.items():
            value = counts.get(name, 0)
            if value:
                ax.barh(label, value, left=left, color=colour, label=_human(name))
                ax.text(left + value / 2, y, str(value), ha="center", va="center", fontsize=8, color="#fff")
                left += value
    ax.invert_yaxis()
    ax.set_xlabel("sessions")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=6, fontsize=8)
    ax.set_title("Durability against outcome")
    return _png(fig, "durability against outcome")


def matrix_chart(rows: list[dict[str, Any]]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 3.6))
    names = [r["mitigation"] for r in rows]
    bottom = [0] * len(rows)
    for c in CLASSES:
        values = [r[c] for r in rows]
        ax.bar(names, values, bottom=bottom, color=CLASS_COLORS[c], label=_human(c))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("sessions")
    ax.set_title("Session outcomes by mitigation")
    _legend_outside(ax, ncol=6)
    return _png(fig, "session outcomes by mitigation")


def _table(headers: list[str], rows: list[list[Any]], *, raw: bool = False, css: str = "") -> str:
    """A table; `raw` cells are HTML already (escaped by the caller)."""
    head = "".join(f"<th>{_text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{v if raw else _text(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table{f' class={css!r}' if css else ''}><tr>{head}</tr>{body}</table>"


def _counts_table(title: str, counts: dict[str, Any]) -> str:
    return _table([title, *(_human(k) for k in counts)], [["sessions", *counts.values()]])


def _badge(result: dict[str, Any]) -> str:
    verdict = result.get("verdict", "?")
    badge = f'<span class="verdict {_text(verdict)}">{_text(verdict)}</span>'
    gate = result.get("gate")
    if gate:
        state = "broken" if gate["broken"] else "pass"
        badge += f' <span class="verdict {state}">gate {"broken" if gate["broken"] else "passed"}</span>'
    if result.get("partial"):
        stopped = result.get("stopped_by")
        reason = f"the {stopped['process']} died" if stopped else "interrupted"
        badge += f' <span class="verdict partial">partial: {_text(reason)}</span>'
        if stopped:
            badge += f" <p>{_text(result['harness']['problems'][0])}</p>"
    return badge


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_text(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def gate_section(result: dict[str, Any], level: str) -> str:
    gate = result.get("gate")
    if not gate:
        return ""
    rows: list[list[Any]] = []
    if gate.get("expected"):
        met = gate["expected"] == result["verdict"]
        rows.append([f"expect {gate['expected']}", result["verdict"], "met" if met else "BROKEN"])
    for check in gate.get("thresholds", []):
        rows.append([f"threshold {check['threshold']}", check["value"], "met" if check["passed"] else "BROKEN"])
    broken = "".join(f"<li class='bad'>{_text(item)}</li>" for item in gate["broken"])
    return (
        f"<{level}>Gate</{level}>"
        + _table(["expectation or threshold", "this run", "result"], rows)
        + (f"<ul>{broken}</ul>" if broken else "<p>Every expectation and threshold was met.</p>")
    )


def consistency_section(result: dict[str, Any], level: str) -> str:
    consistency = result.get("consistency") or {}
    ttc = consistency.get("time_to_consistency_ms") or {}
    total = result["sessions"].get("total", 0)
    durable = (result.get("durability") or {}).get("durable", 0)
    gap = consistency.get("outcome_gap", 0)
    text = (
        f"<p><b>{_text(durable)}</b> of {_text(total)} sessions hold the right value at the end (durable). "
        f"<b>{_text(gap)}</b> of those are the <i>outcome gap</i>: durable now, but the customer already got the "
        "default branch. "
    )
    if consistency.get("repaired"):
        text += (
            f"A repair worker re-applied <b>{_text(consistency['repaired'])}</b> sessions; time to consistency "
            f"(first write to repair): p50 <b>{_text(_seconds(ttc.get('p50')))}</b>, "
            f"max <b>{_text(_seconds(ttc.get('max')))}</b>."
        )
    else:
        text += "Nothing was repaired (time to consistency: n/a)."
    return f"<{level}>Consistency</{level}>" + text + "</p>" + consistency_chart(result)


def own_service_section(result: dict[str, Any], level: str) -> str:
    """The user's own service or worker: how durability was read and how the wait for the worker ended."""
    services = result.get("services") or {}
    rows: list[list[Any]] = []
    action = services.get("data_action") or {}
    for name in ("durability", "timeout_s", "evaluate_on_platform", "read_back", "unanswered"):
        if name in action:
            rows.append([f"data action: {name.replace('_', ' ')}", action[name]])
    worker = services.get("worker") or {}
    if worker.get("driver") == "external":
        wait = worker.get("consistency_wait") or {}
        rows += [
            ["external worker", worker.get("mode")],
            [
                "wait after the load",
                "settled" if wait.get("settled") else "timed out" if wait.get("timed_out") else None,
            ],
            ["waited (s)", wait.get("waited_s")],
            [
                "truth polls (repair times within s)",
                f"{worker.get('truth_polls')} ({worker.get('repair_time_resolution_s')})",
            ],
        ]
    if not rows:
        return ""
    # URLs are left out: the report links nowhere (it is self-contained).
    return f"<{level}>Your service</{level}>" + _table(["", ""], rows)


def _seconds(ms: Any) -> str | None:
    return None if ms is None else f"{ms / 1000:.2f} s"


def nemesis_section(result: dict[str, Any], level: str) -> str:
    harness = result.get("harness", {})
    nemesis = harness.get("nemesis", [])
    if not nemesis:
        return ""
    operations = {op["operationId"]: op for op in result.get("publish_operations", [])}
    rows = []
    for record in nemesis:
        op = operations.get(record.get("operationId"), {})
        window = (op["completesEpochMs"] - op["startedEpochMs"]) / 1000.0 if "completesEpochMs" in op else None
        rows.append(
            [
                record.get("index"),
                record.get("offset"),
                record.get("operationId"),
                record.get("status"),
                op.get("status") or ("failed" if record.get("error") else None),
                None if window is None else f"{window:g}",
                record.get("error") or "",
            ]
        )
    return f"<{level}>Nemesis</{level}>" + _table(
        ["publish", "scheduled at (s)", "operation", "answered", "final state", "window (s)", "error"], rows
    )


def _call(call: dict[str, Any] | None) -> str:
    if not call:
        return "none failed (acknowledged, then lost)"
    return f"{call['f']} → {call.get('status')} {call.get('code') or ''}".strip()


def lost_sessions_section(sessions: list[dict[str, Any]], level: str) -> str:
    """Which sessions lost data: agent, session, the call that failed it, the publish that held it, its operations."""
    bad = [s for s in sessions if s.get("class") in BAD_CLASSES]
    if not bad:
        return f"<{level}>Lost sessions</{level}><p>None: no session lost, ack-lost, corrupted or unverified.</p>"
    rows = []
    for s in bad[:MAX_LOST_ROWS]:
        operations = s.get("operations") or []
        details = _table(
            ["t (s)", "entry", "call", "status / params"],
            [
                [
                    op.get("t"),
                    op.get("type"),
                    op.get("f") or "",
                    json.dumps(
                        op.get("params") or op.get("value") or {"status": op.get("status"), "code": op.get("code")},
                        sort_keys=True,
                    ),
                ]
                for op in operations
            ],
        )
        rows.append(
            [
                f"<span class='bad'>{_text(s['class'])}</span>",
                f"<span class='text'>{_text(s.get('agent'))}</span>",
                f"<span class='text'>{_text(s.get('session_id'))}</span>",
                _text(_call(s.get("failing_call"))),
                _text(s.get("held_by") or "no publish window"),
                f"<details><summary>{len(operations)} operations</summary>{details}</details>",
            ]
        )
    note = (
        f"<p class='muted'>The first {MAX_LOST_ROWS} of {len(bad)}; sessions.json has every one.</p>"
        if len(bad) > MAX_LOST_ROWS
        else ""
    )
    return (
        f"<{level}>Lost sessions ({len(bad)})</{level}>"
        + _table(
            ["class", "agent", "session", "the call that failed it", "held by publish", "its operations"],
            rows,
            raw=True,
            css="lost",
        )
        + note
    )


def run_sections(
    result: dict[str, Any],
    history: list[dict[str, Any]],
    sessions: list[dict[str, Any]] | None = None,
    level: str = "h2",
) -> str:
    """The charts and tables of one run (used alone, and per mitigation in a matrix report)."""
    sessions = sessions or []
    windows = result.get("windows", [])
    timeline = result.get("timeline") or {}
    origin = timeline.get("origin")
    if origin is None:
        origin = min((float(e["time"]) for e in history if "time" in e), default=0.0)
    s = result["sessions"]
    latency_rows = [
        [name, *(summary.get(k) for k in ("p50", "p95", "p99", "max", "count"))]
        for name, summary in (
            ("all calls", result["latency_ms"]),
            ("inside the publish windows", result["latency_ms_by_window"]["inside"]),
            ("outside them", result["latency_ms_by_window"]["outside"]),
        )
    ]
    parts = [
        gate_section(result, level),
        f"<{level}>Timeline</{level}>",
        sessions_chart(sessions, windows, origin) if sessions else "",
        rates_chart(rates(history, sessions, windows, origin), windows, origin),
        timeline_chart(history, windows, origin),
        lost_sessions_section(sessions, level),
        f"<{level}>Outcomes and cost</{level}>",
        f'<div class="grid"><div>{outcomes_chart(s)}</div><div>{latency_window_chart(result)}</div></div>',
        _table(
            ["sessions", *(_human(c) for c in CLASSES), "Total"],
            [["count", *(s.get(c, 0) for c in CLASSES), s.get("total", 0)]],
        ),
        _counts_table("durability", result.get("durability", {})),
        _counts_table("outcome", result.get("outcome", {})),
        _table(["call latency (ms)", "p50", "p95", "p99", "max", "calls"], latency_rows),
        _table(["HTTP status", *result.get("http", {}).keys()], [["responses", *result.get("http", {}).values()]]),
        f"<p>Requests per session: <b>{_text(result.get('requests_per_session'))}</b>.</p>",
        consistency_section(result, level),
        own_service_section(result, level),
        nemesis_section(result, level),
    ]
    harness = result.get("harness", {})
    parts.append(f"<{level}>Harness</{level}>")
    parts.append(
        _table(
            ["harness errors", "request rate (req/s)", "load (s)", "history entries", "processes"],
            [
                [
                    harness.get("errors"),
                    harness.get("request_rate"),
                    harness.get("load_seconds"),
                    harness.get("history_entries"),
                    ", ".join(sorted(str(n.get("node", k)) for k, n in harness.get("nodes", {}).items())),
                ]
            ],
        )
    )
    for problem in harness.get("problems", []):
        parts.append(f"<p><b>harness problem:</b> {_text(problem)}</p>")
    return "\n".join(p for p in parts if p)


def _files_note(prefix: str = "") -> str:
    names = ["result.json", "config.json", "history.jsonl", "sessions.json", "locust.html", "locust_stats.csv"]
    links = " · ".join(f'<a href="{prefix}{n}">{n}</a>' for n in names)
    return f'<p class="muted">Beside this file: {links}</p>'


def write_run_report(path: Path, result: dict[str, Any], history: list[dict[str, Any]], sessions: list[Any]) -> str:
    """Writes the page; returns its charts and tables so a matrix report can reuse them unrendered."""
    run = result.get("run", {})
    header = (
        f"<h1>mockgc live run: {_text(result['mitigation'])} on {_text(result['fault_profile'])}</h1>"
        f"<p>{_badge(result)} seed {_text(result['seed'])} · {_text(result['sessions']['total'])} sessions · "
        f"{_text(run.get('users'))} users · {_text(run.get('duration'))} s · "
        f"{_text(len(result.get('windows', [])))} publishes</p>"
        f"<p class='muted'>Repeat it: <code>{_text(run.get('command', ''))}</code></p>"
    )
    sections = run_sections(result, history, sessions)
    write_fresh(path, _page(f"mockgc {result['mitigation']} {result['verdict']}", header + sections + _files_note()))
    return sections


def _anchor(name: str) -> str:
    return "run-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def write_matrix_report(
    path: Path, outcomes: list[RunOutcome], rows: list[dict[str, Any]], summary: dict[str, Any]
) -> None:
    headers, cells = table_cells(rows)
    contents = "".join(
        f"<li><a href='#{_anchor(o.mitigation)}'>{_text(o.mitigation)}</a>: {_text(o.result['verdict'])}"
        + (" (gate broken)" if (o.result.get("gate") or {}).get("broken") else "")
        + "</li>"
        for o in outcomes
    )
    body = [
        f"<h1>mockgc mitigation matrix on {_text(summary['fault_profile'])}</h1>",
        f"<p>seed {_text(summary['seed'])}{' · <b>partial: interrupted</b>' if summary.get('partial') else ''} · "
        f"holding: {_text(', '.join(summary['holding']) or 'none of them')}</p>",
        f"<p class='muted'>Repeat it: <code>{_text(summary['run'].get('command', ''))}</code></p>",
        f"<nav><b>Contents</b><ul><li><a href='#comparison'>Comparison</a></li>{contents}</ul></nav>",
        "<h2 id='comparison'>Comparison</h2>",
        _table(headers, cells),
        matrix_chart(rows) if rows else "",
    ]
    for outcome in outcomes:
        name = outcome.directory.name
        body.append(f"<h2 id='{_anchor(outcome.mitigation)}'>{_text(outcome.mitigation)} {_badge(outcome.result)}</h2>")
        if outcome.sections:
            body.append(outcome.sections.replace("<h2>", "<h3>").replace("</h2>", "</h3>"))
        else:
            history_path = outcome.directory / "history.jsonl"
            history = read_history(history_path) if history_path.exists() else []
            sessions_path = outcome.directory / "sessions.json"
            sessions = json.loads(sessions_path.read_text()) if sessions_path.exists() else []
            body.append(run_sections(outcome.result, history, sessions, level="h3"))
        body.append(_files_note(f"{name}/") + "<p class='muted'><a href='#comparison'>back to the top</a></p>")
    write_fresh(path, _page("mockgc mitigation matrix", "\n".join(body)))
