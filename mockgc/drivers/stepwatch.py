"""A wall-clock bound on one step of a simulated flow: a strategy that loops without yielding an effect
is stopped (virtual time cannot see it: it never gives the simulator control back)."""

from __future__ import annotations

import ctypes
import threading
import time
from types import TracebackType


class StepOverrun(BaseException):
    """Raised into the simulating thread while one step runs past its bound. A BaseException, so that a
    strategy's own `except Exception` cannot swallow it (and it is raised again each check if it does)."""


class StepWatch:
    """A daemon thread that raises StepOverrun into the thread that made it once a step has run for more
    than `limit` seconds. The simulator marks each step: `began` is its perf_counter() start, 0 between
    steps. Python checks for the exception between bytecodes, so a busy loop is stopped within a check
    interval; a flow blocked inside C (a real sleep) is not interrupted until it returns."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.began = 0.0
        self._target = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="mockgc-step-watch", daemon=True)

    def __enter__(self) -> StepWatch:
        self._target = threading.get_ident()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stopped.set()
        self._thread.join()

    def _watch(self) -> None:
        interval = min(1.0, self.limit / 4)
        while not self._stopped.wait(interval):
            began = self.began
            if began and time.perf_counter() - began > self.limit:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._target), ctypes.py_object(StepOverrun))
