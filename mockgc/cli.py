"""The `mockgc` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from mockgc.faults import PROFILES
from mockgc.runaway import DEFAULT_MAX_FLOW_SECONDS, DEFAULT_MAX_FLOW_STEPS, DEFAULT_MAX_MEAN_FLOW_STEPS

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
    """Run the mock platform (granian) until interrupted.

    Settings come from defaults, then --config, then MOCKGC_* variables, then options.
    """
    from mockgc.platform.http.app import create_app
    from mockgc.server import ServerThread, serve_until_signalled
    from mockgc.settings import load_settings

    try:
        settings = load_settings(config_file, **options).with_credentials()
        app = create_app(settings)
        server = ServerThread(app, settings.server.host, settings.server.port, settings.server.threads)
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    org = settings.org
    console.print(f"mockgc mock platform on {server.url}  profile={org.profile} seed={org.seed} agents={org.agents}")
    console.print(f"  OAuth client: id={org.client_id} secret={org.client_secret}")
    console.print(f"  admin key:    {settings.server.admin_key}   (Authorization: Bearer <key> on /mock/...)")
    sys.stdout.flush()
    serve_until_signalled(server)
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
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Output directory (default ./runs/demo-<time>)."
)
@click.option(
    "--scripted", is_flag=True, help="Instead: a few requests by hand showing 200 before, 400 during, 200 after a hold."
)
def demo(out: Path | None, scripted: bool) -> None:
    """Show the failure mode live: the baseline loses sessions during WFM publishes, a mitigation holds.

    Two short Locust runs against an embedded mock (about 45 s), then the report's path.
    """
    import time

    if scripted:
        _scripted_demo()
        return

    from mockgc.harness.demo import demo_exit, run_demo, summary_lines
    from mockgc.harness.run import Interrupted, RichDisplay, RunError, sigint_as_keyboard_interrupt

    out = out or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")
    try:
        with sigint_as_keyboard_interrupt():
            outcomes, seconds = run_demo(out, RichDisplay(console))
    except Interrupted:
        console.print(f"interrupted; partial report: {out / 'report.html'}")
        sys.exit(130)
    except (RunError, ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    console.print()
    for line in summary_lines(outcomes):
        console.print(f"[bold]{line}[/]")
    console.print(f"report: {(out / 'report.html').resolve()}  ({seconds:.0f} s)")
    sys.exit(demo_exit(outcomes))


def _scripted_demo() -> None:
    from mockgc.scripted_demo import DemoError, run_scripted_demo

    try:
        shown = run_scripted_demo(console.print)
    except (DemoError, OSError) as error:
        raise HarnessError(str(error)) from None
    if not shown:
        raise HarnessError("the failure did not show: expected 200, then 400, then 200")
    console.print(
        "[bold]shown:[/] writes to a held agent's session fail during the publish, and succeed before and after it"
    )


@main.command()
@click.option("--mitigation", "-m", default="none", show_default=True, help="Name, module:Class, a comma list, or all.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Mitigation parameter (JSON value).")
@click.option("--profile", "-p", default="seed-default", show_default=True, type=click.Choice(sorted(PROFILES)))
@click.option("--seed", "-s", type=int, default=1, show_default=True, help="Seed of the org, codes and pacing.")
@click.option("--agents", type=int, default=50, show_default=True, help="Agents in the mock's business unit.")
@click.option("--users", "-u", type=int, default=50, show_default=True, help="Concurrent Locust users (agent desks).")
@click.option("--spawn-rate", "-r", type=float, default=50.0, show_default=True, help="Users started per second.")
@click.option("--duration", "-t", type=float, default=30.0, show_default=True, help="Seconds of load (bounds the run).")
@click.option("--workers", type=int, default=0, show_default=True, help="Locust worker processes (0: one process).")
@click.option("--remote-workers", type=int, default=0, show_default=True, help="Workers on other machines to wait for.")
@click.option("--master-bind", default="127.0.0.1", show_default=True, help="With --remote-workers: address to bind.")
@click.option("--master-port", type=int, default=0, help="With --remote-workers: the port workers connect to.")
@click.option("--startup-timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for workers.")
@click.option("--publish-at", default="", help="Publish offsets in seconds, e.g. 5,15,25 (overrides --publishes).")
@click.option("--publishes", type=int, default=3, show_default=True, help="Publishes spread over the run.")
@click.option("--think-time", type=float, default=1.0, show_default=True, help="Mean seconds between interactions.")
@click.option("--drain-timeout", type=float, default=10.0, show_default=True, help="Seconds to finish flows at stop.")
@click.option("--store", envvar="MOCKGC_STORE", help="External store URL (default: SQLite in --out when needed).")
@click.option("--target", envvar="MOCKGC_TARGET", help="Use this running mock instead of starting one.")
@click.option("--admin-key", envvar="MOCKGC_ADMIN_KEY", help="The --target's admin key.")
@click.option("--client-id", envvar="MOCKGC_CLIENT_ID", help="With --rate-limited: the client to load with.")
@click.option("--client-secret", envvar="MOCKGC_CLIENT_SECRET", help="With --rate-limited: its secret.")
@click.option("--rate-limited", is_flag=True, help="Load with the rate-limited default client (no unthrottled one).")
@click.option("--threads", type=int, default=16, show_default=True, help="The started mock's server threads.")
@click.option("--locustfile", type=click.Path(dir_okay=False, exists=True), help="Another locustfile to run.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Output directory (default ./runs/run-<time>)."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress, only the verdict.")
def run(out: Path | None, params: tuple[str, ...], quiet: bool, **options: Any) -> None:
    """Live load with Locust while WFM publishes fire; the verdict, result.json and report.html land in --out.

    Starts the mock (unless --target), runs Locust headless (or a master and --workers), the
    nemesis publishes at the scheduled offsets, then the checker judges every process's history.
    Exit code: 0 holds, 1 fails, 2 the harness failed, 130 interrupted (a partial report is
    written). With several mitigations (a comma list or all): 0 when every run completed.
    """
    import time

    from mockgc.harness.run import (
        Display,
        Interrupted,
        RichDisplay,
        RunConfig,
        RunError,
        print_comparison,
        run_exit,
        sigint_as_keyboard_interrupt,
    )
    from mockgc.harness.run import run as run_live

    out = out or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S")
    try:
        config = RunConfig(
            mitigation_params=dict(_parse_param(item) for item in params), out=str(out), **options
        ).validate()
        with sigint_as_keyboard_interrupt():
            outcomes = run_live(config, Display() if quiet else RichDisplay(console))
    except Interrupted as stopped:
        if stopped.outcomes:
            print_comparison(console, stopped.outcomes)
        console.print(f"[yellow]interrupted[/]: partial report in {out / 'report.html'}")
        sys.exit(130)
    except (RunError, ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    print_comparison(console, outcomes)
    for outcome in outcomes:
        for problem in outcome.result["harness"]["problems"]:
            console.print(f"[red]harness problem ({outcome.mitigation}):[/] {problem}")
    console.print(f"result: {out / 'result.json'}  report: {out / 'report.html'}")
    sys.exit(run_exit(outcomes))


@main.command("simulate")
@click.option(
    "--mitigation", "-m", default="none", show_default=True, help="A registered name, package.module:Class, or all."
)
@click.option("--profile", "-p", default="seed-default", show_default=True, help="Fault profile (`mockgc profiles`).")
@click.option("--sessions", "-n", type=int, default=1000, show_default=True, help="Interactions to simulate.")
@click.option("--seed", "-s", type=int, default=1, show_default=True, help="Seed for the org, arrivals and latency.")
@click.option("--agents", type=int, default=50, show_default=True, help="Agents the sessions are spread across.")
@click.option("--publishes", type=int, default=3, show_default=True, help="Schedule publishes during the run.")
@click.option(
    "--param", "params", multiple=True, metavar="KEY=VALUE", help="Mitigation parameter (a JSON value, else a string)."
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the result JSON here."
)
@click.option(
    "--max-flow-steps",
    type=int,
    default=DEFAULT_MAX_FLOW_STEPS,
    show_default=True,
    help="Runaway bound: effects (calls, sleeps, clock reads) one flow may yield.",
)
@click.option(
    "--max-mean-flow-steps",
    type=int,
    default=DEFAULT_MAX_MEAN_FLOW_STEPS,
    show_default=True,
    help="Runaway bound: effects per session, on average over the run.",
)
@click.option(
    "--max-flow-seconds",
    type=float,
    default=DEFAULT_MAX_FLOW_SECONDS,
    show_default=True,
    help="Runaway bound: virtual seconds one flow may take from its arrival.",
)
def simulate_command(
    mitigation: str,
    profile: str,
    sessions: int,
    seed: int,
    agents: int,
    publishes: int,
    params: tuple[str, ...],
    json_path: Path | None,
    max_flow_steps: int,
    max_mean_flow_steps: int,
    max_flow_seconds: float,
) -> None:
    """Run SESSIONS interactions in virtual time while the profile's publishes fire, then check them.

    The same arguments give byte-identical JSON. Exit code: 0 the mitigation holds, 1 it
    fails, 2 bad input or a broken run. With --mitigation all, every registered mitigation
    runs with its defaults and the comparison is printed (the JSON holds every result);
    the exit code is then 0 whenever every run completed, whatever the verdicts.

    A runaway strategy (one that never ends, or spins) stops the run with exit 2, naming the
    strategy and the session, once a flow meets --max-flow-steps or --max-flow-seconds, or
    the run --max-mean-flow-steps per session. The built-in strategies stay far below them
    (at most 37 effects and about 1 h in a flow, 10.4 per session on average).
    """
    import json

    from rich.table import Table

    from mockgc import sim
    from mockgc.flows.mitigations import load_mitigation

    try:
        options = dict(_parse_param(item) for item in params)
        if mitigation == "all" and options:
            raise ValueError("--param applies to one mitigation, not to all")
        config = sim.SimConfig(
            max_flow_steps=max_flow_steps, max_mean_flow_steps=max_mean_flow_steps, max_flow_seconds=max_flow_seconds
        ).validate()
        common = {"profile": profile, "sessions": sessions, "seed": seed, "agents": agents, "publishes": publishes}
        common |= {"config": config}
        if mitigation == "all":
            results = sim.run_all(**common)
            document: dict[str, Any] = {"driver": "simulation", "fault_profile": profile, "seed": seed}
            document |= {"sessions": sessions, "agents": agents, "publishes": publishes, "results": results}
        else:
            try:
                chosen = load_mitigation(mitigation, **options)
            except TypeError as error:  # an unknown or missing keyword parameter
                raise ValueError(f"{mitigation}: {error}") from None
            results = [sim.simulate(mitigation=chosen, **common)]
            document = results[0]
        if json_path is not None:
            json_path.write_text(json.dumps(document, sort_keys=True, indent=2) + "\n")
    except (ValueError, OSError, sim.SimulationError) as error:
        raise HarnessError(str(error)) from None

    # Piped or captured output gets room for every column; a terminal keeps its own width.
    out = console if console.is_terminal else Console(highlight=False, width=max(console.width, 170))
    table = Table(
        *sim.SUMMARY_COLUMNS, title=f"profile {profile}, seed {seed}, {sessions} sessions, {publishes} publishes"
    )
    for result in results:
        row = sim.summary_row(result)
        row[1] = f"[green]{row[1]}[/]" if result["verdict"] == "holds" else f"[red]{row[1]}[/]"
        table.add_row(*row)
    out.print(table)
    if mitigation != "all":
        # Durability apart from outcome, and what a repairing strategy (async-worker) took to converge.
        result, ttc = results[0], results[0]["consistency"]["time_to_consistency_ms"]
        out.print(
            f"durable {result['durability']['durable']}/{result['sessions']['total']}, "
            f"outcome gap {result['consistency']['outcome_gap']}, repaired {result['consistency']['repaired']}, "
            f"time to consistency p50 {ttc['p50']} ms max {ttc['max']} ms"
        )
    if mitigation == "all":
        held = [r["mitigation"] for r in results if r["verdict"] == "holds"]
        out.print(f"holds on {profile}: {', '.join(held) or 'none of them'}")
        return
    sys.exit(EXIT_HOLDS if results[0]["verdict"] == "holds" else EXIT_FAILS)


@main.command()
@click.option("--target", required=True, envvar="MOCKGC_TARGET", help="Base URL of the mock (or a platform) to repair.")
@click.option("--client-id", required=True, envvar="MOCKGC_CLIENT_ID", help="OAuth client id for the worker's token.")
@click.option("--client-secret", required=True, envvar="MOCKGC_CLIENT_SECRET", help="OAuth client secret.")
@click.option(
    "--store",
    "store_url",
    default="sqlite:///mockgc-worker.db",
    show_default=True,
    envvar="MOCKGC_STORE",
    help="Where the flows record intents: sqlite:///file.db, redis://host:port/db.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8322, show_default=True, help="Port (0 picks a free one).")
@click.option("--port-file", type=click.Path(dir_okay=False, path_type=Path), help="Write the bound port here.")
@click.option("--namespace", default="mockgc:aw:", show_default=True, help="Key namespace shared with the flows.")
@click.option("--chunk-size", type=int, default=100, show_default=True, help="Updates per script-data request.")
@click.option("--rate-limit", type=int, default=300, show_default=True, help="Requests per minute to pace at; 0 = off.")
@click.option("--settle-seconds", type=float, default=1.0, show_default=True, help="Wait after the last publish.")
@click.option("--margin-seconds", type=float, default=2.0, show_default=True, help="Writes this early count too.")
def worker(
    target: str,
    client_id: str,
    client_secret: str,
    store_url: str,
    host: str,
    port: int,
    port_file: Path | None,
    namespace: str,
    chunk_size: int,
    rate_limit: int,
    settle_seconds: float,
    margin_seconds: float,
) -> None:
    """Run the async worker: publish webhooks in, chunked PUT /api/v2/analytics/script-data out."""
    from mockgc.flows.store import StoreError
    from mockgc.worker.engine import WorkerConfig
    from mockgc.worker.main import serve_worker

    try:
        config = WorkerConfig(
            namespace=namespace,
            chunk_size=chunk_size,
            rate_limit_per_minute=rate_limit,
            settle_seconds=settle_seconds,
            margin_seconds=margin_seconds,
        ).validate()
        serve_worker(
            target=target,
            client_id=client_id,
            client_secret=client_secret,
            store_url=store_url,
            config=config,
            host=host,
            port=port,
            port_file=port_file,
            announce=lambda line: (console.print(line), sys.stdout.flush()),
        )
    except (ValueError, OSError, StoreError, PermissionError) as error:
        raise HarnessError(str(error)) from None


def _parse_param(item: str) -> tuple[str, Any]:
    import json

    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ValueError(f"--param takes KEY=VALUE, got {item!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


if __name__ == "__main__":
    main()
