"""`mockgc record`: a real org's publishes as a trace, read with ordinary OAuth credentials."""

from __future__ import annotations

from pathlib import Path

import click

from mockgc.cli.options import HarnessError, console


@click.command("record")
@click.option(
    "--target",
    required=True,
    envvar="MOCKGC_TARGET",
    help="The platform's API URL (https://api.mypurecloud.com, or a mock's).",
)
@click.option("--login", help="Its OAuth URL (default: the target's api. host as login.; a mock serves both).")
@click.option("--client-id", required=True, envvar="MOCKGC_CLIENT_ID", help="An OAuth client (client credentials).")
@click.option("--client-secret", required=True, envvar="MOCKGC_CLIENT_SECRET", help="Its secret.")
@click.option("--from", "start", metavar="ISO", help="The window's start (default: an hour before --to).")
@click.option("--to", "end", metavar="ISO", help="The window's end (default: now).")
@click.option("--business-unit", metavar="ID", help="Only this business unit's publishes (default: every one).")
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("trace.jsonl"),
    show_default=True,
    help="Where to write the trace (JSON Lines).",
)
def record(
    target: str,
    login: str | None,
    client_id: str,
    client_secret: str,
    start: str | None,
    end: str | None,
    business_unit: str | None,
    out: Path,
) -> None:
    """Record a publish as a trace: the WFM publishes in the window, their agents' presence and routing-status
    changes (analytics users details) and the calls their flows logged to participant attributes (analytics
    conversation details jobs). Ordinary OAuth credentials only; 429s are waited out as Retry-After says.
    `mockgc calibrate TRACE` fits a profile to it."""
    from mockgc.explore.calibrate.record import PlatformClient, RecordError, window_of
    from mockgc.explore.calibrate.record import record as read_org
    from mockgc.explore.calibrate.trace import save

    try:
        window = window_of(start, end)
        window.business_unit = business_unit
        client = PlatformClient(target, client_id, client_secret, login_url=login)
        trace = read_org(client, window)
        save(trace, out)
    except (RecordError, ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    counters = client.counters
    console.print(
        f"recorded {len(trace.publishes)} publishes, {sum(o.agents for o in trace.orgs)} agents, "
        f"{len(trace.statuses)} status changes and {len(trace.calls)} logged calls into {out} "
        f"({counters.requests} requests; {counters.throttled} 429s and {counters.server_errors} 5xxs waited out, "
        f"{counters.waited_s:.1f} s)"
    )
    if not trace.calls:
        console.print("no logged call: does your flow log to participant attributes (mockgc.call.NN)?")
