"""The options commands share: the run spec built from --spec and the flags, the CI gate's options, the console.

The gate (--expect, --threshold, --junit), and the one function applying it:

`run` and `simulate` fold --expect/--threshold into the run spec (so config.json keeps them); a
command that judges results it did not run (`check`) builds the gate from the options with
`gate_of`. Both then call `apply_gate` on their results:

    @main.command()
    @gate_options
    def check(..., expect, thresholds, junit_path): ...
        code = apply_gate(results, gate_of(expect, thresholds), junit_path=junit_path, suite="mockgc check", console=console)
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource
from rich.console import Console

from mockgc.checker.gate import METRICS, Gate, gate_exit, problems
from mockgc.checker.junit import junit_xml
from mockgc.checker.result import EXIT_HARNESS, Result
from mockgc.spec.runspec import RunSpec, read_spec_file
from mockgc.strategies.registry import expand

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
            result["gate"] = gate.judge(result, alone=len(results) == 1)
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


console = Console(highlight=False, soft_wrap=True)


def in_ci() -> bool:
    """CI=true (GitHub Actions, GitLab, Jenkins' convention, and .ci/run): progress as lines even on a terminal."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


class HarnessError(click.ClickException):
    """A failure of the harness itself: one readable line, exit code 2."""

    exit_code = EXIT_HARNESS


def bind_error(error: OSError, host: str, port: int) -> str:
    """A busy port named, with the way out; any other bind failure as it is."""
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (another mockgc?): choose another --port, or --port 0 for a free one"
    return str(error)


def spec_option(command: Any) -> Any:
    return click.option(
        "--spec",
        "spec_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A run spec: TOML, or a run's config.json. The options given here override it.",
    )(command)


def build_spec(
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
        given["params"] = {**in_file, **dict(parse_param(item) for item in params)}
    merged = data | given
    several = expand(str(merged.get("mitigation", DEFAULTS.mitigation)))
    if not params_for_several and merged.get("params") and len(several) > 1:
        raise ValueError("--param applies to one mitigation, not to all")
    return RunSpec.from_dict(merged, source=str(spec_file) if spec_file else "the options")


DEFAULTS = RunSpec()


def as_json(value: Any) -> str:
    import json

    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def parse_param(item: str) -> tuple[str, Any]:
    import json

    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ValueError(f"--param takes KEY=VALUE, got {item!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw
