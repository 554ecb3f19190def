"""The `mockgc` command line: one module per command, the shared flags and spec building in options.py."""

from __future__ import annotations

import os
from typing import Any

import click

from mockgc.cli import (
    calibrate,
    check,
    compare,
    demo,
    locust,
    mitigations,
    openapi,
    profiles,
    record,
    run,
    serve,
    shrink,
    simulate,
    tune,
    worker,
)
from mockgc.cli.options import HarnessError

DEBUG = "MOCKGC_DEBUG"


class Commands(click.Group):
    """The commands, with one net under them: whatever escapes a command unhandled is one line and exit 2
    (a harness error), never a traceback with exit 1, which CI reads as "the mitigation fails"."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except RecursionError:
            raise HarnessError("the input nests too deeply to be read") from None
        except Exception as error:
            if os.environ.get(DEBUG):
                raise
            raise HarnessError(
                f"unexpected {type(error).__name__}: {error} (a mockgc bug: {DEBUG}=1 shows where)"
            ) from None


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mockgc")
def main() -> None:
    """Chaos and load harness against a mock of Genesys Cloud."""


for command in (
    serve.serve,
    profiles.profiles,
    openapi.openapi,
    mitigations.mitigations,
    demo.demo,
    run.run,
    locust.locust_command,
    simulate.simulate_command,
    shrink.shrink_command,
    tune.tune,
    check.check,
    compare.compare,
    calibrate.calibrate,
    record.record,
    worker.worker,
):
    main.add_command(command)
