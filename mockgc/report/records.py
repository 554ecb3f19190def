"""What judging a live run works on: the evidence it left, its health (a child's death among it), its outcome."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockgc.checker.result import Result


@dataclass(frozen=True)
class Death:
    """A watched child that exited while the run still needed it."""

    name: str
    pid: int
    exit_code: int | None
    at: float  # epoch seconds when the harness noticed (it polls every fraction of a second)
    log_tail: str

    def describe(self) -> str:
        how = f"was killed by signal {-self.exit_code}" if (self.exit_code or 0) < 0 else f"exited {self.exit_code}"
        return f"the {self.name} (pid {self.pid}) {how} at {time.strftime('%H:%M:%S', time.localtime(self.at))}"

    def as_dict(self) -> dict[str, Any]:
        return {"process": self.name, "pid": self.pid, "exit_code": self.exit_code, "at": round(self.at, 3)}


@dataclass
class RunOutcome:
    mitigation: str
    directory: Path
    result: Result
    exit_code: int
    sections: str = ""  # the run's rendered report sections, reused by a matrix report


@dataclass
class Evidence:
    """What one run left behind for the checker and the harness section."""

    history: list[dict[str, Any]]
    live: dict[str, Any]  # the Locust master's live.json
    operations: list[dict[str, Any]] | None  # the mock's publish windows; None when the mock is gone
    truth: dict[str, dict[str, Any]]
    repairs: dict[str, float]
    services: dict[str, Any]
    # The strategy's own store after the run, when its companion read it (a Data Action service).
    store: dict[str, str | None] | None = None
    agents: dict[str, str] = field(default_factory=dict)  # agent id -> name (the report names agents)


@dataclass
class Health:
    """How the run itself went: a death, an interruption, Locust's exit, the processes it started."""

    partial: bool
    death: Death | None
    loaded_seconds: float | None
    service_error: str | None
    locust_exit: int | None
    processes: dict[str, int]
