"""mockgc: a chaos and load test harness against a mock of Genesys Cloud.

The public Python API, for a team's own tests (and the `test_repro.py` that `mockgc shrink` writes):

    import mockgc

    spec = mockgc.RunSpec(mitigation="retry", profile="long-hold", sessions=2000)
    result = mockgc.simulate(spec)          # the checker's result, as `mockgc simulate --json` writes it
    assert result["verdict"] == "holds", mockgc.story(spec)

`simulate` and `story` take a RunSpec, a mapping of its fields, or a spec file's path. Importing
mockgc loads none of them: each is imported on first use (the simulator brings the platform in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Result", "RunSpec", "simulate", "story"]

if TYPE_CHECKING:
    from mockgc.checker.result import Result
    from mockgc.public import simulate, story
    from mockgc.spec.runspec import RunSpec

_LAZY = {
    "RunSpec": "mockgc.spec.runspec",
    "Result": "mockgc.checker.result",
    "simulate": "mockgc.public",
    "story": "mockgc.public",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mockgc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
