"""The search: Optuna's seeded multi-objective sampler asks settings in fixed batches, worker processes judge them.

Determinism: the sampler is seeded, asks BATCH settings at a time, and is told their results in
the order it asked, whichever worker finished first; so the same arguments give the same trials
whatever `--jobs` is. With `--storage` (Optuna's RDB storage) several processes share one study:
each asks from, and tells, the shared storage, with a sampler seeded apart so they search apart.
A setting already judged in the study is not simulated again: its record is copied (`same_as`).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import socket
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockgc.explore.tune.evaluate import TunePlan, evaluate
from mockgc.explore.tune.space import Space

BATCH = 8  # settings asked at once: fixed, so the trials do not depend on how many workers judge them
STARTUP_TRIALS = 10  # random settings before the sampler models what holds
DEFAULTS = "defaults"  # the number of the defaults' judgement when it is not a trial's
_APART = -1  # its index in a batch


class TuneError(RuntimeError):
    """The tune itself cannot go on (its storage, a study made for another plan): exit 2."""


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def _key(setting: Mapping[str, Any]) -> str:
    return json.dumps(setting, sort_keys=True)


# -- the workers --------------------------------------------------------------------------------


def _quiet_worker() -> None:
    # Ctrl-C reaches the whole process group; the parent alone decides what is kept, then ends the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _judge(job: tuple[int, TunePlan, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    index, plan, setting = job
    return index, evaluate(plan, setting)


class Judges:
    """Judges settings in `jobs` worker processes (forked, so a user's `module:Class` is already imported), or in
    this process when jobs is 1."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: Any = None
        if jobs > 1:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            self._pool = multiprocessing.get_context(method).Pool(jobs, initializer=_quiet_worker)

    def judge(self, plan: TunePlan, settings: Mapping[int, dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """(index, record) for each setting, as each is judged."""
        jobs = [(index, plan, setting) for index, setting in settings.items()]
        if self._pool is None:
            yield from map(_judge, jobs)
        else:
            yield from self._pool.imap_unordered(_judge, jobs)

    def __enter__(self) -> Judges:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()  # at the end, or on Ctrl-C: a running judgement is not waited for
            self._pool.join()


# -- the study ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the progress bar shows: trials judged, settings that held, the cheapest that held."""

    done: int = 0
    held: int = 0
    best: dict[str, Any] | None = None
    axes: tuple[str, str] = ("requests_per_session", "flow_p95_ms")

    def count(self, record: dict[str, Any]) -> None:
        self.done += 1
        if record.get("holds"):
            self.held += 1
            cost = record["figures"][self.axes[0]]
            if self.best is None or cost < self.best["figures"][self.axes[0]]:
                self.best = record


def plan_fingerprint(plan: TunePlan, space: Space) -> dict[str, Any]:
    """What a study is about: a process joining a study must tune the same thing on the same runs."""
    return {
        "mitigation": plan.mitigation,
        "profile": plan.profile.to_dict(),
        "margin": plan.margin,
        "seeds": list(plan.seeds),
        "sessions": plan.sessions,
        "objective": plan.objective,
        "agents": plan.agents,
        "publishes": plan.publishes,
        "space": space.as_dict(),
    }


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def open_study(plan: TunePlan, space: Space, *, seed: int, storage: str | None, name: str) -> tuple[Any, bool]:
    """The study, in memory or created in (or joined from) the RDB storage at `storage`; and whether this process
    made it (the maker alone puts the defaults first, so processes starting together do not judge them twice)."""
    optuna = _optuna()
    shared = storage is not None
    # Processes sharing a study search apart: each one's sampler gets a seed of its own.
    sampler_seed = random.Random(f"{seed}:{os.getpid()}:{time.time_ns()}").getrandbits(32) if shared else seed
    # Univariate TPE: on backoff-verify over long-hold it found settings 4-10% cheaper than the defaults in 40
    # trials, where the multivariate one found 2-3% and NSGA-II anything from 0 to 5% (seeds 1 and 2 of each).
    # The constant liar spreads a batch's settings apart.
    sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=STARTUP_TRIALS, constant_liar=True)
    directions = ["minimize", "minimize"]
    if not shared:
        return optuna.create_study(directions=directions, sampler=sampler, study_name=name), True
    import tenacity
    from sqlalchemy.exc import SQLAlchemyError

    # Two processes starting together may both create the storage's tables: the loser tries again.
    opening = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(SQLAlchemyError),
        stop=tenacity.stop_after_attempt(4),
        wait=tenacity.wait_random(0.1, 0.5),
        reraise=True,
    )

    def make_or_join() -> tuple[Any, bool]:
        rdb = optuna.storages.RDBStorage(storage, engine_kwargs={"pool_pre_ping": True})
        try:  # the storage's unique study name decides which process made it
            return optuna.create_study(storage=rdb, directions=directions, sampler=sampler, study_name=name), True
        except optuna.exceptions.DuplicatedStudyError:
            return optuna.load_study(study_name=name, storage=rdb, sampler=sampler), False

    try:
        study, made = opening(make_or_join)
    except (SQLAlchemyError, ImportError, ValueError) as error:
        raise TuneError(f"cannot open the study storage: {_first_line(error)}") from None
    if [d.name for d in study.directions] != ["MINIMIZE", "MINIMIZE"]:
        raise TuneError(f"study {name!r} in the storage was not made by mockgc tune")
    wanted = plan_fingerprint(plan, space)
    found = study.user_attrs.get("plan")
    if found is None:
        study.set_user_attr("plan", wanted)
    elif found != wanted:
        differ = sorted(k for k in wanted if wanted[k] != found.get(k))
        raise TuneError(
            f"study {name!r} in the storage tunes {found.get('mitigation')} on {found.get('profile', {}).get('name')} "
            f"with other {', '.join(differ)}: give this run its own --study"
        )
    return study, made


def judged(study: Any) -> list[Any]:
    """The study's trials that carry a judgement, in order."""
    return [t for t in study.get_trials(deepcopy=False) if "record" in t.user_attrs]


def find(study: Any, setting: Mapping[str, Any]) -> dict[str, Any] | None:
    """The study's judgement of this setting (its first), with its trial number; None when it has none."""
    key = _key(setting)
    for trial in judged(study):
        record = trial.user_attrs["record"]
        if "same_as" not in record and _key(record["setting"]) == key:
            return {"number": trial.number, **record}
    return None


@dataclass
class Search:
    """Runs `budget` trials of `study` in batches; `on_record` sees each judgement as it lands, `on_batch` each
    batch once told (to save what is done). A KeyboardInterrupt tells what finished, then propagates.

    The strategy's defaults go first when they lie in the space (the sampler then knows a setting from the
    start, and the front shows where they stand); otherwise they are judged apart once the trials are done.
    """

    study: Any
    plan: TunePlan
    space: Space
    judges: Judges
    on_record: Callable[[dict[str, Any]], None] = lambda record: None
    on_batch: Callable[[], None] = lambda: None
    shared: bool = False
    lead: bool = True  # this process made the study: it puts the defaults first
    _known: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def run(self, budget: int) -> dict[str, Any]:
        """The trials, then the defaults' judgement (`number` is "defaults" when it is not a trial's)."""
        default = self.space.default_setting()
        if budget and self.lead and self.space.contains(default):
            self.study.enqueue_trial({t.name: default[t.name] for t in self.space.tunables}, skip_if_exists=True)
        left = budget
        while left > 0:
            self._batch(min(BATCH, left))
            left -= min(BATCH, left)
        found = find(self.study, default)
        if found is not None:
            return found
        _, record = next(iter(self.judges.judge(self.plan, {_APART: default})))
        return {"number": DEFAULTS, **record}

    def _batch(self, size: int) -> None:
        optuna = _optuna()
        trials = [self.study.ask() for _ in range(size)]
        self._remember()
        settings, copies, runs = {}, {}, {}
        for index, trial in enumerate(trials):
            setting = self.space.suggest(trial)
            settings[index] = setting
            known = self._known.get(_key(setting))
            if known is not None:
                copies[index] = known
            else:
                runs.setdefault(_key(setting), index)
        records: dict[int, dict[str, Any]] = {}
        try:
            for index, record in self.judges.judge(self.plan, {i: settings[i] for i in runs.values()}):
                records[index] = record
                self.on_record(record)
        finally:
            self._tell(optuna, trials, settings, records, copies, runs)
            self.on_batch()

    def _remember(self) -> None:
        """The settings already judged in the study (others' too, when it is shared)."""
        for trial in judged(self.study):
            record = trial.user_attrs["record"]
            if "same_as" not in record:
                self._known.setdefault(_key(record["setting"]), (trial.number, record))

    def _tell(
        self,
        optuna: Any,
        trials: list[Any],
        settings: dict[int, dict[str, Any]],
        records: dict[int, dict[str, Any]],
        copies: dict[int, tuple[int, dict[str, Any]]],
        runs: dict[str, int],
    ) -> None:
        """Every trial of the batch told, in the order asked: judged, copied from its twin, or cut off."""
        for index, trial in enumerate(trials):
            twin = runs.get(_key(settings[index]))
            if index in copies:  # judged before, in this study
                number, original = copies[index]
                record: dict[str, Any] | None = original | {"same_as": number}
            elif twin is not None and twin != index:  # asked twice in this batch: judged once
                record = records.get(twin)
                record = None if record is None else record | {"same_as": trials[twin].number}
            else:
                record = records.get(index)
            if record is None:  # cut off by Ctrl-C before it was judged: not kept
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            if "same_as" in record:
                self.on_record(record)
            trial.set_user_attr("record", record)
            if self.shared:
                trial.set_user_attr("by", f"{socket.gethostname()}:{os.getpid()}")
            values = [record.get("figures", {}).get(axis) for axis in self.plan.axes()]
            if "runs" in record and None not in values:
                trial.set_constraint("failing", record["failing"])  # feasible at 0: the sampler learns what holds
                self.study.tell(trial, values)
            else:
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
