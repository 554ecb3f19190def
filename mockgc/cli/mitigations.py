"""`mockgc mitigations`: every registered strategy with its parameters."""

from __future__ import annotations

import click

from mockgc.cli.options import (
    as_json,
    console,
)


@click.command()
def mitigations() -> None:
    """List the mitigations in the order `all` runs them: what each models, its parameters and their defaults."""
    import inspect

    from mockgc.strategies.registry import REGISTRY, parameters

    for name, entry in REGISTRY.items():
        doc = inspect.getdoc(entry.strategy) or ""
        console.print(f"[bold]{name}[/]: {doc.split(chr(10) + chr(10))[0].replace(chr(10), ' ')}")
        params = parameters(entry.strategy)
        space = {t.name: t for t in entry.strategy.space}
        if not params:
            console.print("    no parameters")
        for param, default in params.items():
            shown = "required" if default is inspect.Parameter.empty else as_json(default)
            tunable = space.get(param)
            tuned = f"   [dim]tune {tunable.describe()}: {tunable.trades}[/]" if tunable else ""
            console.print(f"    {param} = {shown}{tuned}")
    console.print("Parameters with their defaults; set one with --param NAME=VALUE (a JSON value).")
    console.print(
        "`tune RANGE` is the space `mockgc tune` searches (LO..HI, :log on a log scale); --space KEY=LO..HI[:log] changes it."
    )
    console.print(
        "Your own: --mitigation package.module:Class (a Mitigation subclass; its keyword arguments are its parameters)."
    )
