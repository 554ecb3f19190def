"""Services a mitigation needs beside the load (e.g. the async worker), started around a live run.

`mockgc run` looks up the chosen mitigation in SERVICE_HOOKS. A hook is a context manager
factory: entered before Locust starts with a ServiceContext, it starts what it needs and
yields extra environment variables for every Locust process; on exit it stops it all. After
the run the harness passes `ctx.repairs` and `ctx.extra` to the checker.

Register one with `SERVICE_HOOKS["name"] = hook` or the `service` decorator; a hook living in a
module that is heavy to import can be registered lazily as "package.module:function".
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockgc.harness.procs import ChildWatch

ServiceHook = Callable[["ServiceContext"], contextlib.AbstractContextManager[dict[str, str]]]


@dataclass
class ServiceContext:
    """What a hook knows about the run, and where it leaves its results."""

    target_url: str
    admin_key: str
    client_id: str
    client_secret: str
    out_dir: Path
    store_url: str | None
    seed: int
    mitigation: str = ""
    mitigation_params: dict[str, Any] = field(default_factory=dict)
    # Results: sessionId -> epoch seconds when a repair made it durable, and anything for the result JSON.
    repairs: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # A hook adds each process it starts (`ctx.watch.add(child)`): if one dies, the run stops the load
    # within a second and writes a partial report naming it.
    watch: ChildWatch = field(default_factory=ChildWatch)


# Keyed by mitigation name. Values: a hook, or "module:function" imported on first use.
SERVICE_HOOKS: dict[str, ServiceHook | str] = {
    # The decoupled-state mitigations (mockgc/worker/hooks.py): the async worker process and its
    # webhook; for the external store, a clean key namespace.
    "async-worker": "mockgc.worker.hooks:async_worker_service",
    "external-store": "mockgc.worker.hooks:external_store_service",
}


def service(name: str) -> Callable[[ServiceHook], ServiceHook]:
    """Decorator: `@service("async-worker")` over a contextmanager-decorated function."""

    def register(hook: ServiceHook) -> ServiceHook:
        SERVICE_HOOKS[name] = hook
        return hook

    return register


def hook_for(mitigation: str) -> ServiceHook | None:
    """The hook of a mitigation, importing a lazily registered one; None when it needs no service."""
    hook = SERVICE_HOOKS.get(mitigation)
    if isinstance(hook, str):
        module_name, _, attribute = hook.partition(":")
        try:
            hook = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            raise ValueError(
                f"service hook {SERVICE_HOOKS[mitigation]!r} for {mitigation} cannot load: {error}"
            ) from None
        SERVICE_HOOKS[mitigation] = hook
    return hook


@contextlib.contextmanager
def no_service(ctx: ServiceContext) -> Any:
    """The hook of every mitigation that needs nothing beside the load."""
    yield {}


def enter_service(mitigation: str, ctx: ServiceContext) -> contextlib.AbstractContextManager[dict[str, str]]:
    hook = hook_for(mitigation)
    return (hook or no_service)(ctx)
