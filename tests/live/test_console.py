"""What a live run prints in CI (mockgc/live/console.py), on a virtual clock: a status line at least every 10 s
with elapsed of total, users, req/s, sessions by class and publishes fired; a line as each publish starts and
ends; one line per 10 s of a phase after the load; and the terminal bar's total and publish marks."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from mockgc.live.console import PlainDisplay, RichDisplay, display_for, publish_marks, status_line
from mockgc.report.status import Load, Nemesis, Sessions, live_status, write_status

T0 = 1_000.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def status_at(elapsed: float, *, state: str = "running", ok: int = 0, lost: int = 0) -> dict:
    load = Load(state=state, users=50, requests_per_s=400.0, started=T0, now=T0 + elapsed, duration_s=30.0)
    records = [{"index": 0, "invokedAt": T0 + 2.6, "operationId": "op-1"}] if elapsed >= 2.6 else []
    nemesis = Nemesis([2.625, 11.75, 20.875], records, 6.5)
    return live_status(load, nemesis, Sessions({"ok": ok, "lost": lost}, in_flight=4))


def test_ci_gets_a_status_line_at_least_every_10_s_and_one_line_per_publish_start_and_end(tmp_path: Path) -> None:
    out, clock = io.StringIO(), Clock()
    display = PlainDisplay(Console(file=out, width=300), clock=clock)
    display.start("none", 30.0)
    printed_at: list[float] = []
    # The run polls four times a second, as Locust.wait does; the master writes status.json as it goes.
    for step in range(0, 4 * 32):
        clock.now = step / 4
        write_status(tmp_path, status_at(clock.now, ok=10 * step, lost=step))
        before = out.getvalue().count("\n")
        display.update(clock.now, tmp_path)
        if out.getvalue().count("\n") > before:
            printed_at.append(clock.now)
    lines = out.getvalue().splitlines()
    assert lines[0] == "none: loading for 30 s; a status line every 10 s"
    status_lines = [line for line in lines if line.startswith("[")]
    assert len(status_lines) == 4  # at 0, 10, 20 and 30 s
    assert status_lines[1] == (
        "[  10 of 30 s] 50 users, 400 req/s, 440 sessions (provisional: ok 400, lost 40), publishes 1 of 3 fired"
    )
    starts = [line for line in lines if line.startswith("publish 1 of 3 started")]
    ends = [line for line in lines if line.startswith("publish 1 of 3: window ended")]
    assert starts == ["publish 1 of 3 started at 2.6 s (its window ends at about 9.1 s)"]
    assert ends == ["publish 1 of 3: window ended at 9.1 s"]
    assert lines.index(starts[0]) < lines.index(ends[0])
    display.stop()
    assert out.getvalue().splitlines()[-1].startswith("load done: 1,")


def test_the_drain_and_a_read_back_say_where_they_are_every_10_s(tmp_path: Path) -> None:
    out, clock = io.StringIO(), Clock()
    display = PlainDisplay(Console(file=out, width=300), clock=clock)
    display.start("data-action", 30.0)
    clock.now = 31.0
    write_status(tmp_path, status_at(31.0, state="stopping", ok=5))
    display.update(31.0, tmp_path)
    assert out.getvalue().splitlines()[-1].startswith("[  31 s, stopping] letting 4 flows in flight finish, 5 sessions")
    for done in range(0, 1001):
        clock.now = 40.0 + done * 0.05  # 20 values a second: 50 s for 1,000
        display.progress("reading your service's values back", done, 1000)
    read_back = [line for line in out.getvalue().splitlines() if line.startswith("reading")]
    assert read_back[0] == "reading your service's values back: 0 of 1,000 (0 s)"
    assert read_back[-1] == "reading your service's values back: 1,000 of 1,000 (50 s)"
    # One line per 10 s (0, 10, 20, 30, 40 s) and the end (50 s): never one per value.
    assert [line.rsplit("(", 1)[1] for line in read_back] == ["0 s)", "10 s)", "20 s)", "30 s)", "40 s)", "50 s)"]


def test_a_terminal_bar_shows_the_total_and_marks_the_publishes(tmp_path: Path) -> None:
    assert publish_marks(status_at(5.0)) == "publishes ▶□□"
    assert publish_marks(status_at(10.0)) == "publishes ■□□"
    assert publish_marks({}) == ""
    out = io.StringIO()
    terminal = Console(file=out, width=200, force_terminal=True, highlight=False)
    display = RichDisplay(terminal)
    display.start("none", 30.0)
    write_status(tmp_path, status_at(5.0, ok=3))
    display.update(5.0, tmp_path)
    display._progress.refresh()
    display.stop()
    shown = out.getvalue()
    assert "5/30 s" in shown and "publishes ▶□□" in shown and "3 sessions (provisional: ok 3)" in shown
    assert "publish 1 of 3 started at 2.6 s" in shown


def test_ci_or_a_pipe_gets_lines_a_terminal_the_bar_quiet_nothing() -> None:
    terminal, pipe = Console(force_terminal=True), Console(file=io.StringIO())
    assert type(display_for(terminal, quiet=False, ci=False)) is RichDisplay
    assert type(display_for(terminal, quiet=False, ci=True)) is PlainDisplay
    assert type(display_for(pipe, quiet=False, ci=False)) is PlainDisplay
    assert type(display_for(pipe, quiet=True, ci=True)).__name__ == "Display"
    assert status_line({}, 3.0, 30.0) == "[   3 of 30 s] Locust is starting"
