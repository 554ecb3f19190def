"""The `mockgc` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from mockgc.faults import PROFILES

console = Console(highlight=False, soft_wrap=True)
EXIT_HOLDS, EXIT_FAILS, EXIT_HARNESS_ERROR = 0, 1, 2


class HarnessError(click.ClickException):
    """A failure of the harness itself: one readable line, exit code 2."""

    exit_code = EXIT_HARNESS_ERROR


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mockgc")
def main() -> None:
    """Chaos and load harness against a mock of Genesys Cloud."""


@main.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MOCKGC_CONFIG",
    help="TOML settings file ([mockgc] table).",
)
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8321; 0 picks a free one).")
@click.option("--seed", type=int, help="Seed for the org's agents and faults.")
@click.option("--agents", type=int, help="How many agents the business unit has.")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), help="Fault profile.")
@click.option("--clock", type=click.Choice(["system", "virtual"]), help="Time source.")
@click.option("--admin-key", help="Credential for the /mock admin API (generated if not given).")
@click.option("--client-id", help="OAuth client id.")
@click.option("--client-secret", help="OAuth client secret (generated if not given).")
@click.option("--rate-limit", "rate_limit_per_minute", type=int, help="Requests per minute per token; 0 turns it off.")
@click.option("--threads", type=int, help="Worker threads.")
def serve(config_file: Path | None, **options: Any) -> None:
    """Run the mock platform (waitress) until interrupted.

    Settings come from defaults, then --config, then MOCKGC_* variables, then options.
    """
    from mockgc.platform.http.app import create_app
    from mockgc.server import build_server
    from mockgc.settings import load_settings

    try:
        settings = load_settings(config_file, **options).with_credentials()
        app = create_app(settings)
        server = build_server(app, settings.host, settings.port, settings.threads)
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    port = server.effective_port  # type: ignore[attr-defined]
    console.print(
        f"mockgc mock platform on http://{settings.host}:{port}  profile={settings.profile} seed={settings.seed} agents={settings.agents}"
    )
    console.print(f"  OAuth client: id={settings.client_id} secret={settings.client_secret}")
    console.print(f"  admin key:    {settings.admin_key}   (Authorization: Bearer <key> on /mock/...)")
    sys.stdout.flush()
    try:
        server.run()
    except KeyboardInterrupt:
        console.print("stopped")


@main.command()
def profiles() -> None:
    """List the named fault profiles."""
    from rich.table import Table

    table = Table("profile", "kind", "batch", "every ms", "hold ms", "toxicity", "version", "what it is")
    for p in PROFILES.values():
        lock = p.publish
        table.add_row(
            p.name,
            lock.kind,
            str(lock.batch_size),
            str(lock.interval_ms),
            str(lock.hold_ms),
            str(lock.toxicity),
            lock.platform_version,
            p.description,
        )
    console.print(table)


@main.command()
def demo() -> None:
    """Show the failure mode: a Set Data write fails while a WFM publish holds the agent."""
    from mockgc.scripted_demo import DemoError, run_scripted_demo

    try:
        shown = run_scripted_demo(console.print)
    except (DemoError, OSError) as error:
        raise HarnessError(str(error)) from None
    if not shown:
        raise HarnessError("the failure did not show: expected 200, then 400, then 200")
    console.print(
        "[bold]shown:[/] writes to a held agent's session fail during the publish and succeed before and after it"
    )


if __name__ == "__main__":
    main()
