"""Named mitigation strategies, and loading a user's own as `module:Class`."""

from __future__ import annotations

import importlib
from typing import Any

from mockgc.flows.mitigations.base import Mitigation, NoMitigation

MITIGATIONS: dict[str, type[Mitigation]] = {
    NoMitigation.name: NoMitigation,
}


def register(cls: type[Mitigation]) -> type[Mitigation]:
    MITIGATIONS[cls.name] = cls
    return cls


def load_mitigation(spec: str, **params: Any) -> Mitigation:
    """A registered name, or `package.module:ClassName` for a user's own strategy."""
    if ":" in spec:
        module_name, _, class_name = spec.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise ValueError(f"cannot load mitigation {spec!r}: {error}") from None
        if not (isinstance(cls, type) and issubclass(cls, Mitigation)):
            raise ValueError(f"{spec!r} is not a Mitigation subclass")
        return cls(**params)
    try:
        return MITIGATIONS[spec](**params)
    except KeyError:
        raise ValueError(f"unknown mitigation {spec!r}; known: {', '.join(sorted(MITIGATIONS))}") from None


# The seed's remedies and the best-practice one; imported last since they use the names above.
from mockgc.flows.mitigations.backoff_verify import BackoffVerify  # noqa: E402
from mockgc.flows.mitigations.retry import Retry  # noqa: E402
from mockgc.flows.mitigations.soft_hold import SoftHold  # noqa: E402
from mockgc.flows.mitigations.window_guard import WindowGuard  # noqa: E402

register(SoftHold)
register(Retry)
register(WindowGuard)
register(BackoffVerify)

# State outside the synchronous flow: an external store, and an async worker that repairs later.
from mockgc.flows.mitigations.async_worker import AsyncWorker  # noqa: E402
from mockgc.flows.mitigations.external_store import ExternalStore  # noqa: E402

register(ExternalStore)
register(AsyncWorker)
