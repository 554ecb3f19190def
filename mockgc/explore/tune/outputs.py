"""What a tune leaves: tune.json (every trial), the front, tuned.toml (a run spec) and the lines that confirm it.

Pure functions of the judged records, so `tune.json` is the same for the same arguments: no clock,
no process ids (unless the study is shared), keys sorted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mockgc.explore.tune.evaluate import TunePlan


def trial_entry(number: int, record: Mapping[str, Any], by: str | None = None) -> dict[str, Any]:
    return {"number": number, **record, **({"by": by} if by else {})}


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def front(candidates: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> list[Mapping[str, Any]]:
    """The holding candidates no other holding one beats on both axes, cheapest first (a setting judged twice
    counts once)."""
    held = [c for c in candidates if c.get("holds") and "same_as" not in c]
    points = [tuple(c["figures"][axis] for axis in axes) for c in held]
    on_front = [c for c, p in zip(held, points, strict=True) if not any(dominates(q, p) for q in points)]
    return sorted(on_front, key=lambda c: tuple(c["figures"][axis] for axis in axes))


def on_front(candidate: Mapping[str, Any] | None, others: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> bool:
    """Does this setting hold with no holding one beating it on both axes? (The defaults, judged apart or not.)"""
    if candidate is None or not candidate.get("holds"):
        return False
    point = tuple(candidate["figures"][axis] for axis in axes)
    held = [o for o in others if o.get("holds")]
    return not any(dominates(tuple(o["figures"][axis] for axis in axes), point) for o in held)


def closest(candidates: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> Mapping[str, Any] | None:
    """The judged setting with the fewest failing sessions (the cheaper on a tie), or None."""
    ran = [c for c in candidates if "runs" in c]
    if not ran:
        return None
    return min(ran, key=lambda c: (c["failing"], c["figures"][axes[0]] or 0.0))


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3g} s"


def describe_setting(setting: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(setting.items())) or "no parameters"


def what_broke(document: Mapping[str, Any], near: Mapping[str, Any]) -> list[str]:
    """Why the closest setting fails: where it lost sessions and, when every setting tried gives up sooner than a
    hold lasts, that the holds outlast them all."""
    lines = [
        f"seed {run['seed']} on {run['profile']}: {run['loss']}" for run in near["runs"] if run["verdict"] != "holds"
    ]
    exact_ok = all(run["verdict"] == "holds" for run in near["runs"] if not run["stretched"])
    if exact_ok and document["margin"] > 0:
        lines.append(
            f"it held on {document['profile']['name']} itself, not with the {document['margin']:.0%} margin "
            f"({document['stretched_profile']})"
        )
    tried = [t.get("persistence_s") for t in [*document["trials"], document["defaults"] or {}]]
    reaches = [p for p in tried if isinstance(p, int | float)]
    hold = document["profile"]["publish"]["hold_ms"]
    stretched = hold * (1 + document["margin"])
    if reaches and max(reaches) * 1000 < stretched:
        longest = f"the longest any keeps trying is {max(reaches):.3g} s"
        if max(reaches) * 1000 < hold:
            lines.append(f"the {_seconds(hold)} holds outlast every setting tried: {longest}")
        else:
            lines.append(f"the {_seconds(stretched)} holds of the margin outlast every setting tried: {longest}")
    return lines


def spec_toml(document: Mapping[str, Any], chosen: Mapping[str, Any]) -> str:
    """tuned.toml: the chosen setting as a run spec for `mockgc simulate --spec` and `mockgc run --spec`."""
    axes = document["axes"]
    figures = chosen["figures"]
    lines = [
        f"# mockgc tune: {document['mitigation']} on {document['profile']['name']}, the cheapest setting on the front",
        f"# by {axes[0]} ({figures[axes[0]]:g}; {axes[1]} {figures[axes[1]]:g}). It held on {where_judged(document)},",
        f"# and again on the held-out {seeds_text(document['held_out_seeds'])}.",
        f"mitigation = {_toml(document['mitigation'])}",
        f"profile = {_toml(document['profile_arg'])}",
        f"seed = {document['held_out_seeds'][0]}",
        f"sessions = {document['sessions']}",
        f"agents = {document['agents']}",
        f"publishes = {document['publishes']}",
        "",
        "[params]",
        *(f"{_toml_key(k)} = {_toml(v)}" for k, v in sorted(chosen["setting"].items())),
        "",
        "[expect]",
        f'{_toml_key(document["mitigation"])} = "holds"',
    ]
    return "\n".join(lines) + "\n"


def seeds_text(seeds: Sequence[int]) -> str:
    """'seed 4' or 'seeds 4, 5, 6'."""
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))


def where_judged(document: Mapping[str, Any]) -> str:
    """'seeds 1, 2 and long-hold+25%': every run a setting must hold on."""
    stretched = f" and on {document['stretched_profile']}" if document["margin"] else ""
    return f"{seeds_text(document['seeds'])}{stretched}"


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _toml(value: Any) -> str:
    """A TOML value for a parameter: JSON's strings, numbers and booleans are TOML's too, and so are arrays of them."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return json.dumps(value)


def commands(out: Path) -> dict[str, str]:
    spec = out / "tuned.toml"
    return {"simulate": f"mockgc simulate --spec {spec}", "run": f"mockgc run --spec {spec}"}


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    """Replaced in one step, so an interrupted tune never leaves half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    partial.replace(path)


def plan_dict(plan: TunePlan) -> dict[str, Any]:
    return {
        "mitigation": plan.mitigation,
        "profile": plan.profile.to_dict(),
        "stretched_profile": plan.profiles()[-1].name if plan.margin > 0 else None,
        "margin": plan.margin,
        "objective": plan.objective,
        "axes": list(plan.axes()),
        "seeds": list(plan.seeds),
        "sessions": plan.sessions,
        "agents": plan.agents,
        "publishes": plan.publishes,
    }
