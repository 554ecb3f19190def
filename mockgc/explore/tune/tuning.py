"""`mockgc tune` from start to end: the space, the search, the front, the held-out confirmation, the files, the exit.

Exit codes: 0 a setting held in the search and again on held-out seeds (the caller then applies the
CI gate, if any, to that confirmation's results); 1 nothing in the space held, or none of the front
held on the held-out seeds; 2 a harness error (SpaceError, TuneError); 130 interrupted, with what was
judged kept in tune.json.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mockgc.checker.gate import Gate
from mockgc.checker.result import EXIT_FAILS, EXIT_HOLDS, EXIT_INTERRUPTED, Result
from mockgc.explore.tune import outputs
from mockgc.explore.tune.evaluate import FIGURES, TunePlan, evaluate
from mockgc.explore.tune.space import Space, SpaceError, build_space
from mockgc.explore.tune.study import (
    BATCH,
    DEFAULTS,
    STARTUP_TRIALS,
    Judges,
    Search,
    Tally,
    TuneError,
    find,
    judged,
    open_study,
)
from mockgc.faults import PROFILES, FaultProfile
from mockgc.spec.simconfig import check_size

MAX_SEEDS = 100
MAX_BUDGET = 100_000
MAX_MARGIN = 4.0  # holds five times as long is a different profile, not a margin


class Display(Protocol):
    """What the search shows while it runs (the CLI's progress bar)."""

    def start(self, total: int) -> None: ...
    def update(self, tally: Tally) -> None: ...
    def stop(self) -> None: ...


class Silent:
    def start(self, total: int) -> None:
        pass

    def update(self, tally: Tally) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass(frozen=True)
class TuneRequest:
    """Everything `mockgc tune` was asked."""

    mitigation: str
    profile: str
    out: Path
    space: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    objective: str = "requests_per_session"
    seeds: int = 3
    sessions: int = 1000
    budget: int = 40
    margin: float = 0.25
    jobs: int = 1
    seed: int = 1
    storage: str | None = None
    study: str | None = None
    gate: Gate = field(default_factory=Gate)  # judged by the caller on the confirmation; its names checked here
    agents: int = 50
    publishes: int = 3

    def validate(self) -> TuneRequest:
        check_size(self.sessions, self.agents, self.publishes, self.seed)
        if self.objective not in FIGURES:
            raise SpaceError(f"unknown objective {self.objective!r}; tune minimizes one of: {', '.join(FIGURES)}")
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise SpaceError(f"seeds must be from 1 to {MAX_SEEDS}, got {self.seeds}")
        low = 0 if self.storage else 1  # a shared study can be read without adding to it
        if not low <= self.budget <= MAX_BUDGET:
            raise SpaceError(f"budget must be from {low} to {MAX_BUDGET} trials, got {self.budget}")
        if not 0 <= self.margin <= MAX_MARGIN:
            raise SpaceError(
                f"margin must be from 0 to {MAX_MARGIN:g} (0.25: holds a quarter longer), got {self.margin}"
            )
        if not 1 <= self.jobs <= 256:
            raise SpaceError(f"jobs must be from 1 to 256, got {self.jobs}")
        if self.study is not None and not self.storage:
            raise SpaceError("--study names a study in --storage: give --storage too")
        self.gate.check_names([self.mitigation])  # before the search, not after it
        return self

    def tuning_seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.seeds))

    def held_out_seeds(self) -> tuple[int, ...]:
        """Fresh seeds the search never saw: the confirmation's."""
        return tuple(range(self.seed + self.seeds, self.seed + 2 * self.seeds))


@dataclass
class TuneOutcome:
    """The tune's end: its document (tune.json), exit code, what to print, and the last held-out confirmation's
    results (the runs a CI gate judges; empty when nothing was confirmed or tried)."""

    document: dict[str, Any]
    code: int
    lines: list[str]
    confirmation: list[Result] = field(default_factory=list)


def load_profile(text: str) -> FaultProfile:
    """A profile by name (`mockgc profiles`), or a file holding one (JSON, or TOML), as FaultProfile.to_dict writes."""
    if text in PROFILES:
        return PROFILES[text]
    path = Path(text)
    if not path.is_file():
        raise SpaceError(f"unknown fault profile {text!r}: not a profile name ({', '.join(PROFILES)}) nor a file")
    try:
        raw = path.read_text()
        data = tomllib.loads(raw) if path.suffix == ".toml" else json.loads(raw)
        return FaultProfile.from_dict(data)
    except (OSError, ValueError) as error:
        raise SpaceError(f"cannot read the fault profile {path}: {error}") from None


def run_tune(request: TuneRequest, display: Display | None = None) -> TuneOutcome:
    """Search, confirm, write the files; KeyboardInterrupt keeps what was judged (exit 130)."""
    request.validate()
    display = display or Silent()
    plan = TunePlan(
        mitigation=request.mitigation,
        profile=load_profile(request.profile),
        margin=request.margin,
        seeds=request.tuning_seeds(),
        sessions=request.sessions,
        objective=request.objective,
        agents=request.agents,
        publishes=request.publishes,
    )
    space = build_space(request.mitigation, request.space, request.params)
    name = request.study or f"mockgc-tune-{request.mitigation}-{plan.profile.name}"
    study, made = open_study(plan, space, seed=request.seed, storage=request.storage, name=name)
    request.out.mkdir(parents=True, exist_ok=True)
    tally = Tally(axes=plan.axes())

    def record_seen(record: dict[str, Any]) -> None:
        tally.count(record)
        display.update(tally)

    defaults: dict[str, Any] | None = None
    interrupted = False
    with Judges(request.jobs) as judges:
        shared = request.storage is not None
        search = Search(study, plan, space, judges, on_record=record_seen, shared=shared, lead=made)

        def save() -> None:  # after every batch: what is judged so far, in case the tune is cut short
            partial = _document(request, plan, space, study, find(study, space.default_setting()), interrupted=True)
            outputs.write_json(request.out / "tune.json", partial)

        search.on_batch = save
        display.start(request.budget)
        try:
            defaults = search.run(request.budget)
        except KeyboardInterrupt:
            interrupted = True
            defaults = find(study, space.default_setting())
        finally:
            display.stop()
    document = _document(request, plan, space, study, defaults, interrupted=interrupted)
    if interrupted:
        return _finish(request, document, EXIT_INTERRUPTED, [_interrupted_line(document)])
    try:
        return _confirm(request, plan, document)
    except KeyboardInterrupt:
        document["interrupted"] = True
        return _finish(request, document, EXIT_INTERRUPTED, [_interrupted_line(document)])


def _interrupted_line(document: Mapping[str, Any]) -> str:
    return (
        f"interrupted: {len(document['trials'])} trials judged are kept in tune.json "
        "(no held-out confirmation was made)"
    )


def _document(
    request: TuneRequest,
    plan: TunePlan,
    space: Space,
    study: Any,
    defaults: dict[str, Any] | None,
    *,
    interrupted: bool,
) -> dict[str, Any]:
    shared = request.storage is not None
    trials = [
        outputs.trial_entry(t.number, t.user_attrs["record"], t.user_attrs.get("by") if shared else None)
        for t in judged(study)
    ]
    on_front = outputs.front(trials, plan.axes())
    return outputs.plan_dict(plan) | {
        "tool": "mockgc tune",
        "profile_arg": request.profile,
        "held_out_seeds": list(request.held_out_seeds()),
        "budget": request.budget,
        "search": {
            "sampler": "optuna TPESampler (multi-objective, constrained by failing sessions)",
            "seed": request.seed,
            "batch": BATCH,
            "startup_trials": STARTUP_TRIALS,
            "study": study.study_name if shared else None,
        },
        "space": space.as_dict(),
        "defaults": defaults,
        "trials": trials,
        "front": [c["number"] for c in on_front],
        "defaults_on_front": outputs.on_front(defaults, trials, plan.axes()),
        "held": sum(1 for t in trials if t.get("holds") and "same_as" not in t),
        "interrupted": interrupted,
    }


def _candidate(document: Mapping[str, Any], number: int) -> dict[str, Any]:
    return next(t for t in document["trials"] if t["number"] == number)


def _confirm(request: TuneRequest, plan: TunePlan, document: dict[str, Any]) -> TuneOutcome:
    """The front, cheapest first, rerun on the held-out seeds until one holds there."""
    axes = plan.axes()
    if not document["front"]:
        return _nothing_held(request, document)
    confirmations: list[dict[str, Any]] = []
    document["confirmations"] = confirmations
    results: list[Result] = []
    for number in document["front"]:
        candidate = _candidate(document, number)
        results = []
        record = evaluate(plan, candidate["setting"], seeds=request.held_out_seeds(), keep=results)
        confirmations.append({"number": number, **record})
        if record["holds"]:
            break
    lines: list[str] = []
    for confirmation in confirmations:
        if not confirmation["holds"]:
            failed = "; ".join(
                r["loss"] + f" (seed {r['seed']} on {r['profile']})"
                for r in confirmation["runs"]
                if r["verdict"] != "holds"
            )
            lines.append(
                f"[red]failed on the held-out seeds[/]: {_name(confirmation['number'])} "
                f"({outputs.describe_setting(confirmation['setting'])}): {failed}; trying the next on the front"
            )
    confirmed = confirmations[-1]
    if not confirmed["holds"]:
        document["chosen"] = None
        lines.append(
            f"[red]nothing confirmed[/]: each of the {len(confirmations)} settings on the front lost sessions on the "
            f"held-out {outputs.seeds_text(request.held_out_seeds())}; more --seeds or --sessions make the search stricter"
        )
        return _finish(request, document, EXIT_FAILS, lines, results)
    chosen = _candidate(document, confirmed["number"])
    document["chosen"] = {"number": chosen["number"], "setting": chosen["setting"], "figures": chosen["figures"]}
    figures = chosen["figures"]
    lines.append(
        f"[bold]chosen[/] ({_name(chosen['number'])}): {outputs.describe_setting(chosen['setting'])}: "
        f"{axes[0]} {figures[axes[0]]:g}, {axes[1]} {figures[axes[1]]:g}"
    )
    held_on = outputs.where_judged(document)
    lines.append(
        f"held on {held_on}; confirmed on the held-out {outputs.seeds_text(request.held_out_seeds())}: "
        f"no session lost in {len(confirmed['runs'])} runs of {plan.sessions} sessions"
    )
    lines.extend(_against_defaults(document, chosen, axes))
    (request.out / "tuned.toml").write_text(outputs.spec_toml(document, chosen))
    commands = outputs.commands(request.out)
    lines.append(f"confirm it: {commands['simulate']}")
    lines.append(f"      live: {commands['run']}")
    return _finish(request, document, EXIT_HOLDS, lines, results)


def _name(number: Any) -> str:
    return "the defaults" if number == DEFAULTS else f"trial {number}"


def _is_defaults(document: Mapping[str, Any], number: Any) -> bool:
    return document["defaults"] is not None and document["defaults"]["number"] == number


def _against_defaults(document: Mapping[str, Any], chosen: Mapping[str, Any], axes: tuple[str, str]) -> list[str]:
    defaults = document["defaults"]
    if _is_defaults(document, chosen["number"]):
        return ["the defaults are already on the front, and nothing cheaper held there: they are the choice"]
    if not defaults or not defaults.get("holds"):
        why = defaults.get("invalid") or defaults.get("error") or f"{defaults.get('failing', '?')} failing sessions"
        return [f"the defaults ({outputs.describe_setting(defaults['setting'])}) do not hold here: {why}"]
    cost, base = chosen["figures"][axes[0]], defaults["figures"][axes[0]]
    wait, base_wait = chosen["figures"][axes[1]], defaults["figures"][axes[1]]
    change = f"{(cost - base) / base:+.0%}" if base else "n/a"
    lines = [f"against the defaults: {axes[0]} {cost:g} vs {base:g} ({change}), {axes[1]} {wait:g} vs {base_wait:g}"]
    if document["defaults_on_front"]:
        lines.append("the defaults are on the front too: nothing that costs less waits less than they do")
    return lines


def _nothing_held(request: TuneRequest, document: dict[str, Any]) -> TuneOutcome:
    """Exit 1: the closest setting of the space (fewest failing sessions) and what broke it."""
    trials = document["trials"]
    ran = [t for t in trials if "runs" in t]
    if not ran:
        errors = [t.get("error") or t.get("invalid") for t in trials]
        raise TuneError(f"no setting could be judged: {next((e for e in errors if e), 'no trial ran')}")
    near = outputs.closest(ran, document["axes"])
    assert near is not None
    broke = outputs.what_broke(document, near)
    document["chosen"] = None
    document["closest"] = {
        "number": near["number"],
        "setting": near["setting"],
        "failing": near["failing"],
        "why": broke,
    }
    where = outputs.where_judged(document)
    lines = [
        f"[red]nothing held[/]: none of the {len(ran)} settings judged held on {where}",
        f"closest ({_name(near['number'])}, {near['failing']} failing sessions): {outputs.describe_setting(near['setting'])}",
        *(f"  {line}" for line in broke),
    ]
    defaults = document["defaults"]
    if defaults and defaults["number"] == DEFAULTS and defaults.get("holds"):
        lines.append(f"the defaults hold, outside this space: {outputs.describe_setting(defaults['setting'])}")
    return _finish(request, document, EXIT_FAILS, lines)


def _finish(
    request: TuneRequest,
    document: dict[str, Any],
    code: int,
    lines: list[str],
    confirmation: list[Result] | None = None,
) -> TuneOutcome:
    from mockgc.report.html import pareto_png, write_tune_report

    out = request.out
    outputs.write_json(out / "tune.json", document)
    chart = pareto_png(document)
    (out / "pareto.png").write_bytes(chart)
    write_tune_report(out / "report.html", document, chart, outputs.commands(out) if document.get("chosen") else None)
    lines.append(f"tune.json, pareto.png, report.html{', tuned.toml' if document.get('chosen') else ''} in {out}")
    return TuneOutcome(document, code, lines, confirmation or [])
