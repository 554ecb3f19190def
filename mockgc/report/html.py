"""The self-contained HTML report: interactive plotly charts (hover, zoom) with plotly.js inlined once per page,
so the page needs no network and opens offline; it leads with the finding, in one sentence."""

from __future__ import annotations

import base64
import bisect
import functools
import html
import io
import json
import math
import re
from collections import defaultdict, deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockgc.checker.result import BAD_CLASSES, CLASSES
from mockgc.checker.summary import table_cells
from mockgc.drivers.history_file import read_history
from mockgc.report.sessions import call_text, finding, read_sessions, session_p95
from mockgc.report.untrusted import write_fresh

if TYPE_CHECKING:
    from mockgc.report.records import RunOutcome

# Points per chart: more are thinned evenly (every n-th) and the chart says so; the bad sessions are never thinned.
# A point costs about 60 bytes of the page, so 20,000 keep a chart near a megabyte.
MAX_POINTS = 20_000
MAX_LOST_ROWS = 50  # rows of the lost-sessions table; sessions.json has every one
BIN_S = 1.0  # the per-second chart's bins: all one width, so no bar is a sliver that sets the scale
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
CLASS_MARKERS = {
    "ok": "circle",
    "lost": "x",
    "ack_lost": "triangle-up",
    "corrupted": "diamond",
    "unverified": "square",
    "indeterminate": "circle-open",
}
WINDOW_COLOR = "rgba(255, 167, 38, 0.25)"
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
.finding{font-size:1.15em;line-height:1.45;border-left:.35em solid #c62828;padding:.4em .8em;background:#fff5f5;margin:.6em 0}
.finding.holds{border-color:#2e7d32;background:#f3faf3}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em;max-width:100%}
td,th{border:1px solid #ddd;padding:.2em .45em;text-align:right;vertical-align:top}
th{background:#f4f4f4;white-space:normal} td:first-child,th:first-child{text-align:left}
td.text{text-align:left;word-break:break-all}
.chart{border:1px solid #eee;margin:.4em 0} .muted{color:#666;font-size:.9em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.8em}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em} .bad{color:#c62828;font-weight:600}
details summary{cursor:pointer;color:#1565c0} table.lost td,table.lost th{text-align:left} nav ul{columns:2;margin:.3em 0}
"""


def _text(value: Any) -> str:
    """Escaped, with URL schemes dropped so the file references nothing outside itself; n/a for a missing figure."""
    return html.escape(_SCHEME.sub("", "n/a" if value is None else str(value)))


def _human(name: str) -> str:
    return HUMAN.get(name, name.replace("_", " "))


@functools.cache
def plotly_js() -> str:
    """plotly.js itself, inlined once per page (about 4.8 MB): the page opens offline, and a `</script>` never
    appears inside it."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs()).replace("</script", "<\\/script")


def _figure() -> Any:
    import plotly.graph_objects as go

    return go


def _chart(fig: Any, alt: str, height: int = 380) -> str:
    """A figure as a <div> and the script that draws it (plotly.js is in the page's head), hover and zoom on."""
    fig.update_layout(
        height=height,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.18},
        hoverlabel={"namelength": -1},
    )
    body = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        config={"displaylogo": False, "responsive": True, "scrollZoom": False},
    )
    return f'<div class="chart" role="img" aria-label="{_text(alt)}">{body}</div>'


def _shade(fig: Any, windows: list[list[float]], origin: float) -> None:
    """The publish windows, shaded and numbered (as in the Nemesis table)."""
    for index, (start, end) in enumerate(windows):
        fig.add_vrect(
            x0=start - origin,
            x1=end - origin,
            fillcolor=WINDOW_COLOR,
            line_width=0,
            layer="below",
            annotation_text=f"publish {index + 1}",
            annotation_position="top left",
            annotation_font_size=10,
        )


def latency_points(history: list[dict[str, Any]]) -> dict[str, tuple[list[float], list[float], list[str]]]:
    """Per completion type (ok, fail, info): (invoke times, latencies ms, what each call was), pairing invokes and
    completions per (process, key, f) in order."""
    pending: dict[tuple[Any, Any, Any], deque[float]] = defaultdict(deque)
    points: dict[str, tuple[list[float], list[float], list[str]]] = {}
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
        xs, ys, labels = points.setdefault(str(kind), ([], [], []))
        xs.append(began)
        ys.append(max(0.001, (float(entry["time"]) - began) * 1000.0))
        labels.append(
            f"{entry.get('f')} → {entry.get('status')} {entry.get('code') or ''} ({entry.get('key')})".strip()
        )
    return points


def _step(count: int) -> int:
    return max(1, -(-count // MAX_POINTS))


def timeline_chart(history: list[dict[str, Any]], windows: list[list[float]], origin: float) -> str:
    """Jepsen's perf graph: every call's latency over time, coloured ok/fail/info, publish windows shaded."""
    go = _figure()
    fig = go.Figure()
    _shade(fig, windows, origin)
    points = latency_points(history)
    step = _step(sum(len(xs) for xs, _, _ in points.values()))
    names = {"ok": "ok (2xx)", "fail": "fail (4xx/5xx: a lock's 400, a 429...)", "info": "info (no answer)"}
    for kind in ("ok", "info", "fail"):  # failures drawn last, on top
        if kind in points:
            xs, ys, labels = points[kind]
            fig.add_trace(
                go.Scatter(
                    x=[round(x - origin, 3) for x in xs[::step]],
                    y=[round(y, 2) for y in ys[::step]],
                    text=labels[::step],
                    mode="markers",
                    name=names[kind],
                    marker={"color": JEPSEN[kind], "size": 4 if kind == "ok" else 6, "opacity": 0.7},
                    hovertemplate="%{text}<br>at %{x:.2f} s, %{y:.1f} ms<extra></extra>",
                )
            )
    fig.update_layout(
        title="Every call" + (f" (every {step}th)" if step > 1 else ""),
        xaxis_title="seconds since the first call",
        yaxis={"title": "call latency (ms, log)", "type": "log"},
    )
    return _chart(fig, "call latency over time")


def sessions_chart(sessions: list[dict[str, Any]], windows: list[list[float]], origin: float) -> str:
    """Each session at its end, by how long it took, marked by its outcome; hover names the session, the agent and
    the outcome (and the first failing call of a bad one)."""
    go = _figure()
    fig = go.Figure()
    _shade(fig, windows, origin)
    for name in CLASSES:  # ok first, so every other class is drawn over it
        chosen = [s for s in sessions if s.get("class") == name and s.get("end") is not None]
        if not chosen:
            continue
        step = _step(len(chosen)) if name == "ok" else 1
        shown = chosen[::step]
        fig.add_trace(
            go.Scatter(
                x=[round(s["end"] - origin, 3) for s in shown],
                y=[round(max(0.001, s["end"] - s["start"]), 3) for s in shown],
                customdata=[
                    [
                        s.get("key"),
                        s.get("agent_name") or s.get("agent") or "?",
                        _human(name),
                        call_text(s.get("first_failing_call")) if name in BAD_CLASSES else "",
                    ]
                    for s in shown
                ],
                mode="markers",
                name=f"{_human(name)} ({len(chosen):,})" + (f", every {step}th shown" if step > 1 else ""),
                marker={"color": CLASS_COLORS[name], "symbol": CLASS_MARKERS[name], "size": 5 if name == "ok" else 9},
                hovertemplate="session %{customdata[0]}<br>agent %{customdata[1]}<br>%{customdata[2]}"
                " %{customdata[3]}<br>ended at %{x:.2f} s after %{y:.3f} s<extra></extra>",
            )
        )
    fig.update_layout(
        title="Every session, by its outcome (hover for the session and its agent; drag to zoom)",
        xaxis_title="seconds since the first call (when the session ended)",
        yaxis={"title": "session length (s, log)", "type": "log"},
    )
    return _chart(fig, "sessions by outcome over time")


def rates(
    history: list[dict[str, Any]], sessions: list[dict[str, Any]], windows: list[list[float]], origin: float
) -> dict[str, Any]:
    """400s, 429s and sessions whose data went wrong, per second, in bins of BIN_S seconds from the first call."""
    times: dict[str, list[float]] = {"400": [], "429": [], "bad": []}
    for entry in history:
        status = str(entry.get("status"))
        if status in times and entry.get("type") != "invoke" and not str(entry.get("f", "")).startswith("store_"):
            times[status].append(float(entry["time"]))
    times["bad"] = [float(s["end"]) for s in sessions if s.get("class") in BAD_CLASSES and s.get("end") is not None]
    # To the last entry of the history, so this chart's time axis is the other charts'.
    ends = (float(e["time"]) for e in history if isinstance(e.get("time"), int | float))
    last = max([origin, *ends, *(t for column in times.values() for t in column), *(w[1] for w in windows)])
    bins = max(1, math.ceil((last - origin) / BIN_S + 1e-9))
    edges = [origin + i * BIN_S for i in range(bins + 1)]
    counts = {name: [0.0] * bins for name in times}
    for name, column in times.items():
        for t in column:
            counts[name][max(0, min(bins - 1, bisect.bisect_right(edges, t) - 1))] += 1
    return {"edges": edges} | {name: [c / BIN_S for c in values] for name, values in counts.items()}


def rates_chart(binned: dict[str, Any], windows: list[list[float]], origin: float) -> str:
    """400s, 429s and sessions lost per second, in bins of one width, publish windows shaded."""
    go = _figure()
    fig = go.Figure()
    _shade(fig, windows, origin)
    starts = [round(e - origin, 3) for e in binned["edges"][:-1]]
    for column, color, label in (
        ("400", JEPSEN["fail"], "400s per second"),
        ("429", "#1565c0", "429s per second"),
        ("bad", "#000", "sessions lost (any bad class) per second"),
    ):
        if any(binned[column]):
            fig.add_trace(
                go.Scatter(
                    x=starts,
                    y=binned[column],
                    mode="lines",
                    line={"shape": "hv", "color": color, "width": 1.6},
                    name=label,
                    hovertemplate=f"%{{y:g}} {label}<br>from %{{x:g}} s<extra></extra>",
                )
            )
    fig.update_layout(
        title=f"Rejections and lost sessions over time ({BIN_S:g} s bins)",
        xaxis_title="seconds since the first call",
        yaxis_title="per second",
    )
    return _chart(fig, "rejections and lost sessions per second", height=330)


def latency_window_chart(result: dict[str, Any]) -> str:
    go = _figure()
    by_window = result["latency_ms_by_window"]
    marks = ["p50", "p95", "p99"]
    fig = go.Figure()
    for side, color in (("outside", "#90a4ae"), ("inside", "#ef6c00")):
        values = [by_window[side].get(m) for m in marks]
        fig.add_trace(
            go.Bar(
                x=marks,
                y=[v or 0 for v in values],
                text=["n/a" if v is None else f"{v:.0f}" for v in values],
                name=f"{side} the windows ({by_window[side].get('count', 0):,} calls)",
                marker_color=color,
            )
        )
    fig.update_layout(title="Latency inside vs outside the publish windows", yaxis_title="call latency, ms")
    return _chart(fig, "latency inside and outside the windows", height=340)


def outcomes_chart(sessions: dict[str, int]) -> str:
    go = _figure()
    counts = [sessions.get(c, 0) for c in CLASSES]
    fig = go.Figure(
        go.Bar(
            y=[_human(c) for c in CLASSES],
            x=counts,
            orientation="h",
            text=[f"{c:,}" for c in counts],
            marker_color=[CLASS_COLORS[c] for c in CLASSES],
            hovertemplate="%{y}: %{x:,} sessions<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Sessions by outcome ({sessions.get('total', 0):,} in all)", yaxis={"autorange": "reversed"}
    )
    return _chart(fig, "sessions by outcome", height=340)


def consistency_chart(result: dict[str, Any]) -> str:
    """What is stored at the end against what the customer got: the outcome gap is the difference."""
    go = _figure()
    rows = (
        ("Stored at the end (durability)", result.get("durability", {}),
         {"durable": "#2e7d32", "ack_lost": "#d50000", "not_stored": JEPSEN["fail"], "stored_wrong": "#6a1b9a", "unknown": "#bdbdbd"}),
        ("What the customer got (outcome)", result.get("outcome", {}),
         {"personalized_ok": "#2e7d32", "default": JEPSEN["fail"], "wrong_code": "#6a1b9a", "unverified": "#ad1457", "unknown": "#bdbdbd"}),
    )  # fmt: skip
    fig = go.Figure()
    for label, counts, colours in rows:
        for name, colour in colours.items():
            if counts.get(name, 0):
                fig.add_trace(
                    go.Bar(
                        y=[label],
                        x=[counts[name]],
                        orientation="h",
                        name=_human(name),
                        marker_color=colour,
                        text=[f"{counts[name]:,}"],
                        hovertemplate=f"{_human(name)}: %{{x:,}}<extra></extra>",
                    )
                )
    fig.update_layout(
        barmode="stack", title="Durability against outcome", xaxis_title="sessions", yaxis={"autorange": "reversed"}
    )
    return _chart(fig, "durability against outcome", height=280)


def matrix_chart(rows: list[dict[str, Any]]) -> str:
    go = _figure()
    names = [r["mitigation"] for r in rows]
    fig = go.Figure(
        [go.Bar(x=names, y=[r[c] for r in rows], name=_human(c), marker_color=CLASS_COLORS[c]) for c in CLASSES]
    )
    fig.update_layout(barmode="stack", title="Session outcomes by mitigation", yaxis_title="sessions")
    return _chart(fig, "session outcomes by mitigation", height=360)


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
    """The page, plotly.js inlined in its head once when it holds a chart: nothing is fetched from anywhere."""
    script = f"<script>{plotly_js()}</script>" if 'class="chart"' in body else ""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_text(title)}</title><style>{CSS}</style>{script}</head><body>{body}</body></html>\n"
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
                int(record.get("index", 0)) + 1,
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


def _went_wrong_at(session: dict[str, Any]) -> float:
    """When a session's data went wrong: its first failing call, else (acknowledged, then lost) its start."""
    first = session.get("first_failing_call")
    return float(first["at"] if first else session.get("start") or 0.0)


def lost_sessions_section(sessions: list[dict[str, Any]], level: str, origin: float = 0.0) -> str:
    """Which sessions lost data: when, on which agent (by name), the publish that held it (numbered as in the Nemesis
    table), the first call that failed it and the last, and its own operations a click away."""
    bad = sorted((s for s in sessions if s.get("class") in BAD_CLASSES), key=_went_wrong_at)
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
        first = s.get("first_failing_call")
        at = _went_wrong_at(s)
        rows.append(
            [
                _text(f"{at - origin:.2f}"),
                f"<span class='bad'>{_text(s['class'])}</span>",
                f"<span class='text'>{_text(s.get('agent_name') or s.get('agent'))}</span>",
                _text(s.get("publish") or "outside the windows"),
                _text(call_text(first)),
                _text(call_text(s.get("failing_call"))),
                f"<span class='text'>{_text(s.get('session_id'))}</span>",
                f"<details><summary>{len(operations)} operations</summary>{details}</details>",
            ]
        )
    note = (
        f"<p class='muted'>The first {MAX_LOST_ROWS} of {len(bad)}, by time; sessions.json has every one.</p>"
        if len(bad) > MAX_LOST_ROWS
        else ""
    )
    headers = [
        "time (s)",
        "class",
        "agent",
        "publish",
        "first failing call",
        "last failing call",
        "session",
        "its operations",
    ]
    return f"<{level}>Lost sessions ({len(bad)})</{level}>" + _table(headers, rows, raw=True, css="lost") + note


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
        lost_sessions_section(sessions, level, origin),
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
        + finding_paragraph(result, sessions)
        + f"<p>{_badge(result)} seed {_text(result['seed'])} · {_text(result['sessions']['total'])} sessions · "
        f"{_text(run.get('users'))} users · {_text(run.get('duration'))} s · "
        f"{_text(len(result.get('windows', [])))} publishes</p>"
        f"<p class='muted'>Repeat it: <code>{_text(run.get('command', ''))}</code></p>"
    )
    sections = run_sections(result, history, sessions)
    write_fresh(path, _page(f"mockgc {result['mitigation']} {result['verdict']}", header + sections + _files_note()))
    return sections


def finding_paragraph(result: dict[str, Any], sessions: list[dict[str, Any]]) -> str:
    """The report's lead: one sentence saying what was lost, where, and the first failing call."""
    holds = result.get("verdict") == "holds"
    return f"<p class='finding{' holds' if holds else ''}'>{_text(finding(result, sessions))}.</p>"


def cost_section(outcomes: list[RunOutcome]) -> str:
    """What holding cost, against the baseline (`none`): requests per session, how long a customer's session took
    (p95), and the call latency inside the windows, as the demo's console says it."""
    baseline = next((o for o in outcomes if o.mitigation == "none"), None)
    if baseline is None or len(outcomes) < 2:
        return ""
    rows = []
    for o in [baseline, *(o for o in outcomes if o is not baseline)]:
        p95 = session_p95(read_sessions(o.directory))
        inside = o.result["latency_ms_by_window"]["inside"].get("p99")
        rows.append(
            [
                o.mitigation + (" (baseline)" if o is baseline else ""),
                o.result["verdict"],
                f"{o.result['requests_per_session']:.2f}",
                None if p95 is None else f"{p95:.2f}",
                None if inside is None else f"{inside:.0f}",
            ]
        )
    headers = ["mitigation", "verdict", "requests per session", "session p95 (s)", "call p99 inside the windows (ms)"]
    return "<h3>What holding cost, against the baseline</h3>" + _table(headers, rows)


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
        cost_section(outcomes),
        matrix_chart(rows) if rows else "",
    ]
    for outcome in outcomes:
        name = outcome.directory.name
        body.append(f"<h2 id='{_anchor(outcome.mitigation)}'>{_text(outcome.mitigation)} {_badge(outcome.result)}</h2>")
        body.append(finding_paragraph(outcome.result, read_sessions(outcome.directory)))
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


# -- mockgc tune: the holding settings' cost against wait, the front marked, the defaults shown ------
# pareto.png is a file of its own (CI artifacts, a pull request's comment), so it stays a matplotlib PNG.


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _legend_outside(ax: Any, **options: Any) -> None:
    """The legend below the axes, where it can hide no point."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=options.pop("ncol", 7), fontsize=8, **options)


def _tune_point(candidate: dict[str, Any], axes: list[str]) -> tuple[float, float] | None:
    figures = candidate.get("figures") or {}
    x, y = figures.get(axes[0]), figures.get(axes[1])
    return None if x is None or y is None else (float(x), float(y))


def pareto_png(document: dict[str, Any]) -> bytes:
    """pareto.png of a tune: every judged setting's cost against the customer's wait (held: dots, failed: crosses),
    the front as a line, the defaults as a star, the chosen setting ringed."""
    plt = _plt()
    axes = document["axes"]
    fig, ax = plt.subplots(figsize=(8, 5))
    trials = [t for t in document["trials"] if "same_as" not in t]
    for held, style in ((False, {"marker": "x", "color": "#bbbbbb", "label": "did not hold"}),
                        (True, {"marker": "o", "color": JEPSEN["ok"], "label": "held"})):  # fmt: skip
        points = [p for t in trials if bool(t.get("holds")) == held and (p := _tune_point(t, axes))]
        if points:
            ax.scatter(*zip(*points, strict=True), s=28, **style)
    by_number = {t["number"]: t for t in trials}
    defaults = document.get("defaults")
    if defaults:
        by_number["defaults"] = defaults
    front = [p for n in document["front"] if (p := _tune_point(by_number[n], axes))]
    if front:
        ax.plot(*zip(*front, strict=True), color=JEPSEN["fail"], marker="o", label="the front")
    point = _tune_point(defaults, axes) if defaults else None
    if point:
        held = bool(defaults and defaults.get("holds"))
        ax.scatter(*point, marker="*", s=220, color="black" if held else "white", edgecolors="black",
                   label="the defaults" + ("" if held else " (did not hold)"), zorder=5)  # fmt: skip
    chosen = document.get("chosen")
    if chosen and (point := _tune_point(chosen, axes)):
        ax.scatter(*point, s=320, facecolors="none", edgecolors="#2e7d32", linewidths=2, label="chosen", zorder=6)
    ax.set_xlabel(axes[0].replace("_", " "))
    ax.set_ylabel(axes[1].replace("_", " "))
    margin = f", margin {document['margin']:.0%}" if document["margin"] else ""
    ax.set_title(f"{document['mitigation']} on {document['profile']['name']}{margin}: "
                 f"{document['held']} of {len(trials)} settings held")  # fmt: skip
    ax.grid(alpha=0.3)
    _legend_outside(ax, ncol=5)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def tune_section(
    document: dict[str, Any], chart: bytes, commands: dict[str, str] | None = None, level: str = "h2"
) -> str:
    """The report page's section for a tune: what was searched, the chart, the front, the confirmation."""
    axes = document["axes"]
    trials = {t["number"]: t for t in document["trials"]}
    if document.get("defaults"):
        trials["defaults"] = document["defaults"]

    def setting(s: dict[str, Any]) -> str:
        return ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(s.items()))

    where = f"seeds {', '.join(map(str, document['seeds']))}"
    if document["margin"]:
        where += f" and on {document['stretched_profile']} (holds and intervals {document['margin']:.0%} longer)"
    rows = [
        [n, setting(trials[n]["setting"]), trials[n]["figures"][axes[0]], trials[n]["figures"][axes[1]]]
        for n in document["front"]
    ]
    confirmations = [
        [c["number"], setting(c["setting"]), "holds" if c["holds"] else "fails",
         "; ".join(r["loss"] for r in c.get("runs", []) if r["verdict"] != "holds") or "no session lost"]
        for c in document.get("confirmations", [])
    ]  # fmt: skip
    chosen = document.get("chosen")
    ending = (
        f"<p><b>Chosen</b>: {_text(setting(chosen['setting']))}. Confirm it: "
        f"<code>{_text(commands['simulate'])}</code>, live: <code>{_text(commands['run'])}</code></p>"
        if chosen and commands
        else "<p class='bad'>No setting held"
        + (f"; the closest: {_text(setting(document['closest']['setting']))}: "
           f"{_text('; '.join(document['closest']['why']))}" if document.get("closest") else "") + "</p>"
    )  # fmt: skip
    return "".join(
        [
            f"<{level}>Tuning {_text(document['mitigation'])} on {_text(document['profile']['name'])}</{level}>",
            f"<p>{len(document['trials'])} trials ({document['held']} held on every one of {_text(where)}; "
            f"{document['sessions']} sessions each), minimizing {_text(axes[0])} against {_text(axes[1])}."
            + (" <b>Interrupted</b>: the trials judged so far." if document["interrupted"] else "")
            + "</p>",
            f"<img alt='cost against wait' src='data:image/png;base64,{base64.b64encode(chart).decode()}'>",
            "<p class='muted'>Read the front from left to right: each setting on it is the cheapest that keeps the "
            "customer waiting no longer than it does; a setting off the front is beaten on both.</p>",
            _table(["trial", "setting", axes[0], axes[1]], rows) if rows else "",
            "<p>The defaults are on the front.</p>" if document["defaults_on_front"] else "",
            _table(["trial", "setting", "on the held-out seeds", "lost"], confirmations) if confirmations else "",
            ending,
        ]
    )


def write_tune_report(path: Path, document: dict[str, Any], chart: bytes, commands: dict[str, str] | None) -> None:
    path.write_text(_page(f"mockgc tune {document['mitigation']}", tune_section(document, chart, commands, "h1")))
