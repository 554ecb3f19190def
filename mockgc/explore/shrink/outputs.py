"""What a shrink leaves in --out: repro.toml (the minimal spec), story.md, test_repro.py and shrink.json."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import tomli_w

from mockgc.explore.shrink.shrinking import Shrunk, Size
from mockgc.explore.shrink.story import Story
from mockgc.spec.runspec import RunSpec

REPRO, STORY, TEST, SUMMARY = "repro.toml", "story.md", "test_repro.py", "shrink.json"
# Always written, even at their defaults: what a reader needs to see the scenario whole.
CORE = ("mitigation", "profile", "seed", "agents", "publishes", "sessions", "arrivals")


def repro_fields(spec: RunSpec) -> dict[str, Any]:
    """The spec's fields a repro needs: the core ones, and any other that is not at its default."""
    data, defaults = spec.as_dict(), RunSpec().as_dict()
    fields = {k: data[k] for k in CORE}
    fields |= {k: v for k, v in data.items() if k not in fields and v != defaults[k] and v is not None}
    # Tables last, as TOML wants them after the plain keys.
    return dict(sorted(fields.items(), key=lambda item: isinstance(item[1], dict)))


def repro_toml(shrunk: Shrunk, source: str) -> str:
    lines = [
        f"# mockgc shrink: {shrunk.repro.mitigation} on {shrunk.repro.profile}, {shrunk.failure}. Shrunk from {source}",
        f"# ({shrunk.before}) in {shrunk.simulations} simulations.",
        f"# mockgc simulate --spec {REPRO}    # exits 1; session {_key(shrunk)} is {shrunk.failure}",
    ]
    return "\n".join(lines) + "\n" + tomli_w.dumps(repro_fields(shrunk.repro))


def _key(shrunk: Shrunk) -> str:
    return shrunk.trace.keys[shrunk.session]


def test_name(spec: RunSpec) -> str:
    words = f"test_{spec.mitigation}_holds_on_{spec.profile}"
    return re.sub(r"\W+", "_", words).strip("_").lower()


def test_file(shrunk: Shrunk, source: str) -> str:
    """test_repro.py: plain pytest on mockgc's public API; it fails today with the story, and passes once the
    strategy holds."""
    fields = "\n".join(f"        {json.dumps(k)}: {_literal(v)}," for k, v in repro_fields(shrunk.repro).items())
    return f'''"""A regression test written by `mockgc shrink`: {shrunk.repro.mitigation} on {shrunk.repro.profile} loses a customer's data.

Shrunk from {source} ({shrunk.before}) to {shrunk.after}: session {_key(shrunk)} is {shrunk.failure}.
It fails while the strategy still does, printing that session's story, and passes once it holds.
Copy it into your suite: it needs only mockgc.
"""

import mockgc

SPEC = mockgc.RunSpec.from_dict(
    {{
{fields}
    }}
)


def {test_name(shrunk.repro)}() -> None:
    result = mockgc.simulate(SPEC)
    assert result["verdict"] == "holds", mockgc.story(SPEC)
'''


def _literal(value: Any) -> str:
    """A JSON value as Python source."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else repr(value)


def summary(shrunk: Shrunk, source: str, before: Size | None = None) -> dict[str, Any]:
    """shrink.json: what was shrunk, how far (before and after), and what it took."""
    start = before or shrunk.before
    return {
        "source": source,
        "failure": {"class": shrunk.failure.cls, "outcome_gap": shrunk.failure.outcome_gap},
        "session": _key(shrunk),
        "before": start.__dict__,
        "after": shrunk.after.__dict__,
        "simulations": shrunk.simulations,
        "seconds": round(shrunk.seconds, 2),
        "budget_spent": shrunk.budget_spent,
        "steps": shrunk.steps,
        "files": [REPRO, STORY, TEST],
    }


def write(out: Path, shrunk: Shrunk, story: Story, source: str, before: Size | None = None) -> dict[str, Path]:
    """Every file of a shrink, in `out` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        REPRO: repro_toml(shrunk, source),
        STORY: story.markdown(),
        TEST: test_file(shrunk, source),
        SUMMARY: json.dumps(summary(shrunk, source, before), indent=2) + "\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = out / name
        paths[name].write_text(text)
    return paths
