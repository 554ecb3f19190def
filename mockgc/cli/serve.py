"""`mockgc serve`: the mock platform in the foreground."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mockgc.cli.options import (
    PROFILE_HELP,
    HarnessError,
    bind_error,
    console,
    resolve_profile_ref,
)


@click.command()
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
@click.option("--profile", help=PROFILE_HELP)
@click.option("--clock", type=click.Choice(["system", "virtual"]), help="Time source.")
@click.option("--admin-key", help="Credential for the /mock admin API (generated if not given).")
@click.option("--client-id", help="OAuth client id.")
@click.option("--client-secret", help="OAuth client secret (generated if not given).")
@click.option("--rate-limit", "rate_limit_per_minute", type=int, help="Requests per minute per token; 0 turns it off.")
@click.option("--threads", type=int, help="Worker threads.")
@click.option(
    "--public-url",
    help="Base URL clients reach the mock at, for the pre-signed URLs it hands out (default: where it binds).",
)
def serve(config_file: Path | None, **options: Any) -> None:
    """Run the mock platform (granian) until interrupted.

    Settings come from defaults, then --config, then MOCKGC_* variables, then options.
    """
    from mockgc.platform.http.app import create_app
    from mockgc.platform.serve.server import ServerThread, serve_until_signalled
    from mockgc.platform.settings import load_settings

    try:
        given = load_settings(config_file, **options)
        settings = given.with_credentials()
        app = create_app(settings, profile=resolve_profile_ref(settings.org.profile))
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    try:
        server = ServerThread(app, settings.server.host, settings.server.port, settings.server.threads)
    except OSError as error:
        raise HarnessError(bind_error(error, settings.server.host, settings.server.port)) from None
    org = settings.org
    console.print(f"mockgc mock platform on {server.url}  profile={org.profile} seed={org.seed} agents={org.agents}")
    # A credential is printed only when serve made it up (the user learns it here); one that was given
    # is theirs already, and would otherwise end up in a log (`mockgc run` keeps mock.log in --out).
    secret = "(as given)" if given.org.client_secret else org.client_secret
    admin_key = "(as given)" if given.server.admin_key else settings.server.admin_key
    console.print(f"  OAuth client: id={org.client_id} secret={secret}")
    console.print(f"  admin key:    {admin_key}   (Authorization: Bearer <key> on /mock/...)")
    sys.stdout.flush()
    serve_until_signalled(server)
    console.print("stopped")
