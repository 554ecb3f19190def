"""`mockgc compare A B`: two runs side by side."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mockgc.checker.gate import figure
from mockgc.checker.result import EXIT_FAILS, EXIT_HOLDS
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

    from mockgc.checker.compare import compare_paths, markdown

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
