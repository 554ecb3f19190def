"""The `mockgc` command line: one module per command, the shared flags and spec building in options.py."""

from __future__ import annotations

import click

from mockgc.cli import check, compare, demo, mitigations, openapi, profiles, run, serve, simulate, worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    simulate.simulate_command,
    check.check,
    compare.compare,
    worker.worker,
):
    main.add_command(command)
