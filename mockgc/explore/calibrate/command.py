"""`mockgc calibrate TRACE|RUN_DIR --out profile.toml`: fit, print each parameter with its evidence, write the profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from mockgc.explore.calibrate.fit import Calibration, figure, fit
from mockgc.explore.calibrate.profiles import calibrated_toml
from mockgc.explore.calibrate.sources import read_trace


def calibrate(source: Path, out: Path, name: str | None, json_path: Path | None, console: Console) -> Calibration:
    """Fit the trace at `source` and write the profile to `out`; ValueError (one line) when it cannot."""
    trace = read_trace(source)
    calibration = fit(trace)
    profile_name = name or f"calibrated-{source.stem or source.name or 'trace'}"
    text = calibrated_toml(calibration, profile_name, source.name or str(source))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    if json_path is not None:
        json_path.write_text(json.dumps(calibration_json(calibration), indent=2, sort_keys=True) + "\n")
    show(console, calibration, trace_size=len(trace.calls))
    console.print(f"profile {profile_name!r} written to {out}: `mockgc simulate -m all --profile {out}`")
    return calibration


def calibration_json(calibration: Calibration) -> dict[str, Any]:
    return {
        "parameters": {
            name: {"value": e.value, "low": e.low, "high": e.high, "evidence": e.evidence}
            for name, e in calibration.parameters()
        },
        "scaling": calibration.scaling,
        "scaling_note": calibration.scaling_note,
        "notes": calibration.notes,
        "profile": calibration.profile("calibrated").to_dict()["publish"],
    }


def show(console: Console, calibration: Calibration, *, trace_size: int) -> None:
    table = Table(
        "parameter", "value", "95% interval", "evidence", box=box.SIMPLE_HEAD, title=f"fitted from {trace_size:,} calls"
    )
    for name, estimate in calibration.parameters():
        value = estimate.value if isinstance(estimate.value, str) else figure(round(float(estimate.value), 3))
        table.add_row(name, value, estimate.interval(), estimate.evidence)
    console.print(table)
    if len(calibration.scaling) > 1:
        rows = Table("business unit", "agents", "batch", "interval ms", "hold ms (median)", box=box.SIMPLE_HEAD)
        for row in calibration.scaling:
            rows.add_row(
                *(str(row[k]) for k in ("businessUnit", "agents", "batch_size", "interval_ms", "hold_median_ms"))
            )
        console.print(rows)
    console.print(f"how a publish scales with the org: {calibration.scaling_note}")
    for note in calibration.notes:
        console.print(f"note: {note}")
