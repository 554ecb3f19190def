"""Explicit arrivals: "session n arrives t seconds into the simulation, on agent a", the spec's `arrivals`.

Without them the simulator draws every arrival from the seed (`drawn_arrivals`). With them it runs
exactly these sessions: that is how `mockgc shrink` writes a repro of one or two sessions. Session n
keeps what the seed gives session n of a drawn run (its key, its preference code, its call latencies),
so a session taken out of a large run behaves alone as it did among the others.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

MAX_ARRIVAL_S = 7 * 86_400.0  # as far as the simulator's arrival span may reach
MAX_SESSION_NUMBER = 2_000_000  # the simulator's most sessions


class Arrival(NamedTuple):
    """Session `session` arrives `at` seconds after the simulation starts (05:59 Chicago; the first publish
    fires at 60 s), on the org's agent number `agent` (0-based, in the org's order)."""

    at: float
    agent: int
    session: int


def drawn_arrivals(seed: int, sessions: int, span: float, agents: int, start: float) -> list[Arrival]:
    """The arrivals a run without explicit ones gets: uniform over [start, start + span), numbered in time
    order, spread over the agents in turn. Each `at` is the exact difference from `start` (both are within
    a factor of two), so `start + at` gives back the very instant drawn, and explicit arrivals written
    from these run the same run."""
    draws = random.Random(f"arrivals:{seed}")
    instants = sorted(start + draws.random() * span for _ in range(sessions))
    return [Arrival(at - start, index % agents, index) for index, at in enumerate(instants)]


def session_key(session: int, numbers: int) -> str:
    """The history's key of session `session` in a run whose sessions are numbered below `numbers`."""
    return f"s{session:0{len(str(numbers))}d}"


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"an arrival's {name} must be an integer, got {value!r}")
    return value


def parse_arrival(value: Any) -> Arrival:
    """An arrival from a table {at, agent, session} (TOML, JSON) or an Arrival; ValueError, one line, else."""
    if isinstance(value, Arrival):
        value = value._asdict()
    if isinstance(value, list | tuple) and len(value) == 3:
        value = dict(zip(Arrival._fields, value, strict=True))
    if not isinstance(value, Mapping) or set(value) != set(Arrival._fields):
        raise ValueError(f"an arrival is a table {{ at = seconds, agent = n, session = n }}, got {value!r}")
    at = value["at"]
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        raise ValueError(f"an arrival's at must be a number of seconds, got {at!r}")
    if not 0 <= at <= MAX_ARRIVAL_S:
        raise ValueError(f"an arrival's at must be between 0 and {MAX_ARRIVAL_S:.0f} seconds, got {at!r}")
    agent, session = _integer("agent", value["agent"]), _integer("session", value["session"])
    if agent < 0 or not 0 <= session < MAX_SESSION_NUMBER:
        raise ValueError(f"an arrival's agent and session must not be negative (session below {MAX_SESSION_NUMBER})")
    return Arrival(float(at), agent, session)


def parse_arrivals(values: Iterable[Any]) -> tuple[Arrival, ...]:
    """Arrivals in time order (ties by session number); each session number at most once."""
    if isinstance(values, str | bytes | Mapping):
        raise ValueError("arrivals must be a list of tables { at = seconds, agent = n, session = n }")
    arrivals = sorted((parse_arrival(v) for v in values), key=lambda a: (a.at, a.session))
    numbers = [a.session for a in arrivals]
    if len(set(numbers)) != len(numbers):
        raise ValueError("each session may arrive once: a session number is repeated in arrivals")
    return tuple(arrivals)


def check_arrivals(arrivals: tuple[Arrival, ...], sessions: int, agents: int) -> None:
    """Explicit arrivals fit the run: one per session, each on an agent the org has."""
    if not arrivals:
        return
    if len(arrivals) != sessions:
        raise ValueError(f"sessions is {sessions} but {len(arrivals)} arrivals are given: they must agree")
    beyond = sorted({a.agent for a in arrivals if a.agent >= agents})
    if beyond:
        raise ValueError(f"arrivals name agents {beyond}, but the org has {agents} (numbered from 0)")
