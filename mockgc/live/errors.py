"""The ways a live run ends other than with a verdict."""

from __future__ import annotations

from mockgc.report.records import Death


class RunError(RuntimeError):
    """The harness itself failed: the mock or Locust did not start, or no history came back (exit 2)."""


class ChildDied(Exception):
    """A watched child (the mock, a companion's service) exited during the load."""

    def __init__(self, death: Death) -> None:
        super().__init__(death.describe())
        self.death = death
