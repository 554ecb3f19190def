"""`mockgc run`: each mitigation of the spec in turn against a live mock, under Locust, with the nemesis."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mockgc.checker.result import EXIT_INTERRUPTED
from mockgc.cli.options import (
    DEFAULTS,
    PROFILE_HELP,
    HarnessError,
    apply_gate,
    build_spec,
    console,
    flow_options,
    gate_options,
    in_ci,
    spec_option,
)


@click.command()
@spec_option
@click.option(
    "--mitigation",
    "-m",
    default=DEFAULTS.mitigation,
    show_default=True,
    help="Name, module:Class, a comma list, or all.",
)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Mitigation parameter (JSON value).")
@click.option("--profile", "-p", default=DEFAULTS.profile, show_default=True, help=PROFILE_HELP)
@flow_options
@click.option(
    "--seed", "-s", type=int, default=DEFAULTS.seed, show_default=True, help="Seed of the org, codes and pacing."
)
@click.option(
    "--agents", type=int, default=DEFAULTS.agents, show_default=True, help="Agents in the mock's business unit."
)
@click.option(
    "--users", "-u", type=int, default=DEFAULTS.users, show_default=True, help="Concurrent Locust users (agent desks)."
)
@click.option(
    "--spawn-rate", "-r", type=float, default=DEFAULTS.spawn_rate, show_default=True, help="Users started per second."
)
@click.option(
    "--duration",
    "-t",
    default=f"{DEFAULTS.duration:g}s",
    show_default=True,
    help="Load time: seconds or Locust's form (30s, 1m, 1h30m); bounds the run.",
)
@click.option(
    "--workers", type=int, default=DEFAULTS.workers, show_default=True, help="Locust worker processes (0: one process)."
)
@click.option(
    "--remote-workers",
    type=int,
    default=DEFAULTS.remote_workers,
    show_default=True,
    help="Workers on other machines to wait for.",
)
@click.option("--master-bind", default="127.0.0.1", show_default=True, help="With --remote-workers: address to bind.")
@click.option("--master-port", type=int, default=0, help="With --remote-workers: the port workers connect to.")
@click.option("--startup-timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for workers.")
@click.option(
    "--publish-at",
    default="",
    help="Publish offsets after the load starts, e.g. 5,15,25 or 30s,1m (overrides --publishes).",
)
@click.option(
    "--publishes",
    type=int,
    default=DEFAULTS.publishes,
    show_default=True,
    help="Publishes spread over the run, with calm time before, between and after their windows.",
)
@click.option(
    "--think-time",
    default=f"{DEFAULTS.think_time:g}s",
    show_default=True,
    help="Mean time between a desk's interactions (seconds or 1s, 1m...).",
)
@click.option(
    "--drain-timeout",
    default=f"{DEFAULTS.drain_timeout:g}s",
    show_default=True,
    help="Time to let flows in flight finish at stop.",
)
@click.option("--store", envvar="MOCKGC_STORE", help="External store URL (default: SQLite in --out when needed).")
@click.option(
    "--reread-after",
    default=f"{DEFAULTS.reread_after:g}s",
    show_default=True,
    help="Read your service or store back again this long after the load (durable means still there); 0: once.",
)
@click.option(
    "--restart-cmd",
    help="A command that restarts your service or store between the two read-backs (no shell; it returns once "
    'the service answers again), e.g. "systemctl restart prefs".',
)
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
@click.option(
    "--external-worker",
    metavar="URL|notifications",
    help="async-worker: your own repair worker instead of mockgc's: the URL to register the publish webhook to, "
    "or `notifications` when it subscribes itself. Give it and the run the same --store.",
)
@gate_options
def run(
    spec_file: Path | None,
    params: tuple[str, ...],
    external_worker: str | None,
    expect: tuple[str, ...],
    thresholds: tuple[str, ...],
    junit_path: Path | None,
    out: Path | None,
    quiet: bool,
    target: str | None,
    admin_key: str | None,
    client_id: str | None,
    client_secret: str | None,
    rate_limited: bool,
    threads: int,
    locustfile: str | None,
    startup_timeout: float,
    master_bind: str,
    master_port: int,
    restart_cmd: str | None,
    **spec_options: Any,
) -> None:
    """Live load with Locust while WFM publishes fire; the verdict, result.json and report.html land in --out.

    Starts the mock (unless --target), runs Locust headless (or a master and --workers), the
    nemesis publishes at the scheduled offsets, then the checker judges every process's history.
    --spec runs/x/config.json repeats a run. Exit code: 0 holds, 1 fails, 2 the harness failed,
    130 interrupted (a partial report is written). With several mitigations (a comma list or
    all): 0 when every run completed. With --expect or --threshold: 1 when any broke, named.
    """
    import json
    import time

    from mockgc.checker.summary import print_summary
    from mockgc.live.console import display_for, sigint_as_keyboard_interrupt
    from mockgc.live.errors import RunError
    from mockgc.live.locust import with_enough_workers
    from mockgc.live.options import LiveOptions
    from mockgc.live.run import Interrupted
    from mockgc.live.run import run as run_live
    from mockgc.report.judge import run_exit

    out = out or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S")
    if external_worker:
        params = (*params, f"external_worker={external_worker}")
    try:
        spec = build_spec(spec_file, params, expect=expect, thresholds=thresholds, **spec_options)
        options = LiveOptions(
            out=out,
            target=target,
            admin_key=admin_key,
            client_id=client_id,
            client_secret=client_secret,
            rate_limited=rate_limited,
            threads=threads,
            locustfile=locustfile,
            startup_timeout=startup_timeout,
            master_bind=master_bind,
            master_port=master_port,
            restart_cmd=restart_cmd,
        )
        spec, note = with_enough_workers(spec)
        if note:
            console.print(note)
        with sigint_as_keyboard_interrupt():
            outcomes = run_live(spec, options, display_for(console, quiet=quiet, ci=in_ci()))
    except Interrupted as stopped:
        if stopped.outcomes:
            print_summary(console, [o.result for o in stopped.outcomes])
        console.print(f"[yellow]interrupted[/]: partial report in {out / 'report.html'}")
        sys.exit(EXIT_INTERRUPTED)
    except (RunError, ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    results = [o.result for o in outcomes]
    print_summary(console, results)
    for outcome in outcomes:
        for problem in outcome.result["harness"]["problems"]:
            console.print(f"[red]harness problem ({outcome.mitigation}):[/] {problem}")
    try:
        apply_gate(results, spec.gate(), junit_path=junit_path, suite=f"mockgc run on {spec.profile}", console=console)
        for outcome in outcomes:  # result.json's gate as the console and JUnit say it (a lone run must hold)
            if "gate" in outcome.result:
                (outcome.directory / "result.json").write_text(json.dumps(outcome.result, indent=2, sort_keys=True))
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    console.print(f"result: {out / 'result.json'}  report: {out / 'report.html'}")
    sys.exit(run_exit(outcomes, spec.gate()))
