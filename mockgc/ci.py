"""The options that make a command a CI gate (--expect, --threshold, --junit), and the one function applying them.

`run` and `simulate` fold --expect/--threshold into the run spec (so config.json keeps them); a
command that judges results it did not run (`check`) builds the gate from the options with
`gate_of`. Both then call `apply_gate` on their results:

    @main.command()
    @gate_options
    def check(..., expect, thresholds, junit_path): ...
        code = apply_gate(results, gate_of(expect, thresholds), junit_path=junit_path, suite="mockgc check", console=console)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from mockgc.gate import METRICS, Gate, gate_exit, problems
from mockgc.junit import junit_xml
from mockgc.result import Result

F = TypeVar("F", bound=Callable[..., Any])


def gate_options(command: F) -> F:
    """--expect NAME=holds|fails (repeatable), --threshold EXPR (repeatable) and --junit FILE."""
    command = click.option(
        "--junit",
        "junit_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write JUnit XML here: a testcase per mitigation and profile, failed by a broken expectation or threshold.",
    )(command)
    command = click.option(
        "--threshold",
        "thresholds",
        multiple=True,
        metavar="[NAME:]METRIC<OP>N",
        help="k6-style bound on each result, e.g. 'lost<=0', 'p99_inside_ms<800', 'requests_per_session<=6'; "
        f"NAME: limits it to one mitigation. Metrics: {', '.join(METRICS)}.",
    )(command)
    command = click.option(
        "--expect",
        "expect",
        multiple=True,
        metavar="NAME=holds|fails",
        help="The verdict a mitigation must reach (repeatable): a matrix with expectations is a regression gate.",
    )(command)
    return command


def gate_of(expect: Sequence[str] = (), thresholds: Sequence[str] = (), base: Gate | None = None) -> Gate:
    """The gate from the options, over a base one (a spec file's): expectations merge by name, thresholds given replace."""
    given = Gate.parse(expect, thresholds)
    base = base or Gate()
    return Gate({**base.expect, **given.expect}, given.thresholds or base.thresholds)


def apply_gate(
    results: Sequence[Result],
    gate: Gate,
    *,
    junit_path: Path | None = None,
    suite: str = "mockgc",
    console: Any = None,
) -> int:
    """Judge every result against the gate, write the JUnit file, say what broke (with a console); the gate's
    exit code, 0 or 1.

    Each result gets its judgement under "gate" when the gate has anything in it. Raises ValueError when
    the gate names a mitigation none of the results is (a typo must not pass). A harness failure (exit 2)
    is the caller's to put above this code.
    """
    gate.check_names([r["mitigation"] for r in results])
    if gate:
        for result in results:
            result["gate"] = gate.judge(result)
    if junit_path is not None:
        try:
            junit_path.write_text(junit_xml(suite, results, gate))
        except OSError as error:
            raise ValueError(f"cannot write the JUnit file {junit_path}: {error}") from None
    if console is not None:
        say_broken(results, gate, console)
    return gate_exit(results, gate)


def say_broken(results: Sequence[Result], gate: Gate, console: Any) -> None:
    """One line per broken expectation or threshold, naming the mitigation and the profile (nothing without a gate)."""
    if not gate:
        return
    alone = len(results) == 1
    for result in results:
        for problem in problems(result, gate, alone=alone):
            console.print(f"[red]gate broken[/] ({result['mitigation']} on {result['fault_profile']}): {problem}")
