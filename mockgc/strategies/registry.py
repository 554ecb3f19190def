"""The one registry of mitigations: each strategy by name, in one order, with what it needs around its flows.

`mockgc simulate`, `mockgc run`, the locustfile and `mockgc worker` all load a strategy here, and
both drivers ask here for its companion (mockgc/spec/companion.py): the simulator installs its
`simulated` components, a live run enters its `live` service. A user's own strategy
(`package.module:Class`) gets the companion of the registered class it extends, if any.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockgc.flows.mitigations import (
    AsyncWorker,
    BackoffVerify,
    DataActionService,
    ExternalStore,
    Mitigation,
    NoMitigation,
    Retry,
    SoftHold,
    WindowGuard,
)
from mockgc.spec.companion import NOTHING, Companion
from mockgc.spec.runspec import ALL
from mockgc.strategies.store_services import clean_store_namespace, data_action_read_back
from mockgc.worker.companion import live_worker, simulated_worker


@dataclass(frozen=True)
class Registered:
    strategy: type[Mitigation]
    companion: Companion = NOTHING
    in_all: bool = True  # False: only by name (it needs parameters `all` cannot give, such as a URL)


# The order `all` runs in, everywhere: the baseline, the field report's remedies, the best practice,
# then the strategies that keep state outside the synchronous flow.
REGISTRY: dict[str, Registered] = {
    entry.strategy.name: entry
    for entry in (
        Registered(NoMitigation),
        Registered(SoftHold),
        Registered(Retry),
        Registered(WindowGuard),
        Registered(BackoffVerify),
        Registered(ExternalStore, Companion(live=clean_store_namespace)),
        Registered(AsyncWorker, Companion(simulated=simulated_worker, live=live_worker)),  # type: ignore[arg-type]
        Registered(DataActionService, Companion(live=data_action_read_back), in_all=False),  # type: ignore[arg-type]
    )
}


def register(strategy: type[Mitigation], companion: Companion = NOTHING) -> type[Mitigation]:
    """Add a strategy (a user's own, say) under its name, with what it needs around its flows."""
    REGISTRY[strategy.name] = Registered(strategy, companion)
    return strategy


def names() -> list[str]:
    """Every registered strategy `all` runs, in its order (not those that need a URL of the user's)."""
    return [name for name, entry in REGISTRY.items() if entry.in_all]


def expand(mitigation: str) -> list[str]:
    """`all`, a comma list or one name (a registered one or `module:Class`), as the list of runs."""
    if mitigation.strip() == ALL:
        return names()
    chosen = [name.strip() for name in mitigation.split(",") if name.strip()]
    if not chosen:
        raise ValueError("name at least one mitigation")
    return chosen


def strategy_class(name: str) -> type[Mitigation]:
    """A registered name, or `package.module:ClassName` for a user's own strategy."""
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise ValueError(f"cannot load mitigation {name!r}: {error}") from None
        if not (isinstance(cls, type) and issubclass(cls, Mitigation)):
            raise ValueError(f"{name!r} is not a Mitigation subclass")
        return cls
    try:
        return REGISTRY[name].strategy
    except KeyError:
        raise ValueError(f"unknown mitigation {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def parameters(cls: type[Mitigation]) -> dict[str, Any]:
    """A strategy's keyword parameters and their defaults (inspect.Parameter.empty where there is none)."""
    signature = inspect.signature(cls.__init__)
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {p.name: p.default for p in list(signature.parameters.values())[1:] if p.kind in kinds}


def load_mitigation(name: str, params: Mapping[str, Any] | None = None, /, **more: Any) -> Mitigation:
    """The strategy built with its parameters, validated; a bad parameter is a ValueError naming the strategy
    and the parameters it has."""
    cls = strategy_class(name)
    given = {**(params or {}), **more}
    known = parameters(cls)
    unknown = sorted(set(given) - set(known))
    if unknown and not takes_any(cls):
        have = f"its parameters: {', '.join(known)}" if known else "it takes none"
        raise ValueError(f"{name} has no parameter {', '.join(map(repr, unknown))}; {have} (`mockgc mitigations`)")
    try:
        return cls(**given)
    except TypeError as error:  # a missing keyword parameter, or a signature inspect could not read
        raise ValueError(f"{name}: {error}") from None


def takes_any(cls: type[Mitigation]) -> bool:
    """A strategy whose __init__ takes **params and checks them itself (the base class refuses every one)."""
    if cls.__init__ is Mitigation.__init__:
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values())


def companion_of(mitigation: Mitigation) -> Companion:
    """What the strategy needs around its flows: its own class's companion, or the nearest registered base's."""
    registered = {entry.strategy: entry.companion for entry in REGISTRY.values()}
    for cls in type(mitigation).__mro__:
        if cls in registered:
            return registered[cls]
    return NOTHING
