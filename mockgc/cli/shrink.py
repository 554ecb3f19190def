"""`mockgc shrink`: a failing spec, simulate result or live run cut down to a repro, its story and a failing test."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mockgc.checker.result import EXIT_FAILS, EXIT_HARNESS, EXIT_HOLDS
from mockgc.cli.options import HarnessError, console
from mockgc.explore.shrink.shrinking import DEFAULT_BUDGET


@click.command("shrink")
@click.argument("run_dir", required=False, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--spec",
    "spec_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A spec (TOML, or a run's config.json) or a `mockgc simulate --json` result.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default="repro",
    show_default=True,
    help="Where to write.",
)
@click.option(
    "--budget", type=click.IntRange(1, 100_000), default=DEFAULT_BUDGET, show_default=True, help="Most simulations."
)
@click.option("--mitigation", "-m", help="With several mitigations (a matrix): the one to shrink.")
def shrink_command(
    run_dir: Path | None, spec_file: Path | None, out: Path, budget: int, mitigation: str | None
) -> None:
    """Cut a failing scenario down to the smallest simulation that still fails the same way.

    Give a spec or a simulate result (--spec FILE), or a live run's directory (RUN_DIR: `mockgc run`,
    `mockgc check`, a by-hand Locust run). Writes repro.toml (`mockgc simulate --spec repro.toml` fails
    with the same class), story.md (printed too), test_repro.py (pytest: fails until the strategy holds)
    and shrink.json into --out. Exit code: 0 a repro was written, 1 the input does not fail, 2 bad
    input, or a live failure the simulator cannot reproduce (the reason in one line).
    """
    from mockgc.drivers.simulator import LiveOnly, SimulationError
    from mockgc.explore.shrink.command import shrink_run_dir, shrink_spec_file
    from mockgc.explore.shrink.live import LiveHolds, Unreproducible
    from mockgc.explore.shrink.outputs import write
    from mockgc.explore.shrink.shrinking import DoesNotFail
    from mockgc.explore.shrink.story import tell

    if (run_dir is None) == (spec_file is None):
        raise click.UsageError("give either --spec FILE or a RUN_DIR")
    say = console.print
    try:
        if spec_file is not None:
            done = shrink_spec_file(spec_file, budget=budget, mitigation=mitigation, on_step=say)
        else:
            assert run_dir is not None
            done = shrink_run_dir(run_dir, budget=budget, mitigation=mitigation, on_step=say)
        shrunk = done.shrunk
        story = tell(shrunk.trace, shrunk.session)
        paths = write(out, shrunk, story, done.source, done.before)
    except (DoesNotFail, LiveHolds) as nothing:
        console.print(str(nothing), markup=False, highlight=False)
        sys.exit(EXIT_FAILS)
    except (Unreproducible, LiveOnly) as cannot:
        console.print(str(cannot), markup=False, highlight=False)
        sys.exit(EXIT_HARNESS)
    except (ValueError, OSError, SimulationError) as error:
        raise HarnessError(str(error)) from None
    console.print()
    console.print(story.text(), markup=False, highlight=False)
    console.print()
    spent = " (the budget ran out: the repro is the smallest found)" if shrunk.budget_spent else ""
    console.print(
        f"shrunk {done.before} -> {shrunk.after}, in {shrunk.simulations} simulations, {shrunk.seconds:.1f} s{spent}",
        markup=False,
        highlight=False,
    )
    console.print("wrote " + ", ".join(str(p) for p in paths.values()), markup=False, highlight=False)
    console.print(f"mockgc simulate --spec {paths['repro.toml']}; pytest {paths['test_repro.py']}", markup=False)
    sys.exit(EXIT_HOLDS)
