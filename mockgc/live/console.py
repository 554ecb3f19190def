"""What a live run tells a person while it goes: phase lines and a live progress line; Ctrl-C as KeyboardInterrupt."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mockgc.checker.result import CLASSES
from mockgc.report.locust_stats import live_counts


class Display:
    """Silent (--quiet); RichDisplay shows it all."""

    def line(self, text: str) -> None:
        pass

    def start(self, label: str, total: float) -> None:
        pass

    def update(self, elapsed: float, stats_csv: Path) -> None:
        pass

    def stop(self) -> None:
        pass


def status_text(stats_csv: Path) -> str:
    requests_total, outcomes, _ = live_counts(stats_csv)
    shown = " ".join(f"{name} {outcomes[name]}" for name in CLASSES if name in outcomes)
    return f"{requests_total} requests  {shown}".strip()


class RichDisplay(Display):
    """A rich progress bar (elapsed of the duration) with live outcome counts read from Locust's CSV."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self._progress: Any = None
        self._task: Any = None

    def line(self, text: str) -> None:
        self.console.print(text)

    def start(self, label: str, total: float) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
            transient=not self.console.is_terminal,
        )
        self._progress.start()
        self._task = self._progress.add_task(label, total=total, status="starting")

    def update(self, elapsed: float, stats_csv: Path) -> None:
        if self._progress is not None:
            total = self._progress.tasks[0].total or 0
            self._progress.update(self._task, completed=min(elapsed, total), status=status_text(stats_csv))

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@contextlib.contextmanager
def sigint_as_keyboard_interrupt() -> Iterator[None]:
    """Ctrl-C must reach the run as KeyboardInterrupt even if something installed another handler."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
