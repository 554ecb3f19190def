"""`mockgc tune`: the cheapest setting of a mitigation that still holds, with its margin (mockgc/explore/tune)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from mockgc.cli.options import HarnessError, apply_gate, console, gate_of, gate_options, parse_param


@click.command()
@click.option("--mitigation", "-m", required=True, help="A registered name or package.module:Class.")
@click.option("--profile", "-p", required=True, help="Fault profile: a name (`mockgc profiles`) or a JSON/TOML file.")
@click.option(
    "--space",
    "space",
    multiple=True,
    metavar="KEY=LO..HI[:log]",
    help="Search KEY over LO..HI (on a log scale with :log) instead of its declared range; KEY=VALUE fixes it.",
)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Fix a parameter (a JSON value).")
@click.option(
    "--objective",
    default="requests_per_session",
    show_default=True,
    help="The cost to minimize against the customer's wait (flow_p95_ms): "
    "requests_per_session, flow_p95_ms, p99_ms, http_400...",
)
@click.option(
    "--seeds", type=int, default=3, show_default=True, help="Seeds a setting must hold on (then as many held out)."
)
@click.option("--sessions", "-n", type=int, default=1000, show_default=True, help="Sessions per simulated run.")
@click.option("--budget", type=int, default=40, show_default=True, help="Trials (settings) to judge.")
@click.option(
    "--margin",
    type=float,
    default=0.25,
    show_default=True,
    help="A setting must also hold with holds and intervals this much longer (0.25: a quarter).",
)
@click.option("--jobs", "-j", type=int, help="Worker processes judging trials.  [default: the cores]")
@click.option("--seed", "-s", type=int, default=1, show_default=True, help="Seeds the sampler, and the first run seed.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Output directory (default ./runs/tune-<time>)."
)
@click.option(
    "--storage",
    envvar="MOCKGC_TUNE_STORAGE",
    help="Optuna RDB storage URL (postgresql+psycopg://user@host/db, sqlite:///tune.db) to share a study between processes.",
)
@click.option("--study", help="The study's name in --storage.  [default: mockgc-tune-MITIGATION-PROFILE]")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@gate_options
def tune(
    space: tuple[str, ...],
    params: tuple[str, ...],
    jobs: int | None,
    out: Path | None,
    quiet: bool,
    expect: tuple[str, ...],
    thresholds: tuple[str, ...],
    junit_path: Path | None,
    **options: Any,
) -> None:
    """Search a mitigation's parameters for the cheapest setting that still holds, with a margin.

    A setting holds only if it holds on every one of --seeds seeds AND on the profile with holds and
    intervals --margin longer. Optuna's seeded sampler searches cost (--objective) against the
    customer's wait (flow p95): the same arguments give the same trials and the same tune.json. The
    cheapest setting on the front is rerun on fresh seeds; the next is tried if it fails there.
    Writes tune.json, pareto.png, report.html and tuned.toml (a run spec) into --out. Exit code: 0 a
    setting held and was confirmed (and the gate, if any, passed on the confirmation), 1 nothing
    held (the closest setting and what broke it are printed), 2 bad input, 130 interrupted (what was
    judged is kept).
    """
    import time

    from mockgc.explore.tune.space import SpaceError
    from mockgc.explore.tune.study import TuneError
    from mockgc.explore.tune.tuning import TuneRequest, run_tune
    from mockgc.live.console import sigint_as_keyboard_interrupt

    out = out or Path("runs") / time.strftime("tune-%Y%m%d-%H%M%S")
    try:
        request = TuneRequest(
            out=out,
            space=space,
            params=dict(parse_param(item) for item in params),
            jobs=jobs or _cores(),
            gate=gate_of(expect, thresholds),
            **options,
        )
        with sigint_as_keyboard_interrupt():
            outcome = run_tune(request, None if quiet else TuneProgress(console))
    except (SpaceError, TuneError, ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    for line in outcome.lines:
        console.print(line)
    code = outcome.code
    if outcome.confirmation:  # CI gates judge the held-out confirmation, not the search
        document = outcome.document
        suite = f"mockgc tune {document['mitigation']} on {document['profile']['name']}: held-out confirmation"
        try:
            gated = apply_gate(outcome.confirmation, request.gate, junit_path=junit_path, suite=suite, console=console)
        except ValueError as error:
            raise HarnessError(str(error)) from None
        code = code or gated
    sys.exit(code)


def _cores() -> int:
    """The cores this process may run on (the default of --jobs)."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class TuneProgress:
    """The tune's progress bar: trials judged, settings that held, the cheapest so far."""

    def __init__(self, out: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("tune"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("trials · held {task.fields[held]} · best {task.fields[best]}"),
            TimeElapsedColumn(),
            console=out,
            transient=False,
        )
        self.task: Any = None

    def start(self, total: int) -> None:
        self.task = self.progress.add_task("tune", total=total, held=0, best="none yet")
        self.progress.start()

    def update(self, tally: Any) -> None:
        best = "none yet"
        if tally.best is not None:
            cost, wait = (tally.best["figures"][axis] for axis in tally.axes)
            best = f"{tally.axes[0]} {cost:g} ({tally.axes[1]} {wait:g})"
        self.progress.update(self.task, completed=tally.done, held=tally.held, best=best)

    def stop(self) -> None:
        self.progress.stop()
