"""A wall-clock bound on one step of a flow: a strategy that loops without yielding an effect is stopped.

Virtual time cannot see such a loop (it never gives the simulator control back), and under Locust
it freezes the whole process (no greenlet runs until it yields): the load's timers, the nemesis and
the stop all wait, and the run used to end at the harness's bound with no result and no name.
"""

from __future__ import annotations

import _thread
import ctypes
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any


class StepOverrun(BaseException):
    """Raised into the flow's thread while one step runs past its bound. A BaseException, so that a
    strategy's own `except Exception` cannot swallow it (and it is raised again each check if it does)."""


@dataclass(frozen=True)
class Threads:
    """How to start a real OS thread, sleep in it and name the current one: the standard library's, or
    under gevent's monkey-patching the originals (a patched thread would be a greenlet, and could not
    run while the one it watches spins)."""

    start_new_thread: Callable[..., Any] = _thread.start_new_thread
    sleep: Callable[[float], None] = time.sleep
    get_ident: Callable[[], int] = _thread.get_ident


class StepWatch:
    """A daemon OS thread that raises StepOverrun into the thread that entered it, once a step has run
    for more than `limit` seconds. The driver marks each step: `began` is its perf_counter() start, 0
    between steps. Python checks for the exception between bytecodes, so a busy loop is stopped within
    a check interval; a flow blocked inside C (a real sleep) is not interrupted until it returns."""

    def __init__(self, limit: float, threads: Threads | None = None) -> None:
        self.limit = limit
        self.began = 0.0
        self.threads = threads or Threads()
        self._target = 0
        self._running = False

    def __enter__(self) -> StepWatch:
        self._target = self.threads.get_ident()
        self._running = True
        self.threads.start_new_thread(self._watch, ())
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._running = False  # the thread ends within one check interval

    def _watch(self) -> None:
        interval = min(0.5, self.limit / 4)
        while self._running:
            self.threads.sleep(interval)
            began = self.began
            if self._running and began and time.perf_counter() - began > self.limit:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._target), ctypes.py_object(StepOverrun))
