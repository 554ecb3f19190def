"""`mockgc compare A B`: two runs side by side."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mockgc.checker.gate import figure
from mockgc.checker.result import EXIT_HOLDS
from mockgc.cli.options import (
    HarnessError,
    console,
)


@click.command()
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where compare.json and compare.md go (default ./runs/compare-<time>).",
)
@click.option(
    "--allow-unpaired",
    is_flag=True,
    help="Pass over results without a partner on the other side (else exit 2). Nothing paired at all is always 2.",
)
@click.option("--strict", is_flag=True, help="Exit 2 when a pair ran under a different load, seed or profile.")
def compare(a: Path, b: Path, out: Path | None, allow_unpaired: bool, strict: bool) -> None:
    """Compare run B with baseline A: outcomes, latency inside and outside the windows, cost, consistency, verdicts.

    A and B are run directories or result files (result.json, simulate --json). One result against
    one is compared directly, whatever its mitigation; several pair by mitigation and profile. What
    each pair ran under (users, duration, sessions, seed, agents, profile) is compared and a
    difference flagged. Exit code: 2 when nothing paired, when a result has no partner (unless
    --allow-unpaired), with --strict when the load differs, or when an input cannot be read; else 1
    when B is worse than A on data loss (B fails where A held, or loses a larger share of its
    sessions); else 0.
    """
    import json
    import time

    from rich import box
    from rich.table import Table

    from mockgc.checker.compare import compare_paths, exit_code, markdown

    try:
        comparison = compare_paths(a, b)
        out = out or Path("runs") / time.strftime("compare-%Y%m%d-%H%M%S")
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.json").write_text(json.dumps(comparison, indent=2, sort_keys=True) + "\n")
        (out / "compare.md").write_text(markdown(comparison))
    except (ValueError, OSError) as error:
        raise HarnessError(str(error)) from None
    for pair in comparison["pairs"]:
        console.print(f"A: {pair['a_is'] or 'missing'} ({comparison['a']})", markup=False)
        console.print(f"B: {pair['b_is'] or 'missing'} ({comparison['b']})", markup=False)
        table = Table(
            "figure", "A", "B", "change", box=box.SIMPLE_HEAD, title=f"{pair['mitigation']} on {pair['fault_profile']}"
        )
        for row in pair["load"]:
            if row["differs"]:
                table.add_row(f"load: {row['figure']}", figure(row["a"]), figure(row["b"]), "[yellow]differs[/]")
        for row in pair["rows"]:
            if row["a"] == row["b"] and row["figure"] not in ("verdict", "sessions"):
                continue  # unchanged: compare.md has every figure
            style = {"worse": "red", "better": "green"}.get(row.get("judgement", ""), "")
            change = f"[{style}]{row['change']}[/]" if style else row["change"]
            table.add_row(row["figure"], figure(row["a"]), figure(row["b"]), change)
        console.print(table)
        if pair["only_in"]:
            console.print(f"[yellow]only in {pair['only_in']}[/]: {pair['a_is'] or pair['b_is']}, not compared")
        if pair["load_differs"]:
            console.print(
                f"[yellow]load differs[/] ({pair['mitigation']}): {', '.join(pair['load_differs'])}; "
                "the figures are not the same experiment (--strict makes this exit 2)"
            )
        if pair["worse_on_loss"]:
            console.print(f"[red]worse on data loss[/] ({pair['mitigation']}): {pair['worse_on_loss']}")
    console.print(f"unchanged figures left out here; every figure: {out / 'compare.md'} (and compare.json)")
    code, why = exit_code(comparison, allow_unpaired=allow_unpaired, strict=strict)
    console.print(why, style="red" if code != EXIT_HOLDS else None, markup=False)
    sys.exit(code)
