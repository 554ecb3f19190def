"""`mockgc calibrate TRACE|RUN_DIR --out profile.toml`: a fault profile fitted to a recorded publish."""

from __future__ import annotations

from pathlib import Path

import click

from mockgc.cli.options import HarnessError, console


@click.command("calibrate")
@click.argument("source", type=click.Path(exists=True, path_type=Path), metavar="TRACE|RUN_DIR")
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("profile.toml"),
    show_default=True,
    help="Where to write the fitted profile (TOML; `--profile FILE` takes it).",
)
@click.option("--name", help="The profile's name (default: calibrated-<source>).")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the fit as JSON."
)
def calibrate(source: Path, out: Path, name: str | None, json_path: Path | None) -> None:
    """Fit a fault profile to a recorded publish: a trace (JSON Lines, from `mockgc record`), a CSV of your own
    logs, or a run directory. Prints each parameter with its 95% interval and the evidence it came from,
    and writes the profile. Exit 2, with one line naming what is missing, when the trace cannot support a fit.
    """
    from mockgc.explore.calibrate.command import calibrate as fit_and_write

    try:
        fit_and_write(source, out, name, json_path, console)
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
