"""`mockgc profiles`: the fault profiles, with what a held session suffers under each."""

from __future__ import annotations

from typing import Any

import click

from mockgc.cli.options import (
    console,
)
from mockgc.faults import PROFILES


def effective_kind(profile: Any) -> str:
    """What a held session suffers: the kind, except on v1 (writes wait) and at toxicity 0 (nothing)."""
    lock = profile.publish
    if lock.platform_version == "v1":
        return "waits (v1)"
    if lock.toxicity == 0:
        return "none (toxicity 0)"
    return str(lock.kind)


@click.command()
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
