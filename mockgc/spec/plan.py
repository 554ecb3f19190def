"""A Plan: one run resolved once per process, and passed down to whatever carries it out.

mockgc/strategies/plans.py resolves a RunSpec into plans (one per mitigation of a matrix): the
strategy built with its parameters, its companion, the name results carry, the live publish
offsets and the simulator's config. Nothing below validates the spec or builds the strategy again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from mockgc.flows.mitigations.base import Mitigation
from mockgc.spec.companion import Companion
from mockgc.spec.runspec import RunSpec
from mockgc.spec.simconfig import SimConfig


@dataclass(frozen=True)
class Plan:
    """One mitigation's run: its spec (the document every process gets), and what the spec resolved to."""

    spec: RunSpec
    strategy: Mitigation
    companion: Companion
    label: str  # the name results carry: the strategy's name, else module:Class
    sim: SimConfig  # the simulator's timing and runaway bounds

    @cached_property
    def offsets(self) -> tuple[float, ...]:
        """A live run's publish starts, seconds after the load starts: computed once, on first use (a live
        schedule is bounded at MAX_LIVE_PUBLISHES, which a simulation's count need not be)."""
        return tuple(self.spec.offsets())

    def with_store(self, url: str | None) -> Plan:
        """The same plan with the store its processes use (a live run's default is SQLite in its directory)."""
        return replace(self, spec=self.spec.with_options(store=url)) if url != self.spec.store else self
