"""`mockgc compare A B`: two runs side by side (outcome counts, latency by window, cost, consistency, verdicts).

A and B are run directories (a single run's, or a matrix's with one directory per mitigation) or
result files (`result.json`, `mockgc simulate --json`). Results are paired by mitigation and fault
profile. B is worse than A on data loss when, for a pair, B fails where A held or B lost a larger
share of its sessions (lost + ack_lost + corrupted + unverified): shares, so runs of different sizes
compare.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mockgc.checker.gate import METRICS, figure
from mockgc.checker.result import FAILS, HOLDS, Result

# The figures compared, in order: (metric name in mockgc/checker/gate.py, label, True when lower is better).
FIGURES: tuple[tuple[str, str, bool | None], ...] = (
    ("sessions", "sessions", None),
    ("ok", "ok", False),
    ("lost", "lost", True),
    ("ack_lost", "ack_lost", True),
    ("corrupted", "corrupted", True),
    ("unverified", "unverified", True),
    ("indeterminate", "indeterminate", True),
    ("bad_pct", "bad sessions %", True),
    ("requests_per_session", "requests per session", True),
    ("p50_inside_ms", "p50 inside windows ms", True),
    ("p99_inside_ms", "p99 inside windows ms", True),
    ("p50_outside_ms", "p50 outside windows ms", True),
    ("p99_outside_ms", "p99 outside windows ms", True),
    ("durable", "durable", False),
    ("outcome_gap", "outcome gap", True),
    ("ttc_p50_ms", "time to consistency p50 ms", True),
    ("ttc_max_ms", "time to consistency max ms", True),
)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    except ValueError as error:
        raise ValueError(f"{path} is not JSON: {error}") from None


def _is_result(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("sessions"), dict) and "verdict" in data


def load_results(path: str | Path) -> list[Result]:
    """Every result a run directory or result file holds, in its order."""
    path = Path(path)
    file = path / "result.json" if path.is_dir() else path
    if not file.exists():
        raise ValueError(f"{path}: no result.json there (give a run directory or a result file)")
    data = _read(file)
    if _is_result(data):
        return [data]
    if isinstance(data, dict) and isinstance(data.get("results"), list):  # mockgc simulate --json of several
        return [r for r in data["results"] if _is_result(r)]
    if isinstance(data, dict) and isinstance(data.get("matrix"), list):  # a live matrix: one directory each
        results = []
        for row in data["matrix"]:
            member = file.parent / str(row["mitigation"]).replace(":", "_") / "result.json"
            if not member.exists():
                raise ValueError(f"{file}: the matrix's run of {row['mitigation']} has no {member}")
            results.append(_read(member))
        return results
    raise ValueError(f"{file} holds no mockgc result")


def _key(result: Result) -> tuple[str, str]:
    return result["mitigation"], result["fault_profile"]


def _value(result: Result | None, metric: str) -> float | None:
    if result is None:
        return None
    try:
        return METRICS[metric][1](result)
    except (KeyError, TypeError):
        return None


def worse_on_loss(a: Result, b: Result) -> str | None:
    """Why B is worse than A on data loss, or None."""
    if a["verdict"] == HOLDS and b["verdict"] == FAILS:
        return "B fails where A held"
    share_a, share_b = _value(a, "bad_pct"), _value(b, "bad_pct")
    if share_a is not None and share_b is not None and share_b > share_a:
        return f"B lost {figure(share_b)}% of its sessions, A {figure(share_a)}%"
    return None


def _change(a: float | None, b: float | None, lower_is_better: bool | None) -> tuple[str, str]:
    """(B - A, 'better'/'worse'/'') for two figures."""
    if a is None or b is None:
        return "n/a", ""
    delta = round(b - a, 3)
    if delta == 0 or lower_is_better is None:
        return figure(delta) if delta else "0", ""
    better = (delta < 0) == lower_is_better
    return f"{delta:+g}", "better" if better else "worse"


def diff(a_results: list[Result], b_results: list[Result], *, a_name: str = "A", b_name: str = "B") -> dict[str, Any]:
    """The side-by-side comparison as data: one entry per (mitigation, profile), and which pairs got worse."""
    a_by, b_by = {_key(r): r for r in a_results}, {_key(r): r for r in b_results}
    keys = list(a_by) + [k for k in b_by if k not in a_by]
    pairs = []
    for key in keys:
        a, b = a_by.get(key), b_by.get(key)
        rows = [
            {"figure": "verdict", "a": a["verdict"] if a else None, "b": b["verdict"] if b else None}
            | {"change": "" if not (a and b) or a["verdict"] == b["verdict"] else f"{a['verdict']} -> {b['verdict']}"}
        ]
        for metric, label, lower_is_better in FIGURES:
            va, vb = _value(a, metric), _value(b, metric)
            change, judgement = _change(va, vb, lower_is_better)
            rows.append({"figure": label, "a": va, "b": vb, "change": change, "judgement": judgement})
        worse = worse_on_loss(a, b) if a and b else None
        pairs.append(
            {
                "mitigation": key[0],
                "fault_profile": key[1],
                "only_in": None if a and b else (a_name if a else b_name),
                "worse_on_loss": worse,
                "rows": rows,
            }
        )
    return {"a": a_name, "b": b_name, "pairs": pairs, "worse": [p["mitigation"] for p in pairs if p["worse_on_loss"]]}


def markdown(comparison: dict[str, Any]) -> str:
    """The comparison as Markdown tables (a CI job can post it as a comment)."""
    lines = [f"# mockgc compare\n\nA: `{comparison['a']}`  \nB: `{comparison['b']}`\n"]
    for pair in comparison["pairs"]:
        lines.append(f"## {pair['mitigation']} on {pair['fault_profile']}\n")
        if pair["only_in"]:
            lines.append(f"Only in {pair['only_in']}: not compared.\n")
        if pair["worse_on_loss"]:
            lines.append(f"**Worse on data loss:** {pair['worse_on_loss']}\n")
        lines.append("| figure | A | B | change |\n|---|---:|---:|---|")
        for row in pair["rows"]:
            mark = f" ({row['judgement']})" if row.get("judgement") else ""
            lines.append(f"| {row['figure']} | {figure(row['a'])} | {figure(row['b'])} | {row['change']}{mark} |")
        lines.append("")
    return "\n".join(lines)


def compare_paths(a: str | Path, b: str | Path) -> dict[str, Any]:
    return diff(load_results(a), load_results(b), a_name=str(a), b_name=str(b))
