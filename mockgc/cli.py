"""The `mockgc` command line."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from rich.console import Console

from mockgc.ci import apply_gate, gate_of, gate_options, say_broken
from mockgc.faults import PROFILES, get_profile
from mockgc.flows.mitigations.async_worker import WorkerConfig
from mockgc.gate import Gate, figure
from mockgc.registry import ALL, expand
from mockgc.result import EXIT_FAILS, EXIT_HARNESS, EXIT_HOLDS, EXIT_INTERRUPTED, HOLDS
from mockgc.spec import RunSpec, read_spec_file

console = Console(highlight=False, soft_wrap=True)


class HarnessError(click.ClickException):
    """A failure of the harness itself: one readable line, exit code 2."""

    exit_code = EXIT_HARNESS


def _bind_error(error: OSError, host: str, port: int) -> str:
    """A busy port named, with the way out; any other bind failure as it is."""
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (another mockgc?): choose another --port, or --port 0 for a free one"
    return str(error)


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
@click.option("--profile", help="Fault profile (`mockgc profiles`).")
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
    from mockgc.server import ServerThread, serve_until_signalled
    from mockgc.settings import load_settings

    try:
        settings = load_settings(config_file, **options).with_credentials()
        get_profile(settings.org.profile)
        app = create_app(settings)
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    try:
        server = ServerThread(app, settings.server.host, settings.server.port, settings.server.threads)
    except OSError as error:
        raise HarnessError(_bind_error(error, settings.server.host, settings.server.port)) from None
    org = settings.org
    console.print(f"mockgc mock platform on {server.url}  profile={org.profile} seed={org.seed} agents={org.agents}")
    console.print(f"  OAuth client: id={org.client_id} secret={org.client_secret}")
    console.print(f"  admin key:    {settings.server.admin_key}   (Authorization: Bearer <key> on /mock/...)")
    sys.stdout.flush()
    serve_until_signalled(server)
    console.print("stopped")


def effective_kind(profile: Any) -> str:
    """What a held session suffers: the kind, except on v1 (writes wait) and at toxicity 0 (nothing)."""
    lock = profile.publish
    if lock.platform_version == "v1":
        return "waits (v1)"
    if lock.toxicity == 0:
        return "none (toxicity 0)"
    return str(lock.kind)


@main.command()
def profiles() -> None:
    """List the named fault profiles: what a publish holds, for how long, and what a held session suffers."""
    from rich import box
    from rich.table import Table

    table = Table("profile", "kind", "batch", "every ms", "hold ms", "toxicity", box=box.SIMPLE_HEAD)
    for p in PROFILES.values():
        lock = p.publish
        table.add_row(
            p.name,
            effective_kind(p),
            str(lock.batch_size),
            str(lock.interval_ms),
            str(lock.hold_ms),
            f"{lock.toxicity:g}",
        )
    console.print(table)
    for p in PROFILES.values():
        console.print(f"[bold]{p.name}[/]: {p.description}")


@main.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the document to this file instead of standard output.",
)
def openapi(output: Path | None) -> None:
    """The mock's OpenAPI 3.1 document (every route, tagged real or mock-only), as the mock serves it
    at /api/v2/docs/openapi.json. Generate a client with any OpenAPI generator from it."""
    import json

    from mockgc.platform.api.openapi import document

    text = json.dumps(document(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text)
    except OSError as error:
        raise HarnessError(f"cannot write {output}: {error.strerror or error}") from None
    console.print(f"wrote {output} ({len(document()['paths'])} paths)")


@main.command()
def mitigations() -> None:
    """List the mitigations in the order `all` runs them: what each models, its parameters and their defaults."""
    import inspect

    from mockgc.registry import REGISTRY, parameters

    for name, entry in REGISTRY.items():
        doc = inspect.getdoc(entry.strategy) or ""
        console.print(f"[bold]{name}[/]: {doc.split(chr(10) + chr(10))[0].replace(chr(10), ' ')}")
        params = parameters(entry.strategy)
        if not params:
            console.print("    no parameters")
        for param, default in params.items():
            shown = "required" if default is inspect.Parameter.empty else _json(default)
            console.print(f"    {param} = {shown}")
    console.print("Parameters with their defaults; set one with --param NAME=VALUE (a JSON value).")
    console.print(
        "Your own: --mitigation package.module:Class (a Mitigation subclass; its keyword arguments are its parameters)."
    )


@main.command()
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

    from mockgc.durations import parse_duration
    from mockgc.harness.console import RichDisplay, sigint_as_keyboard_interrupt
    from mockgc.harness.demo import DemoPlan, demo_exit, run_demo, summary_lines
    from mockgc.harness.errors import RunError
    from mockgc.harness.run import Interrupted
    from mockgc.summary import print_summary

    out = out or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")
    try:
        plan = DemoPlan() if duration is None else replace(DemoPlan(), duration=parse_duration(duration))
        with sigint_as_keyboard_interrupt():
            outcomes, seconds = run_demo(out, RichDisplay(console), plan)
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


def _spec_option(command: Any) -> Any:
    return click.option(
        "--spec",
        "spec_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A run spec: TOML, or a run's config.json. The options given here override it.",
    )(command)


def _build_spec(
    spec_file: Path | None,
    params: tuple[str, ...],
    *,
    params_for_several: bool = True,
    expect: tuple[str, ...] = (),
    thresholds: tuple[str, ...] = (),
    **options: Any,
) -> RunSpec:
    """The spec from the file (or the defaults), with every option the user gave on top."""
    source = click.get_current_context()
    given = {
        name: value
        for name, value in options.items()
        if source.get_parameter_source(name) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None)
    }
    # The file's fields with the options on top, validated once.
    data = read_spec_file(spec_file) if spec_file else {}
    if expect or thresholds:
        # The file's gate, read alone (the merged spec checks its names and types once, below).
        file_expect, file_thresholds = data.get("expect") or {}, data.get("thresholds") or ()
        in_file = Gate.parse(
            file_expect if isinstance(file_expect, dict) else {},
            [str(t) for t in file_thresholds] if isinstance(file_thresholds, list | tuple) else (),
        )
        gate = gate_of(expect, thresholds, in_file)
        given["expect"], given["thresholds"] = dict(gate.expect), [t.text for t in gate.thresholds]
    if params:
        in_file = data.get("params") or {}
        if not isinstance(in_file, dict):
            raise ValueError("params must be a table (a JSON object) of the mitigation's parameters")
        given["params"] = {**in_file, **dict(_parse_param(item) for item in params)}
    merged = data | given
    several = expand(str(merged.get("mitigation", _DEFAULT.mitigation)))
    if not params_for_several and merged.get("params") and len(several) > 1:
        raise ValueError("--param applies to one mitigation, not to all")
    return RunSpec.from_dict(merged, source=str(spec_file) if spec_file else "the options")


_DEFAULT = RunSpec()


@main.command()
@_spec_option
@click.option(
    "--mitigation",
    "-m",
    default=_DEFAULT.mitigation,
    show_default=True,
    help="Name, module:Class, a comma list, or all.",
)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Mitigation parameter (JSON value).")
@click.option("--profile", "-p", default=_DEFAULT.profile, show_default=True, help="Fault profile (`mockgc profiles`).")
@click.option(
    "--seed", "-s", type=int, default=_DEFAULT.seed, show_default=True, help="Seed of the org, codes and pacing."
)
@click.option(
    "--agents", type=int, default=_DEFAULT.agents, show_default=True, help="Agents in the mock's business unit."
)
@click.option(
    "--users", "-u", type=int, default=_DEFAULT.users, show_default=True, help="Concurrent Locust users (agent desks)."
)
@click.option(
    "--spawn-rate", "-r", type=float, default=_DEFAULT.spawn_rate, show_default=True, help="Users started per second."
)
@click.option(
    "--duration",
    "-t",
    default=f"{_DEFAULT.duration:g}s",
    show_default=True,
    help="Load time: seconds or Locust's form (30s, 1m, 1h30m); bounds the run.",
)
@click.option(
    "--workers", type=int, default=_DEFAULT.workers, show_default=True, help="Locust worker processes (0: one process)."
)
@click.option(
    "--remote-workers",
    type=int,
    default=_DEFAULT.remote_workers,
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
    default=_DEFAULT.publishes,
    show_default=True,
    help="Publishes spread over the run, with calm time before, between and after their windows.",
)
@click.option(
    "--think-time",
    default=f"{_DEFAULT.think_time:g}s",
    show_default=True,
    help="Mean time between a desk's interactions (seconds or 1s, 1m...).",
)
@click.option(
    "--drain-timeout",
    default=f"{_DEFAULT.drain_timeout:g}s",
    show_default=True,
    help="Time to let flows in flight finish at stop.",
)
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
    **spec_options: Any,
) -> None:
    """Live load with Locust while WFM publishes fire; the verdict, result.json and report.html land in --out.

    Starts the mock (unless --target), runs Locust headless (or a master and --workers), the
    nemesis publishes at the scheduled offsets, then the checker judges every process's history.
    --spec runs/x/config.json repeats a run. Exit code: 0 holds, 1 fails, 2 the harness failed,
    130 interrupted (a partial report is written). With several mitigations (a comma list or
    all): 0 when every run completed. With --expect or --threshold: 1 when any broke, named.
    """
    import time

    from mockgc.harness.console import Display, RichDisplay, sigint_as_keyboard_interrupt
    from mockgc.harness.errors import RunError
    from mockgc.harness.locust import with_enough_workers
    from mockgc.harness.options import LiveOptions
    from mockgc.harness.results import run_exit
    from mockgc.harness.run import Interrupted
    from mockgc.harness.run import run as run_live
    from mockgc.summary import print_summary

    out = out or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S")
    if external_worker:
        params = (*params, f"external_worker={external_worker}")
    try:
        spec = _build_spec(spec_file, params, expect=expect, thresholds=thresholds, **spec_options)
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
        ).validate(spec)
        spec, note = with_enough_workers(spec)
        if note:
            console.print(note)
        with sigint_as_keyboard_interrupt():
            outcomes = run_live(spec, options, Display() if quiet else RichDisplay(console))
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
    except ValueError as error:
        raise HarnessError(str(error)) from None
    console.print(f"result: {out / 'result.json'}  report: {out / 'report.html'}")
    sys.exit(run_exit(outcomes, spec.gate()))


@main.command("simulate")
@_spec_option
@click.option(
    "--mitigation",
    "-m",
    default=_DEFAULT.mitigation,
    show_default=True,
    help="A registered name, package.module:Class, a comma list, or all.",
)
@click.option("--profile", "-p", default=_DEFAULT.profile, show_default=True, help="Fault profile (`mockgc profiles`).")
@click.option(
    "--sessions", "-n", type=int, default=_DEFAULT.sessions, show_default=True, help="Interactions to simulate."
)
@click.option(
    "--seed", "-s", type=int, default=_DEFAULT.seed, show_default=True, help="Seed for the org, arrivals and latency."
)
@click.option(
    "--agents", type=int, default=_DEFAULT.agents, show_default=True, help="Agents the sessions are spread across."
)
@click.option(
    "--publishes", type=int, default=_DEFAULT.publishes, show_default=True, help="Schedule publishes during the run."
)
@click.option(
    "--param", "params", multiple=True, metavar="KEY=VALUE", help="Mitigation parameter (a JSON value, else a string)."
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the result JSON here."
)
@click.option(
    "--max-flow-steps",
    type=int,
    default=_DEFAULT.max_flow_steps,
    show_default=True,
    help="Runaway bound: effects (calls, sleeps, clock reads) one flow may yield.",
)
@click.option(
    "--max-mean-flow-steps",
    type=int,
    default=_DEFAULT.max_mean_flow_steps,
    show_default=True,
    help="Runaway bound: effects per session, on average over the run.",
)
@click.option(
    "--max-flow-seconds",
    default=f"{_DEFAULT.max_flow_seconds:g}s",
    show_default=True,
    help="Runaway bound: virtual time one flow may take from its arrival (seconds or 6h, 30m...).",
)
@gate_options
def simulate_command(
    spec_file: Path | None,
    params: tuple[str, ...],
    json_path: Path | None,
    expect: tuple[str, ...],
    thresholds: tuple[str, ...],
    junit_path: Path | None,
    **spec_options: Any,
) -> None:
    """Run SESSIONS interactions in virtual time while the profile's publishes fire, then check them.

    The same arguments give byte-identical JSON. Exit code: 0 the mitigation holds, 1 it
    fails, 2 bad input or a broken run. With several mitigations (a comma list or all), each
    runs with its defaults and the comparison is printed (the JSON holds every result); the
    exit code is then 0 whenever every run completed, whatever the verdicts. With --expect or
    --threshold the exit code is the gate's: 1 when any expectation or threshold broke.

    A runaway strategy (one that never ends, or spins) stops the run with exit 2, naming the
    strategy and the session, once a flow meets --max-flow-steps or --max-flow-seconds, or
    the run --max-mean-flow-steps per session. The built-in strategies stay far below them
    (at most 37 effects and about 1 h in a flow, 10.4 per session on average).
    """
    import json

    from mockgc import simulation
    from mockgc.drivers.simulator import SimulationError
    from mockgc.summary import print_summary

    try:
        spec = _build_spec(
            spec_file, params, params_for_several=False, expect=expect, thresholds=thresholds, **spec_options
        )
        several = len(spec.mitigations()) > 1 or spec.mitigation.strip() == ALL
        document = simulation.simulate_spec(spec)
        results = document["results"] if several else [document]
        title = f"profile {spec.profile}, seed {spec.seed}, {spec.sessions} sessions, {spec.simulated_publishes()} publishes"
        code = apply_gate(results, spec.gate(), junit_path=junit_path, suite=f"mockgc simulate: {title}")
        if json_path is not None:
            json_path.write_text(json.dumps(document, sort_keys=True, indent=2) + "\n")
    except (ValueError, OSError, SimulationError) as error:
        raise HarnessError(str(error)) from None

    print_summary(console, results, title=title)
    out = console if console.is_terminal else Console(highlight=False, width=max(console.width, 170))
    say_broken(results, spec.gate(), out)
    if several:
        held = [r["mitigation"] for r in results if r["verdict"] == HOLDS]
        out.print(f"holds on {spec.profile}: {', '.join(held) or 'none of them'}")
    else:
        # Durability apart from outcome, and what a repairing strategy (async-worker) took to converge.
        result, ttc = results[0], results[0]["consistency"]["time_to_consistency_ms"]
        out.print(
            f"durable {result['durability']['durable']}/{result['sessions']['total']}, "
            f"outcome gap {result['consistency']['outcome_gap']}, repaired {result['consistency']['repaired']}, "
            + (
                "time to consistency n/a (nothing repaired)"
                if ttc["p50"] is None
                else f"time to consistency p50 {figure(ttc['p50'])} ms, max {figure(ttc['max'])} ms"
            )
        )
    sys.exit(code)


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Only the verdict.")
@gate_options
def check(
    run_dir: Path, quiet: bool, expect: tuple[str, ...], thresholds: tuple[str, ...], junit_path: Path | None
) -> None:
    """Judge any run's output offline: result.json, report.html and the verdict's exit code.

    RUN_DIR is a run's directory (history.jsonl, live.json, evidence.json): a by-hand `locust -f
    loadtests/locustfile.py --history-dir DIR --admin-key ...` run (headless, web UI or distributed;
    each test writes DIR/test-NNN, all judged), or a `mockgc run` output. Exit code as `mockgc run`:
    0 holds, 1 fails (or a broken --expect/--threshold), 2 the run cannot be judged or lost a process.
    """
    import json

    from mockgc.harness.check import check_run
    from mockgc.harness.results import worst_exit
    from mockgc.summary import print_summary

    try:
        outcomes = check_run(run_dir)
        results = [o.result for o in outcomes]
        base = outcomes[0].result.get("run", {}) if len(outcomes) == 1 else {}
        spec_gate = Gate.parse(base.get("expect") or {}, base.get("thresholds") or ())
        gate = gate_of(expect, thresholds, spec_gate)
        gated = apply_gate(results, gate, junit_path=junit_path, suite=f"mockgc check {run_dir}", console=console)
        if expect or thresholds:  # the judgement of the options given here goes into result.json too
            for outcome in outcomes:
                (outcome.directory / "result.json").write_text(json.dumps(outcome.result, indent=2, sort_keys=True))
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    if not quiet:
        print_summary(console, results)
        for outcome in outcomes:
            for problem in outcome.result["harness"]["problems"]:
                console.print(f"[red]harness problem ({outcome.directory}):[/] {problem}")
            console.print(f"result: {outcome.directory / 'result.json'}  report: {outcome.directory / 'report.html'}")
    code = worst_exit(outcomes)
    sys.exit(gated if code in (EXIT_HOLDS, EXIT_FAILS) and (expect or thresholds) else code)


@main.command()
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where compare.json and compare.md go (default ./runs/compare-<time>).",
)
def compare(a: Path, b: Path, out: Path | None) -> None:
    """Compare run B with baseline A: outcomes, latency inside and outside the windows, cost, consistency, verdicts.

    A and B are run directories or result files (result.json, simulate --json); results pair by
    mitigation and profile. Exit code: 1 when B is worse than A on data loss (B fails where A held,
    or loses a larger share of its sessions), 0 otherwise, 2 when an input cannot be read.
    """
    import json
    import time

    from rich import box
    from rich.table import Table

    from mockgc.compare import compare_paths, markdown

    try:
        comparison = compare_paths(a, b)
        out = out or Path("runs") / time.strftime("compare-%Y%m%d-%H%M%S")
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.json").write_text(json.dumps(comparison, indent=2, sort_keys=True) + "\n")
        (out / "compare.md").write_text(markdown(comparison))
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    for pair in comparison["pairs"]:
        table = Table(
            "figure", "A", "B", "change", box=box.SIMPLE_HEAD, title=f"{pair['mitigation']} on {pair['fault_profile']}"
        )
        for row in pair["rows"]:
            if row["a"] == row["b"] and row["figure"] not in ("verdict", "sessions"):
                continue  # unchanged: compare.md has every figure
            style = {"worse": "red", "better": "green"}.get(row.get("judgement", ""), "")
            change = f"[{style}]{row['change']}[/]" if style else row["change"]
            table.add_row(row["figure"], figure(row["a"]), figure(row["b"]), change)
        console.print(table)
        if pair["only_in"]:
            console.print(f"only in {pair['only_in']}: not compared")
        if pair["worse_on_loss"]:
            console.print(f"[red]worse on data loss[/] ({pair['mitigation']}): {pair['worse_on_loss']}")
    console.print(f"unchanged figures left out here; every figure: {out / 'compare.md'} (and compare.json)")
    sys.exit(EXIT_FAILS if comparison["worse"] else EXIT_HOLDS)


_WORKER = WorkerConfig()


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
@click.option(
    "--spec",
    "spec_json",
    envvar="MOCKGC_SPEC",
    help="The run's spec as JSON (a live run passes it): the async-worker strategy's parameters configure the worker.",
)
@click.option("--namespace", help=f"Key namespace shared with the flows.  [default: {_WORKER.namespace}]")
@click.option("--chunk-size", type=int, help=f"Updates per script-data request.  [default: {_WORKER.chunk_size}]")
@click.option(
    "--rate-limit",
    "rate_limit_per_minute",
    type=int,
    help=f"Requests per minute to pace at; 0 = off.  [default: {_WORKER.rate_limit_per_minute}]",
)
@click.option(
    "--settle-seconds", type=float, help=f"Wait after the last publish.  [default: {_WORKER.settle_seconds:g}]"
)
@click.option(
    "--margin-seconds", type=float, help=f"Writes this early count too.  [default: {_WORKER.margin_seconds:g}]"
)
def worker(
    target: str,
    client_id: str,
    client_secret: str,
    store_url: str,
    host: str,
    port: int,
    port_file: Path | None,
    spec_json: str | None,
    **overrides: Any,
) -> None:
    """Run the async worker: publish webhooks in, chunked PUT /api/v2/analytics/script-data out."""
    from dataclasses import replace

    from mockgc.flows.mitigations.async_worker import AsyncWorker
    from mockgc.spec import RunSpec
    from mockgc.stores import StoreError
    from mockgc.worker.main import serve_worker

    try:
        config = _WORKER
        if spec_json:
            strategy = RunSpec.from_json(spec_json, source="--spec").load_mitigation()
            if not isinstance(strategy, AsyncWorker):
                raise ValueError(f"the spec runs {strategy.label()}, not async-worker: it configures no worker")
            config = strategy.worker_config()
        config = replace(config, **{k: v for k, v in overrides.items() if v is not None}).validate()
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
    except OSError as error:
        raise HarnessError(_bind_error(error, host, port)) from None
    except (ValueError, StoreError, PermissionError) as error:
        raise HarnessError(str(error)) from None


def _json(value: Any) -> str:
    import json

    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


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
