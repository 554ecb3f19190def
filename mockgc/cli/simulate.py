"""`mockgc simulate`: the spec in virtual time, deterministic for a seed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from mockgc.checker.gate import figure
from mockgc.checker.result import HOLDS
from mockgc.cli.options import (
    DEFAULTS,
    PROFILE_HELP,
    HarnessError,
    apply_gate,
    build_spec,
    console,
    flow_options,
    gate_options,
    say_broken,
    spec_option,
)
from mockgc.spec.runspec import ALL


@click.command("simulate")
@spec_option
@click.option(
    "--mitigation",
    "-m",
    default=DEFAULTS.mitigation,
    show_default=True,
    help="A registered name, package.module:Class, a comma list, or all.",
)
@click.option("--profile", "-p", default=DEFAULTS.profile, show_default=True, help=PROFILE_HELP)
@flow_options
@click.option(
    "--sessions", "-n", type=int, default=DEFAULTS.sessions, show_default=True, help="Interactions to simulate."
)
@click.option(
    "--seed", "-s", type=int, default=DEFAULTS.seed, show_default=True, help="Seed for the org, arrivals and latency."
)
@click.option(
    "--agents", type=int, default=DEFAULTS.agents, show_default=True, help="Agents the sessions are spread across."
)
@click.option(
    "--publishes", type=int, default=DEFAULTS.publishes, show_default=True, help="Schedule publishes during the run."
)
@click.option(
    "--param", "params", multiple=True, metavar="KEY=VALUE", help="Mitigation parameter (a JSON value, else a string)."
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the result JSON here; - writes it to stdout (the table then goes to stderr).",
)
@click.option(
    "--max-flow-steps",
    type=int,
    default=DEFAULTS.max_flow_steps,
    show_default=True,
    help="Runaway bound: effects (calls, sleeps, clock reads) one flow may yield.",
)
@click.option(
    "--max-mean-flow-steps",
    type=int,
    default=DEFAULTS.max_mean_flow_steps,
    show_default=True,
    help="Runaway bound: effects per session, on average over the run.",
)
@click.option(
    "--max-flow-seconds",
    default=f"{DEFAULTS.max_flow_seconds:g}s",
    show_default=True,
    help="Runaway bound: virtual time one flow may take from its arrival (seconds or 6h, 30m...).",
)
@click.option(
    "--max-step-seconds",
    default=f"{DEFAULTS.max_step_seconds:g}s",
    show_default=True,
    help="Runaway bound: wall-clock time one step of a flow may run without yielding an effect.",
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
    the run --max-mean-flow-steps per session, or one step of a flow runs --max-step-seconds of
    wall-clock time without yielding (a loop that never gives control back). The built-in strategies stay far below them
    (at most 37 effects and about 1 h in a flow, 10.4 per session on average).
    """
    import json

    from mockgc.checker.summary import print_summary
    from mockgc.drivers.simulator import SimulationError, Simulator, simulation_document
    from mockgc.strategies.plans import plans

    try:
        spec = build_spec(
            spec_file, params, params_for_several=False, expect=expect, thresholds=thresholds, **spec_options
        )
        resolved = plans(spec)
        several = len(resolved) > 1 or spec.mitigation.strip() == ALL
        document = simulation_document(spec, [Simulator(plan).run() for plan in resolved])
        results = document["results"] if several else [document]
        title = f"profile {spec.profile}, seed {spec.seed}, {spec.sessions} sessions, {spec.simulated_publishes()} publishes"
        code = apply_gate(results, spec.gate(), junit_path=junit_path, suite=f"mockgc simulate: {title}")
        text = json.dumps(document, sort_keys=True, indent=2) + "\n"
        if json_path is not None and str(json_path) != "-":
            json_path.write_text(text)
    except (ValueError, OSError, SimulationError) as error:
        raise HarnessError(str(error)) from None
    shown = console
    if json_path is not None and str(json_path) == "-":
        click.echo(text, nl=False)  # stdout holds the JSON alone, so `simulate --json - | jq` works
        shown = Console(stderr=True, highlight=False)
    print_summary(shown, results, title=title)
    out = shown if shown.is_terminal else Console(highlight=False, width=max(shown.width, 170), stderr=shown.stderr)
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
