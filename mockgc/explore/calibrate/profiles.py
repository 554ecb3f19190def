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


def profile_toml(profile: FaultProfile, comments: dict[str, list[str]] | None = None, header: str = "") -> str:
    """A profile as a profile file (`load_profile_file` reads it back), with comment lines above any key."""
    comments = comments or {}
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    lines += [f"name = {_value(profile.name)}", f"description = {_value(profile.description)}", "", "[publish]"]
    lock = profile.publish
    for key in lock.to_dict():
        if key == "replay":
            continue
        lines += [f"# {line}" for line in comments.get(key, [])]
        lines.append(f"{key} = {_value(getattr(lock, key))}")
    for publish in lock.replay:
        holds = ", ".join(f"[{_value(o)}, {_value(h)}, {_value(t)}]" for o, h, t in publish.holds)
        lines += ["", "[[publish.replay]]", f"holds = [{holds}]"]
    for toxic in profile.toxics:
        lines += ["", "[[toxics]]", f"name = {_value(toxic.name)}", f"type = {_value(toxic.type)}"]
        lines += [f"toxicity = {_value(toxic.toxicity)}", f"path_prefix = {_value(toxic.path_prefix)}"]
        attributes = ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in toxic.attributes.items())
        lines.append(f"attributes = {{ {attributes} }}" if attributes else "attributes = {}")
    lines += [f"# {line}" for line in comments.get("", [])]
    return "\n".join(lines) + "\n"


def calibrated_toml(calibration: Calibration, name: str, source: str) -> str:
    """The fitted profile as a profile file, each parameter with its 95% interval and evidence as a comment."""
    profile = calibration.profile(name, f"Fitted by mockgc calibrate from {source}")
    notes = {
        "batch_size": [calibration.batch_size],
        "interval_ms": [calibration.interval_ms],
        "hold_ms": [calibration.hold_median_ms, calibration.hold_sigma],
        "kind": [calibration.kind],
        "toxicity": [calibration.toxicity],
        "start_delay_ms": [calibration.start_delay_ms],
    }
    comments = {key: [f"{e.interval()} | {e.evidence}" for e in estimates] for key, estimates in notes.items()}
    if profile.publish.platform_version == "v1":
        comments["platform_version"] = [calibration.kind.evidence]
    comments[""] = [f"how a publish scales with the org: {calibration.scaling_note}"]
    comments[""] += [f"note: {note}" for note in calibration.notes]
    header = (
        f"Fitted by `mockgc calibrate` from {source}.\nEach parameter: its 95% interval and the evidence it came from."
    )
    return profile_toml(profile, comments, header)
