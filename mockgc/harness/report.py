"""The self-contained HTML report: matplotlib charts (Agg) inlined as base64 PNG, no network needed."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections import defaultdict, deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockgc.result import CLASSES
from mockgc.summary import table_cells

if TYPE_CHECKING:
    from mockgc.harness.results import RunOutcome

MAX_POINTS = 60_000  # scatter points per chart; more are thinned evenly (the chart looks the same)
CLASS_COLORS = {
    "ok": "#2e7d32",
    "lost": "#c62828",
    "ack_lost": "#ef6c00",
    "corrupted": "#6a1b9a",
    "unverified": "#ad1457",
    "indeterminate": "#757575",
}
_SCHEME = re.compile(r"https?://", re.IGNORECASE)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.verdict{display:inline-block;padding:.2em .7em;border-radius:.3em;color:#fff;font-weight:600}
.holds{background:#2e7d32} .fails{background:#c62828} .partial{background:#ef6c00}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em} td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} .muted{color:#666;font-size:.9em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
"""


def _text(value: Any) -> str:
    """Escaped, with URL schemes dropped so the file references nothing outside itself."""
    return html.escape(_SCHEME.sub("", str(value)))


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    _plt().close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def latency_points(history: list[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """Per operation: (invoke times, latencies ms), pairing invokes and completions per (process, key, f)."""
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
        xs, ys = points.setdefault(str(entry.get("f")), ([], []))
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


def timeline_chart(history: list[dict[str, Any]], windows: list[list[float]], origin: float) -> str:
    """Jepsen's perf graph: latency of every call by operation over time, publish windows shaded."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 4.2))
    _shade(ax, windows, origin)
    points = latency_points(history)
    total = sum(len(xs) for xs, _ in points.values())
    step = max(1, -(-total // MAX_POINTS))
    for f in sorted(points):
        xs, ys = points[f]
        ax.scatter([x - origin for x in xs[::step]], ys[::step], s=4, alpha=0.55, label=f, linewidths=0)
    ax.set_yscale("log")
    ax.set_xlabel("seconds since the first call")
    ax.set_ylabel("latency (ms, log)")
    ax.set_title("Latency by operation" + (f" (every {step}th call)" if step > 1 else ""))
    ax.legend(loc="upper left", fontsize=8, markerscale=3, ncol=4)
    ax.grid(alpha=0.3)
    return _png(fig)


def errors_chart(timeline: dict[str, Any], windows: list[list[float]]) -> str:
    """400s, 429s and sessions that lost data per second, publish windows shaded."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 3.4))
    origin = timeline.get("origin")
    if origin is not None:
        _shade(ax, windows, origin)
        t = timeline.get("t", [])
        for column, color, label in (
            ("400", "#c62828", "400s"),
            ("429", "#1565c0", "429s"),
            ("lost", "#000", "sessions lost/ack_lost/corrupted"),
        ):
            ax.step(t, timeline.get(column, []), where="post", color=color, label=label, lw=1.4)
    ax.set_xlabel("seconds since the first call")
    ax.set_ylabel("per second")
    ax.set_title("Rejections and lost sessions over time")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def latency_window_chart(result: dict[str, Any]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    by_window = result["latency_ms_by_window"]
    marks = ("p50", "p95", "p99")
    for offset, (side, color) in enumerate((("outside", "#90a4ae"), ("inside", "#ef6c00"))):
        values = [by_window[side].get(m) or 0 for m in marks]
        ax.bar([i + offset * 0.38 for i in range(len(marks))], values, width=0.38, color=color, label=f"{side} windows")
    ax.set_xticks([i + 0.19 for i in range(len(marks))], marks)
    ax.set_ylabel("ms")
    ax.set_title("Latency inside vs outside publish windows")
    ax.legend(fontsize=8)
    return _png(fig)


def outcomes_chart(sessions: dict[str, int]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    counts = [sessions.get(c, 0) for c in CLASSES]
    bars = ax.barh(list(CLASSES), counts, color=[CLASS_COLORS[c] for c in CLASSES])
    ax.bar_label(bars, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(f"Sessions by outcome ({sessions.get('total', 0)} in all)")
    return _png(fig)


def matrix_chart(rows: list[dict[str, Any]]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 3.6))
    names = [r["mitigation"] for r in rows]
    bottom = [0] * len(rows)
    for c in CLASSES:
        values = [r[c] for r in rows]
        ax.bar(names, values, bottom=bottom, color=CLASS_COLORS[c], label=c)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("sessions")
    ax.margins(y=0.18)  # room for the legend above the tallest bar
    ax.set_title("Session outcomes by mitigation")
    ax.legend(fontsize=8, ncol=5)
    return _png(fig)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_text(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _badge(result: dict[str, Any]) -> str:
    verdict = result.get("verdict", "?")
    badge = f'<span class="verdict {_text(verdict)}">{_text(verdict)}</span>'
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


def run_sections(result: dict[str, Any], history: list[dict[str, Any]], level: str = "h2") -> str:
    """The charts and tables of one run (used alone, and per mitigation in a matrix report)."""
    windows = result.get("windows", [])
    timeline = result.get("timeline") or {}
    origin = timeline.get("origin")
    if origin is None:
        origin = min((float(e["time"]) for e in history if "time" in e), default=0.0)
    s = result["sessions"]
    parts = [
        f"<{level}>Timeline</{level}>",
        timeline_chart(history, windows, origin),
        errors_chart(timeline, windows),
        f"<{level}>Outcomes and cost</{level}>",
        f'<div class="grid"><div>{outcomes_chart(s)}</div><div>{latency_window_chart(result)}</div></div>',
        _table(["sessions", *CLASSES, "total"], [["count", *(s.get(c, 0) for c in CLASSES), s.get("total", 0)]]),
        _table(
            ["durability", *result.get("durability", {}).keys()],
            [["sessions", *result.get("durability", {}).values()]],
        ),
        _table(["outcome", *result.get("outcome", {}).keys()], [["sessions", *result.get("outcome", {}).values()]]),
        _table(
            ["latency (ms)", "p50", "p95", "p99", "max", "calls"],
            [
                [name, *(summary.get(k) for k in ("p50", "p95", "p99", "max", "count"))]
                for name, summary in (
                    ("all calls", result["latency_ms"]),
                    ("inside windows", result["latency_ms_by_window"]["inside"]),
                    ("outside windows", result["latency_ms_by_window"]["outside"]),
                )
            ],
        ),
        _table(["HTTP status", *result.get("http", {}).keys()], [["responses", *result.get("http", {}).values()]]),
        f"<p>Requests per session: {_text(result.get('requests_per_session'))}. "
        f"Consistency: {_text(json.dumps(result.get('consistency', {}), sort_keys=True))}</p>",
    ]
    harness = result.get("harness", {})
    nemesis = harness.get("nemesis", [])
    if nemesis:
        parts.append(f"<{level}>Nemesis</{level}>")
        parts.append(
            _table(
                ["publish", "offset (s)", "operation", "status", "error"],
                [
                    [r.get("index"), r.get("offset"), r.get("operationId", ""), r.get("status", ""), r.get("error", "")]
                    for r in nemesis
                ],
            )
        )
    parts.append(f"<{level}>Harness</{level}>")
    parts.append(
        _table(
            ["harness errors", "request rate (req/s)", "load seconds", "history entries", "processes"],
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
    return "\n".join(parts)


def read_history(path: Path) -> list[dict[str, Any]]:
    """A run's history.jsonl, one entry a line."""
    entries: list[dict[str, Any]] = []
    with path.open() as handle:
        for line in handle:
            if line.strip():
                entries.append(json.loads(line))
    return entries


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
    sections = run_sections(result, history)
    path.write_text(_page(f"mockgc {result['mitigation']} {result['verdict']}", header + sections + _files_note()))
    return sections


def write_matrix_report(
    path: Path, outcomes: list[RunOutcome], rows: list[dict[str, Any]], summary: dict[str, Any]
) -> None:
    headers, cells = table_cells(rows)
    body = [
        f"<h1>mockgc mitigation matrix on {_text(summary['fault_profile'])}</h1>",
        f"<p>seed {_text(summary['seed'])}{' · <b>partial: interrupted</b>' if summary.get('partial') else ''} · "
        f"holding: {_text(', '.join(summary['holding']) or 'none of them')}</p>",
        f"<p class='muted'>Repeat it: <code>{_text(summary['run'].get('command', ''))}</code></p>",
        "<h2>Comparison</h2>",
        _table(headers, cells),
        matrix_chart(rows) if rows else "",
    ]
    for outcome in outcomes:
        name = outcome.directory.name
        body.append(f"<h2>{_text(outcome.mitigation)} {_badge(outcome.result)}</h2>")
        if outcome.sections:
            body.append(outcome.sections.replace("<h2>", "<h3>").replace("</h2>", "</h3>"))
        else:
            history_path = outcome.directory / "history.jsonl"
            history = read_history(history_path) if history_path.exists() else []
            body.append(run_sections(outcome.result, history, level="h3"))
        body.append(_files_note(f"{name}/"))
    path.write_text(_page("mockgc mitigation matrix", "\n".join(body)))
