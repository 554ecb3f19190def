"""What a live run tells a person while it goes: phase lines, a status line at least every 10 s (CI) or a live bar
(a terminal), each publish as it starts and ends; Ctrl-C as KeyboardInterrupt.

Both read what the Locust master writes every 2 s into the run's directory (status.json,
mockgc/report/status.py): elapsed of the total, users, requests/s, sessions so far by the checker's
classes (provisional until the verdict) and each publish. Locust's CSV is the fallback for a
locustfile that writes no status.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mockgc.checker.result import CLASSES
from mockgc.report.locust_stats import live_counts
from mockgc.report.status import STOPPING, read_status

STATUS_EVERY_S = 10.0  # a CI log gets a status line at least this often, and a phase (drain, read-back) too


class Display:
    """Silent (--quiet); PlainDisplay (CI, a pipe) and RichDisplay (a terminal) show it all."""

    def line(self, text: str) -> None:
        pass

    def start(self, label: str, total: float) -> None:
        pass

    def update(self, elapsed: float, directory: Path) -> None:
        pass

    def progress(self, label: str, done: int, total: int) -> None:
        """A phase after the load (reading values back, waiting for a worker): `done` of `total` so far."""

    def stop(self) -> None:
        pass


def counts_text(status: Mapping[str, Any], directory: Path | None = None) -> str:
    """'1,020 sessions (provisional: ok 800, lost 220)', from the status, else from Locust's CSV."""
    sessions = status.get("sessions") or {}
    by_class = sessions.get("by_class")
    if by_class is None and directory is not None:
        requests, by_class, _ = live_counts(directory / "locust_stats.csv")
        shown = " ".join(f"{name} {by_class[name]}" for name in CLASSES if name in by_class)
        return f"{requests} requests  {shown}".strip()
    shown = ", ".join(f"{name} {by_class[name]:,}" for name in CLASSES if (by_class or {}).get(name))
    label = "provisional: " if sessions.get("provisional", True) else ""
    return f"{sessions.get('total', 0):,} sessions" + (f" ({label}{shown})" if shown else "")


def status_line(status: Mapping[str, Any], elapsed: float, total: float) -> str:
    """One line for a CI log: elapsed of total, users, req/s, sessions by class so far, publishes fired."""
    if not status:
        return f"[{elapsed:4.0f} of {total:g} s] Locust is starting"
    publishes = status.get("publishes") or []
    fired = f"publishes {status.get('publishes_fired', 0)} of {len(publishes)} fired"
    if status.get("publishes_failed"):
        fired += f", {status['publishes_failed']} failed"
    if status.get("state") == STOPPING or elapsed > total:
        in_flight = (status.get("sessions") or {}).get("in_flight", 0)
        head = f"[{elapsed:4.0f} s, stopping] letting {in_flight} flows in flight finish"
    else:
        head = (
            f"[{elapsed:4.0f} of {total:g} s] {status.get('users', 0)} users, {status.get('requests_per_s', 0):g} req/s"
        )
    return f"{head}, {counts_text(status)}, {fired}"


def publish_events(status: Mapping[str, Any], told: set[tuple[int, str]], elapsed: float | None = None) -> list[str]:
    """The publish lines not told yet: one as each publish starts (or fails), one as its window ends (by the run's
    own clock, `elapsed`, when given: the status is a couple of seconds old)."""
    lines = []
    shown = status.get("publishes") or []
    count = len(shown)
    for publish in shown:
        number, state = publish["number"], publish["state"]
        if state == "in window" and elapsed is not None and elapsed >= publish["ends_s"]:
            state = "ended"
        if state in ("in window", "ended") and (number, "start") not in told:
            told.add((number, "start"))
            lines.append(
                f"publish {number} of {count} started at {publish['started_s']:.1f} s "
                f"(its window ends at about {publish['ends_s']:.1f} s)"
            )
        if state == "ended" and (number, "end") not in told:
            told.add((number, "end"))
            lines.append(f"publish {number} of {count}: window ended at {publish['ends_s']:.1f} s")
        if state == "failed" and (number, "failed") not in told:
            told.add((number, "failed"))
            lines.append(f"publish {number} of {count} failed: {publish.get('error')}")
    return lines


def publish_marks(status: Mapping[str, Any]) -> str:
    """The publishes at a glance for the bar: ■ ended, ▶ in its window, ✗ failed, □ not yet."""
    marks = {"ended": "■", "in window": "▶", "failed": "✗", "scheduled": "□"}
    shown = status.get("publishes") or []
    return ("publishes " + "".join(marks.get(p["state"], "?") for p in shown)) if shown else ""


class PlainDisplay(Display):
    """Lines only (a CI log, a pipe): a status line at least every STATUS_EVERY_S, a line as each publish starts
    and ends, and one per STATUS_EVERY_S of a phase after the load (drain, read-back)."""

    def __init__(
        self, console: Any, clock: Callable[[], float] = time.monotonic, every: float = STATUS_EVERY_S
    ) -> None:
        self.console = console
        self.clock = clock
        self.every = every
        self.total = 0.0
        self._last_status: float | None = None
        self._last_progress: dict[str, float] = {}
        self._told: set[tuple[int, str]] = set()
        self._status: dict[str, Any] = {}

    def line(self, text: str) -> None:
        self.console.print(text)

    def start(self, label: str, total: float) -> None:
        self.total, self._last_status, self._told, self._status = total, None, set(), {}
        self.console.print(f"{label}: loading for {total:g} s; a status line every {self.every:g} s", markup=False)

    def update(self, elapsed: float, directory: Path) -> None:
        status = read_status(directory) or self._status
        self._status = status
        for text in publish_events(status, self._told, elapsed):
            self.console.print(text, markup=False)
        now = self.clock()
        if self._last_status is None or now - self._last_status >= self.every:
            self._last_status = now
            self.console.print(status_line(status, elapsed, self.total), markup=False)

    def progress(self, label: str, done: int, total: int) -> None:
        now = self.clock()
        began = self._last_progress.setdefault(f"{label}:began", now)
        last = self._last_progress.get(label)
        if last is None or now - last >= self.every or done >= total:
            self._last_progress[label] = now
            self.console.print(f"{label}: {done:,} of {total:,} ({now - began:.0f} s)", markup=False)

    def stop(self) -> None:
        if self._status:
            self.console.print(f"load done: {counts_text(self._status)}", markup=False)


class RichDisplay(PlainDisplay):
    """A terminal: a rich bar (elapsed of the total, publishes marked) with the live counts; publish lines above it."""

    def __init__(self, console: Any, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(console, clock)
        self._progress: Any = None
        self._task: Any = None

    def start(self, label: str, total: float) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.total, self._told, self._status = total, set(), {}
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[marks]}"),
            TextColumn("{task.fields[status]}"),
            console=self.console,
            transient=not self.console.is_terminal,
        )
        self._progress.start()
        self._task = self._progress.add_task(label, total=total, status="starting", marks="")

    def update(self, elapsed: float, directory: Path) -> None:
        if self._progress is None:
            return
        status = read_status(directory) or self._status
        self._status = status
        for text in publish_events(status, self._told, elapsed):
            self._progress.console.print(text, markup=False)
        stopping = "stopping: " if elapsed > self.total else ""
        self._progress.update(
            self._task,
            completed=min(elapsed, self.total),
            status=stopping + counts_text(status, directory),
            marks=publish_marks(status),
        )

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def display_for(console: Any, *, quiet: bool, ci: bool) -> Display:
    """Silent with --quiet; lines in CI or when stdout is not a terminal; else the live bar."""
    if quiet:
        return Display()
    if ci or not console.is_terminal:
        return PlainDisplay(console)
    return RichDisplay(console)


@contextlib.contextmanager
def sigint_as_keyboard_interrupt() -> Iterator[None]:
    """Ctrl-C must reach the run as KeyboardInterrupt even if something installed another handler."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
