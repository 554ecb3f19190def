"""The external repair worker's judge: which sessions it repaired, and the bounded wait after the load."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockgc.flows.mitigations.async_worker import AsyncWorker
from mockgc.platform.serve.server import ServerThread
from mockgc.spec.companion import ServiceContext
from mockgc.strategies.registry import load_mitigation
from mockgc.worker.external import TruthWatch, external_worker


def _flow(session: str, ended: float, expected: str = "PREF-1") -> dict[str, object]:
    return {"type": "flow", "key": session, "time": ended, "value": {"sessionId": session, "expected": expected}}


def _truth(**values: str | None) -> dict[str, dict[str, object]]:
    return {sid: {"variables": {} if v is None else {"preferenceCode": v}} for sid, v in values.items()}


def test_a_value_that_appeared_after_its_flow_ended_is_a_repair_at_the_time_it_was_seen() -> None:
    watch = TruthWatch()
    watch.observe(_truth(a=None, b="PREF-1"), 10.0)  # b's own write landed during its flow
    watch.observe(_truth(a=None, b="PREF-1"), 12.0)
    watch.observe(_truth(a="PREF-1", b="PREF-1", c="PREF-1"), 12.5)
    history = [_flow("a", 11.0), _flow("b", 9.5), _flow("c", 12.4)]
    # a: changed between 12.0 and 12.5, after its flow ended at 11.0: repaired, seen at 12.5.
    # b: its value was there before its flow ended. c: new since 12.0, its flow ended at 12.4: its own write.
    assert watch.repairs(history) == {"a": 12.5}


def test_a_repair_to_a_value_the_flow_did_not_mean_is_none() -> None:
    watch = TruthWatch()
    watch.observe(_truth(a=None), 10.0)
    watch.observe(_truth(a="PREF-OTHER"), 11.0)
    assert watch.repairs([_flow("a", 9.0)]) == {}


def test_observe_says_whether_anything_changed() -> None:
    watch = TruthWatch()
    assert watch.observe(_truth(a=None), 1.0) is True
    assert watch.observe(_truth(a=None), 2.0) is False
    assert watch.observe(_truth(a="x"), 3.0) is True and watch.last_change == 3.0


def test_the_external_worker_is_a_parameter_checked_at_once() -> None:
    with pytest.raises(ValueError, match="external_worker must be"):
        load_mitigation("async-worker", {"external_worker": "ftp://worker"})
    built_in = load_mitigation("async-worker")
    assert built_in.live_only() is None and "external_worker" not in built_in.describe()["params"]
    external = load_mitigation("async-worker", {"external_worker": "notifications"})
    assert "virtual time" in (external.live_only() or "") and external.describe()["params"]["external_worker"]


def test_a_wait_that_cannot_settle_in_time_is_reported_as_timed_out(tmp_path: Path, live_server: ServerThread) -> None:
    strategy = load_mitigation(
        "async-worker", {"external_worker": "notifications", "consistency_settle_s": 30, "consistency_timeout_s": 0.5}
    )
    assert isinstance(strategy, AsyncWorker)
    ctx = ServiceContext(
        target_url=live_server.url,
        admin_key="test-admin-key",
        client_id="",
        client_secret="",
        out_dir=tmp_path,
        store_url=f"sqlite:///{tmp_path / 'intents.db'}",
    )
    with external_worker(strategy, ctx) as env:
        assert env == {}  # nothing for the Locust processes: the worker is the user's
    wait = ctx.extra["worker"]["consistency_wait"]
    assert wait["timed_out"] is True and wait["settled"] is False and wait["timeout_s"] == 0.5
    assert ctx.repairs == {}
