"""`mockgc compare A B`: two runs side by side (outcome counts, latency by window, cost, consistency, verdicts).

A and B are run directories (a single run's, or a matrix's with one directory per mitigation) or
result files (`result.json`, `mockgc simulate --json`). One result against one result is compared
directly, whatever they are (`none` against `backoff-verify` is the usual question); several are
paired by mitigation and fault profile, and a result without a partner is named (`unpaired`), never
passed over in silence. B is worse than A on data loss when, for a pair, B fails where A held or B
lost a larger share of its sessions (lost + ack_lost + corrupted + unverified): shares, so runs of
different sizes compare. What each pair ran under (users, duration, sessions asked for, seed,
agents, profile, ...) is compared too, and a difference is flagged (`load_differs`): a share from
another load, seed or profile is not the same experiment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mockgc.checker.gate import METRICS, figure
from mockgc.checker.result import EXIT_FAILS, EXIT_HARNESS, EXIT_HOLDS, FAILS, HOLDS, Result

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


def describe(result: Result) -> str:
    """What one side is, for a label: 'none on seed-default, seed 1'."""
    return f"{result['mitigation']} on {result['fault_profile']}, seed {result['seed']}"


def load_of(result: Result) -> dict[str, Any]:
    """What a result ran under, as far as it says: a live run's spec (`run`), a simulation's own fields."""
    run: dict[str, Any] = result.get("run") or {}  # type: ignore[assignment]
    simulation: dict[str, Any] = result.get("simulation") or {}  # type: ignore[assignment]
    live = bool(run) and result.get("driver") != "simulation"
    return {
        "driver": "simulation" if simulation else "live" if live else None,
        "fault_profile": result["fault_profile"],
        "seed": result["seed"],
        "agents": result.get("agents", run.get("agents")),
        "publishes": result.get("publishes", len(result.get("windows") or []) if live else None),
        "sessions asked for": simulation.get("sessions_requested"),
        "users": run.get("users") if live else None,
        "duration_s": run.get("duration") if live else None,
        "think_time_s": run.get("think_time") if live else None,
    }


def load_rows(a: Result, b: Result) -> list[dict[str, Any]]:
    """The load figures of a pair, each marked when the two sides differ (a figure neither side has is left out)."""
    load_a, load_b = load_of(a), load_of(b)
    return [
        {"figure": name, "a": load_a[name], "b": load_b[name], "differs": load_a[name] != load_b[name]}
        for name in load_a
        if load_a[name] is not None or load_b[name] is not None
    ]


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


def _pairs(a_results: list[Result], b_results: list[Result]) -> list[tuple[Result | None, Result | None]]:
    """One against one directly; else by (mitigation, profile), A's order first, a missing partner as None."""
    if len(a_results) == 1 and len(b_results) == 1:
        return [(a_results[0], b_results[0])]
    a_by, b_by = {_key(r): r for r in a_results}, {_key(r): r for r in b_results}
    keys = list(a_by) + [k for k in b_by if k not in a_by]
    return [(a_by.get(key), b_by.get(key)) for key in keys]


def diff(a_results: list[Result], b_results: list[Result], *, a_name: str = "A", b_name: str = "B") -> dict[str, Any]:
    """The side-by-side comparison as data: one entry per pair (a result without a partner is `only_in` one side),
    which pairs got worse, which results found no partner, and which pairs ran under a different load."""
    pairs = []
    for a, b in _pairs(a_results, b_results):
        rows = [
            {"figure": "verdict", "a": a["verdict"] if a else None, "b": b["verdict"] if b else None}
            | {"change": "" if not (a and b) or a["verdict"] == b["verdict"] else f"{a['verdict']} -> {b['verdict']}"}
        ]
        for metric, label, lower_is_better in FIGURES:
            va, vb = _value(a, metric), _value(b, metric)
            change, judgement = _change(va, vb, lower_is_better)
            rows.append({"figure": label, "a": va, "b": vb, "change": change, "judgement": judgement})
        worse = worse_on_loss(a, b) if a and b else None
        load = load_rows(a, b) if a and b else []
        pairs.append(
            {
                "mitigation": _pair_name(a, b, "mitigation"),
                "fault_profile": _pair_name(a, b, "fault_profile"),
                "a_is": describe(a) if a else None,
                "b_is": describe(b) if b else None,
                "only_in": None if a and b else (a_name if a else b_name),
                "worse_on_loss": worse,
                "load": load,
                "load_differs": [row["figure"] for row in load if row["differs"]],
                "rows": rows,
            }
        )
    return {
        "a": a_name,
        "b": b_name,
        "pairs": pairs,
        "paired": sum(1 for p in pairs if not p["only_in"]),
        "unpaired": [f"{p['a_is'] or p['b_is']} (only in {p['only_in']})" for p in pairs if p["only_in"]],
        "load_differs": [p["mitigation"] for p in pairs if p["load_differs"]],
        "worse": [p["mitigation"] for p in pairs if p["worse_on_loss"]],
    }


def _pair_name(a: Result | None, b: Result | None, field: str) -> str:
    """A pair's mitigation (or profile): the one both share, 'x against y' when one result was compared with
    another's directly, or the one side's when the other is missing."""
    names = [str(side[field]) for side in (a, b) if side is not None]  # type: ignore[literal-required]
    return names[0] if len(set(names)) == 1 else " against ".join(names)


def exit_code(comparison: dict[str, Any], *, allow_unpaired: bool = False, strict: bool = False) -> tuple[int, str]:
    """(exit code, why): 2 when nothing paired, when some result found no partner (unless allowed) or, with
    `strict`, when a pair ran under a different load; else 1 when B is worse on data loss; else 0."""
    if not comparison["paired"]:
        return (
            EXIT_HARNESS,
            "nothing was compared: no result of A has a partner in B (pairs need the same mitigation and profile)",
        )
    if comparison["unpaired"] and not allow_unpaired:
        return EXIT_HARNESS, (
            f"only {comparison['paired']} pair(s) compared; without a partner: {'; '.join(comparison['unpaired'])} "
            "(--allow-unpaired to pass over them)"
        )
    if comparison["load_differs"] and strict:
        return EXIT_HARNESS, f"--strict: A and B ran under a different load ({', '.join(comparison['load_differs'])})"
    if comparison["worse"]:
        return EXIT_FAILS, f"B is worse on data loss ({', '.join(comparison['worse'])})"
    return EXIT_HOLDS, "B loses no larger share of its sessions than A"


def markdown(comparison: dict[str, Any]) -> str:
    """The comparison as Markdown tables (a CI job can post it as a comment)."""
    lines = [f"# mockgc compare\n\nA: `{comparison['a']}`  \nB: `{comparison['b']}`\n"]
    for pair in comparison["pairs"]:
        lines.append(f"## {pair['mitigation']} on {pair['fault_profile']}\n")
        lines.append(f"A is {pair['a_is'] or 'missing'}; B is {pair['b_is'] or 'missing'}.\n")
        if pair["only_in"]:
            lines.append(f"**Only in {pair['only_in']}: not compared.**\n")
        if pair["worse_on_loss"]:
            lines.append(f"**Worse on data loss:** {pair['worse_on_loss']}\n")
        if pair["load_differs"]:
            lines.append(
                f"**Load differs:** {', '.join(pair['load_differs'])} (the figures are not the same experiment)\n"
            )
        lines.append("| figure | A | B | change |\n|---|---:|---:|---|")
        for row in pair["load"]:
            mark = "**differs**" if row["differs"] else ""
            lines.append(f"| load: {row['figure']} | {figure(row['a'])} | {figure(row['b'])} | {mark} |")
        for row in pair["rows"]:
            mark = f" ({row['judgement']})" if row.get("judgement") else ""
            lines.append(f"| {row['figure']} | {figure(row['a'])} | {figure(row['b'])} | {row['change']}{mark} |")
        lines.append("")
    return "\n".join(lines)


def compare_paths(a: str | Path, b: str | Path) -> dict[str, Any]:
    return diff(load_results(a), load_results(b), a_name=str(a), b_name=str(b))
