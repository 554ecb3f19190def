"""`mockgc check RUN_DIR`: judge any run's output offline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mockgc.checker.gate import Gate
from mockgc.checker.result import EXIT_FAILS, EXIT_HOLDS
from mockgc.cli.options import (
    HarnessError,
    apply_gate,
    console,
    gate_of,
    gate_options,
)


@click.command()
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

    from mockgc.checker.summary import print_summary
    from mockgc.report.check import check_run
    from mockgc.report.judge import worst_exit
    from mockgc.report.untrusted import write_fresh

    try:
        outcomes = check_run(run_dir)
        results = [o.result for o in outcomes]
        base = outcomes[0].result.get("run", {}) if len(outcomes) == 1 else {}
        spec_gate = Gate.parse(base.get("expect") or {}, base.get("thresholds") or ())
        gate = gate_of(expect, thresholds, spec_gate)
        gated = apply_gate(results, gate, junit_path=junit_path, suite=f"mockgc check {run_dir}", console=console)
        if gate:  # the judgement (with the options given here) goes into result.json as the console says it
            for outcome in outcomes:
                write_fresh(outcome.directory / "result.json", json.dumps(outcome.result, indent=2, sort_keys=True))
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    if quiet:  # only the verdict: one word, or one line per test when the directory held several
        for outcome in outcomes:
            label = f"{outcome.directory}: " if len(outcomes) > 1 else ""
            console.print(f"{label}{outcome.result['verdict']}", markup=False)
    else:
        print_summary(console, results)
        for outcome in outcomes:
            for problem in outcome.result["harness"]["problems"]:
                console.print(f"[red]harness problem ({outcome.directory}):[/] {problem}")
            console.print(f"result: {outcome.directory / 'result.json'}  report: {outcome.directory / 'report.html'}")
    code = worst_exit(outcomes)
    sys.exit(gated if code in (EXIT_HOLDS, EXIT_FAILS) and (expect or thresholds) else code)
