"""The mitigation strategies, each a Mitigation subclass; mockgc/strategies/registry.py names them and says what each needs."""

from mockgc.flows.mitigations.async_worker import AsyncWorker
from mockgc.flows.mitigations.backoff_verify import BackoffVerify
from mockgc.flows.mitigations.base import Mitigation, NoMitigation
from mockgc.flows.mitigations.data_action import DataActionService
from mockgc.flows.mitigations.external_store import ExternalStore
from mockgc.flows.mitigations.retry import Retry
from mockgc.flows.mitigations.soft_hold import SoftHold
from mockgc.flows.mitigations.window_guard import WindowGuard

__all__ = [
    "AsyncWorker",
    "BackoffVerify",
    "DataActionService",
    "ExternalStore",
    "Mitigation",
    "NoMitigation",
    "Retry",
    "SoftHold",
    "WindowGuard",
]
