"""The live status a Locust master builds (mockgc/report/status.py): publishes as they fire, the sessions by the
checker's classes (provisional), the lost sessions with the publish that held them, the verdict so far."""

from __future__ import annotations

from pathlib import Path

from mockgc.report.status import (
    Load,
    Nemesis,
    Sessions,
    live_status,
    publish_at,
    publishes,
    read_status,
    verdict_so_far,
    write_status,
)

T0 = 1_000.0


def test_each_publish_is_scheduled_then_in_its_window_then_ended_or_failed() -> None:
    nemesis = Nemesis(
        scheduled=[2.0, 10.0, 20.0],
        records=[
            {"index": 0, "offset": 2.0, "invokedAt": T0 + 2.1, "operationId": "op-1"},
            {"index": 1, "offset": 10.0, "error": "PublishError: POST answered 500"},
        ],
        window_s=6.5,
    )
    at_5 = publishes(nemesis, T0 + 5, T0)
    assert [p["state"] for p in at_5] == ["in window", "failed", "scheduled"]
    assert at_5[0] == {
        "number": 1,
        "scheduled_s": 2.0,
        "state": "in window",
        "started_s": 2.1,
        "ends_s": 8.6,
        "operation": "op-1",
    }
    assert at_5[1]["error"] == "PublishError: POST answered 500"
    assert publishes(nemesis, T0 + 8.6, T0)[0]["state"] == "ended"
    assert publish_at(3.0, at_5) == 1 and publish_at(8.7, at_5) is None and publish_at(None, at_5) is None


def test_the_status_counts_by_class_provisionally_and_says_the_verdict_so_far() -> None:
    load = Load(state="running", users=50, requests_per_s=412.34, started=T0, now=T0 + 12, duration_s=30.0)
    nemesis = Nemesis([2.0], [{"index": 0, "invokedAt": T0 + 2.0, "operationId": "op"}], 6.5)
    lost = [{"key": f"k{i}", "class": "lost", "time_s": 2.0 + i, "agent": "Ann Lee"} for i in range(60)]
    sessions = Sessions(by_class={"ok": 300, "lost": 60}, in_flight=7, lost=lost)
    status = live_status(load, nemesis, sessions)
    assert status["elapsed_s"] == 12.0 and status["users"] == 50 and status["requests_per_s"] == 412.3
    assert status["sessions"] == {
        "total": 360,
        "by_class": {"ok": 300, "lost": 60, "ack_lost": 0, "corrupted": 0, "unverified": 0, "indeterminate": 0},
        "bad": 60,
        "bad_pct": 16.7,
        "provisional": True,
        "in_flight": 7,
    }
    assert status["verdict_so_far"].startswith("fails (provisional")
    assert status["publishes_fired"] == 1 and status["judged"] is None
    # The latest 50 lost sessions, each with the publish whose window held it (2.0 to 8.5 s), else none.
    assert len(status["lost_so_far"]) == 50 and status["lost_so_far"][0]["key"] == "k10"
    assert [e["publish"] for e in status["lost_so_far"][:2]] == [None, None]
    early = live_status(load, nemesis, Sessions({"lost": 1}, lost=[{"key": "a", "time_s": 3.0}]))
    assert early["lost_so_far"][0]["publish"] == 1
    judged = live_status(load, nemesis, sessions, {"verdict": "fails", "finding": "60 of 360 ..."})
    assert judged["verdict_so_far"] == "fails" and judged["sessions"]["provisional"] is False


def test_the_verdict_so_far_never_says_holds() -> None:
    assert verdict_so_far({}) == "no session has ended yet"
    assert verdict_so_far({"ok": 10}).startswith("no session lost so far (provisional")
    assert verdict_so_far({"ok": 10, "ack_lost": 1}).startswith("fails")
    assert verdict_so_far({"ok": 10, "indeterminate": 3}).startswith("no session lost so far")


def test_status_json_round_trips_and_a_missing_or_foreign_file_reads_as_nothing(tmp_path: Path) -> None:
    assert read_status(tmp_path) == {}
    write_status(tmp_path, {"state": "running"})
    assert read_status(tmp_path) == {"state": "running"}
    (tmp_path / "status.json").write_text("[1, 2]")
    assert read_status(tmp_path) == {}
