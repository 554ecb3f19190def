"""Durable after the run, not at its last second: the user's service or store read back again later (and after
a restart), the later read judged; a service that forgets (a cache with an expiry, memory lost at a restart)
is caught, one that keeps its values holds; the read-back asks many keys at once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockgc.drivers.dataaction import read_back
from mockgc.flows.mitigations.data_action import DataActionService
from mockgc.spec.companion import ServiceContext
from mockgc.strategies.store_services import data_action_read_back, read_after_the_run

ROOT = Path(__file__).resolve().parents[2]
KEYS = 40
Snapshot = dict[str, str | None]


def context(tmp_path: Path, **changes: Any) -> ServiceContext:
    return ServiceContext("http://mock", "admin", "client", "secret", tmp_path, None, **changes)


def test_the_later_read_is_judged_and_what_went_missing_is_named(tmp_path: Path) -> None:
    """A virtual wait: the store forgets when the run's sleep passes, as a cache's expiry would."""
    held: Snapshot = {"k1": "A", "k2": "B", "k3": None}
    slept: list[float] = []

    def expire(seconds: float) -> None:
        slept.append(seconds)
        held["k2"] = None  # the cache's expiry passed

    ctx = context(tmp_path, reread_after=30.0, sleep=expire)
    snapshot, stats = read_after_the_run(ctx, lambda: (dict(held), {"read_back": len(held)}), "your service")
    assert sum(slept) == 30.0 and snapshot == {"k1": "A", "k2": None, "k3": None}
    assert stats["forgotten"] == 1 and stats["forgotten_samples"] == ["k2"]
    assert stats["first_read_back"] == {"read_back": 3} and stats["reread_after_s"] == 30.0
    # The checker judges that later snapshot: an acknowledged write gone from it is ack_lost
    # (tests/strategies/test_data_action.py pins the rule).


def test_no_reread_and_no_restart_reads_once(tmp_path: Path) -> None:
    calls: list[int] = []

    def read() -> tuple[Snapshot, dict[str, Any]]:
        calls.append(1)
        return {"k": "A"}, {}

    assert read_after_the_run(context(tmp_path, reread_after=0.0), read, "x") == ({"k": "A"}, {})
    assert len(calls) == 1


def test_a_restart_comes_between_the_reads_and_a_service_that_never_came_back_is_no_verdict(tmp_path: Path) -> None:
    order: list[str] = []
    answers = iter([({"k": "A"}, {}), ({}, {"unanswered": 1})])

    def read() -> tuple[Snapshot, dict[str, Any]]:
        order.append("read")
        return next(answers)

    ctx = context(tmp_path, reread_after=0.0, restart=lambda: order.append("restart"))
    with pytest.raises(RuntimeError, match=r"answered none of the 1 values .* and the restart: is it up"):
        read_after_the_run(ctx, read, "your service")
    assert order == ["read", "restart", "read"]


def start_service(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples/data_action_sqlite/service.py"), "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().split()[-1]


@pytest.fixture
def in_memory() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The example service keeping its values in memory only: a restart (SIGHUP) loses them."""
    process, url = start_service("--memory")
    try:
        yield process, url
    finally:
        process.terminate()
        process.wait(10)


def set_value(url: str, index: int) -> None:
    body = {"conversationId": f"conv-{index}", "participantId": "p", "sessionId": f"sess-{index}",
            "userId": "u", "variable": "preferenceCode", "value": f"PREF-{index}"}  # fmt: skip
    assert requests.post(f"{url}/set", json=body, timeout=10).status_code == 200


def writes(keys: int) -> list[dict[str, Any]]:
    """The invokes of the flows' Data Action writes (what the read-back reads the keys from)."""
    return [
        {
            "type": "invoke",
            "process": "p",
            "key": f"s{index}",
            "f": "action_set",
            "time": 0.0,
            "params": {
                "key": f"conv-{index}:sess-{index}:preferenceCode",
                "conversationId": f"conv-{index}",
                "sessionId": f"sess-{index}",
                "variable": "preferenceCode",
            },
        }
        for index in range(keys)
    ]


def test_a_service_that_loses_its_values_at_a_restart_is_caught_by_the_read_after_it(
    in_memory: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    process, url = in_memory
    for index in range(KEYS):
        set_value(url, index)
    strategy = DataActionService(set_url=f"{url}/set", get_url=f"{url}/get")
    history = writes(KEYS)
    (tmp_path / "history.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in history))
    once, _ = read_back(strategy, history)
    assert sum(value is not None for value in once.values()) == KEYS  # all there when the load ends

    def restart() -> None:
        process.send_signal(signal.SIGHUP)
        time.sleep(0.2)  # a restart command returns once the service is back; this one needs a moment

    ctx = context(tmp_path, reread_after=0.0, restart=restart)
    with data_action_read_back(strategy, ctx):
        pass
    assert ctx.store_snapshot == dict.fromkeys(once)  # none after the restart
    assert ctx.extra["data_action"]["forgotten"] == KEYS and ctx.extra["data_action"]["restarted"] is True


def test_the_example_service_forgets_on_request_and_keeps_its_file_across_a_restart(tmp_path: Path) -> None:
    """--forget-after 0: every value is older than 0 s when it is read. The SQLite file survives SIGHUP."""
    body = {"conversationId": "conv-0", "sessionId": "sess-0", "variable": "preferenceCode"}
    cache, cache_url = start_service("--memory", "--forget-after", "0")
    kept, kept_url = start_service("--db", str(tmp_path / "prefs.db"))
    try:
        for url in (cache_url, kept_url):
            set_value(url, 0)
        kept.send_signal(signal.SIGHUP)
        time.sleep(0.2)
        assert requests.post(f"{cache_url}/get", json=body, timeout=10).json() == {"value": None}
        assert requests.post(f"{kept_url}/get", json=body, timeout=10).json() == {"value": "PREF-0"}
    finally:
        for process in (cache, kept):
            process.terminate()
            process.wait(10)


def test_the_read_back_asks_many_keys_at_once(in_memory: tuple[subprocess.Popen[str], str]) -> None:
    """Concurrent: 16 in flight (one by one, 1,500 keys took 20-60 s); every key still gets its answer."""
    _, url = in_memory
    for index in range(0, 200, 2):
        set_value(url, index)
    strategy = DataActionService(set_url=f"{url}/set", get_url=f"{url}/get")
    snapshot, stats = read_back(strategy, writes(200))
    assert stats["unanswered"] == 0
    assert snapshot == {f"conv-{i}:sess-{i}:preferenceCode": f"PREF-{i}" if i % 2 == 0 else None for i in range(200)}
