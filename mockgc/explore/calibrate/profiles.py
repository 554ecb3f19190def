"""A profile reference as every command takes it: a built-in name, a TOML file, or `trace:FILE` (a replay).

`trace:FILE` reads the trace (a trace file, a run directory, a CSV), fits it, and replays its holds exactly:
each recorded publish's holds (their offsets from the publish's start, their lengths, whether they faulted)
mapped onto the mock's agents (mockgc/faults.py, `plan_holds`), with the fitted kind. A profile fitted by
`mockgc calibrate` is written as TOML (`profile_toml`), with each parameter's interval and evidence as
comments above it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from mockgc.explore.calibrate.fit import Calibration, fit
from mockgc.explore.calibrate.sources import read_trace
from mockgc.faults import TRACE_PREFIX, Distribution, FaultProfile, resolve_profile


def resolve(ref: str, base: Path | None = None) -> FaultProfile:
    """The profile `ref` names; a relative file is read from `base` (a spec file's directory) when given."""
    if ref.startswith(TRACE_PREFIX):
        return replay_profile(_located(ref[len(TRACE_PREFIX) :], base))
    if base is not None and ref.endswith(".toml"):
        return resolve_profile(str(_located(ref, base)))
    return resolve_profile(ref)


def _located(name: str, base: Path | None) -> Path:
    path = Path(name)
    return path if base is None or path.is_absolute() else base / path


def replay_profile(path: Path, *, seed: int = 0) -> FaultProfile:
    """The recorded holds of the trace at `path`, replayed exactly, with the fitted kind (ValueError, one line)."""
    calibration = fit(read_trace(path), seed=seed)
    lock = replace(calibration.publish_lock(), replay=calibration.replay(), start_delay_ms=0)
    lock.validate()
    return FaultProfile(
        f"replay-{path.stem or 'trace'}",
        f"The holds recorded in {path.name}, replayed exactly ({len(lock.replay)} publishes)",
        lock,
    )


def _value(value: object) -> str:
    """A TOML value: strings as JSON's (a valid TOML basic string), numbers and booleans as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 4))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Distribution):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.to_dict().items()) + " }"
    return json.dumps(str(value))


def profile_toml(calibration: Calibration, name: str, source: str) -> str:
    """The fitted profile as a profile file, each parameter with its 95% interval and evidence as a comment."""
    lock = calibration.publish_lock()
    notes = {
        "batch_size": calibration.batch_size,
        "interval_ms": calibration.interval_ms,
        "hold_ms": calibration.hold_median_ms,
        "kind": calibration.kind,
        "toxicity": calibration.toxicity,
        "start_delay_ms": calibration.start_delay_ms,
    }
    lines = [
        f"# Fitted by `mockgc calibrate` from {source}.",
        "# Each parameter: its value, the 95% interval and the evidence it came from.",
        f"name = {_value(name)}",
        f"description = {_value('Fitted by mockgc calibrate from ' + source)}",
        "",
        "[publish]",
    ]
    values = {
        "batch_size": lock.batch_size,
        "interval_ms": lock.interval_ms,
        "hold_ms": lock.hold_ms,
        "kind": lock.kind,
        "toxicity": lock.toxicity,
        "platform_version": lock.platform_version,
        "start_delay_ms": lock.start_delay_ms,
    }
    for key, value in values.items():
        estimate = notes.get(key)
        if estimate is not None:
            lines.append(f"# {estimate.interval()} | {estimate.evidence}")
        if key == "hold_ms" and isinstance(value, Distribution):
            sigma = calibration.hold_sigma
            lines.append(f"# sigma {sigma.interval()} | {sigma.evidence}")
        if key == "platform_version" and value == "v1":
            lines.append(f"# {calibration.kind.evidence}")
        lines.append(f"{key} = {_value(value)}")
    lines += ["", f"# how a publish scales with the org: {calibration.scaling_note}"]
    for note in calibration.notes:
        lines.append(f"# note: {note}")
    return "\n".join(lines) + "\n"
