"""`mockgc demo`: a short live load showing the baseline losing sessions and a mitigation holding (or the scripted demo)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mockgc.checker.result import EXIT_INTERRUPTED
from mockgc.cli.options import (
    HarnessError,
    console,
    in_ci,
)


@click.command()
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Output directory (default ./runs/demo-<time>)."
)
@click.option(
    "--scripted", is_flag=True, help="Instead: a few requests by hand showing 200 before, 400 during, 200 after a hold."
)
@click.option("--duration", "-t", help="Load per run: seconds or Locust's form (30s, 1m, 1h30m).  [default: 16s]")
def demo(out: Path | None, scripted: bool, duration: str | None) -> None:
    """Show the failure mode live: the baseline loses sessions during WFM publishes, a mitigation holds.

    Two short Locust runs against an embedded mock (about 50 s), then the report's path.
    """
    import time
    from dataclasses import replace

    if scripted:
        _scripted_demo()
        return

    from mockgc.checker.summary import print_summary
    from mockgc.live.console import display_for, sigint_as_keyboard_interrupt
    from mockgc.live.demo import DemoSetup, demo_exit, run_demo, summary_lines
    from mockgc.live.errors import RunError
    from mockgc.live.run import Interrupted
    from mockgc.spec.durations import parse_duration

    out = out or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")
    try:
        setup = DemoSetup() if duration is None else replace(DemoSetup(), duration=parse_duration(duration))
        with sigint_as_keyboard_interrupt():
            outcomes, seconds = run_demo(out, display_for(console, quiet=False, ci=in_ci()), setup)
    except Interrupted:
        console.print(f"interrupted; partial report: {out / 'report.html'}")
        sys.exit(EXIT_INTERRUPTED)
    except (RunError, ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    console.print()
    print_summary(console, [o.result for o in outcomes])
    for line in summary_lines(outcomes):
        console.print(f"[bold]{line}[/]")
    console.print(f"report: {(out / 'report.html').resolve()}  ({seconds:.0f} s)")
    sys.exit(demo_exit(outcomes))


def _scripted_demo() -> None:
    from mockgc.live.scripted_demo import DemoError, run_scripted_demo
    from mockgc.platform.client import MockError, PublishError

    try:
        shown = run_scripted_demo(console.print)
    except (DemoError, MockError, PublishError, OSError) as error:
        raise HarnessError(str(error)) from None
    if not shown:
        raise HarnessError("the failure did not show: expected 200, then 400, then 200")
    console.print(
        "[bold]shown:[/] writes to a held agent's session fail during the publish, and succeed before and after it"
    )
