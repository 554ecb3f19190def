"""The data-action strategy: its calls, the failure path a Data Action takes, the driver's HTTP call, the checker's evidence."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mockgc.checker.check import check
from mockgc.drivers.core import request_of
from mockgc.drivers.dataaction import call_action, header_values, read_back
from mockgc.flows.context import DEFAULT, PERSONALIZED, FlowContext, SessionRef
from mockgc.flows.effects import DataAction, FlowResult, Reply
from mockgc.flows.history import History
from mockgc.flows.mitigations.data_action import DATA_ACTION_TIMEOUT_S, DataActionService
from mockgc.strategies.registry import load_mitigation

CTX = FlowContext("k1", "agent-1", "bu-1", 1)
SESSION = SessionRef("sess-1", "conv-1", "part-1")
SERVICE = {"set_url": "http://127.0.0.1:9/set", "get_url": "http://127.0.0.1:9/get"}


def first_effect_and_result(gen: Any, reply: Reply) -> tuple[Any, Any]:
    effect = next(gen)
    try:
        gen.send(reply)
    except StopIteration as stop:
        return effect, stop.value
    raise AssertionError("the step made more than one call")


def test_set_data_posts_the_documented_body_and_a_2xx_acknowledges() -> None:
    strategy = DataActionService(**SERVICE, headers={"x-api-key": "$MY_KEY"})
    effect, acknowledged = first_effect_and_result(
        strategy.set_data(CTX, SESSION, "preferenceCode", "PREF-1"), Reply(204)
    )
    assert isinstance(effect, DataAction) and effect.url == SERVICE["set_url"] and effect.action == "set"
    assert effect.body == {
        "conversationId": "conv-1", "participantId": "part-1", "sessionId": "sess-1", "userId": "agent-1",
        "variable": "preferenceCode", "value": "PREF-1",
    }  # fmt: skip
    assert effect.timeout_s == DATA_ACTION_TIMEOUT_S and effect.headers == (("x-api-key", "$MY_KEY"),)
    assert acknowledged is True
    for failed in (
        Reply(500),
        Reply(404),
        Reply(0, error="timeout: no answer within 3 s"),
        Reply(0, error="no answer"),
    ):
        assert first_effect_and_result(strategy.set_data(CTX, SESSION, "preferenceCode", "PREF-1"), failed)[1] is False


@pytest.mark.parametrize(
    ("reply", "branch", "value"),
    [
        (Reply(200, {"value": "PREF-1"}), PERSONALIZED, "PREF-1"),
        (Reply(200, {"value": None}), DEFAULT, None),
        (Reply(200, {}), DEFAULT, None),
        (Reply(503, {"value": "PREF-1"}), DEFAULT, None),  # a non-2xx is the failure path, whatever it says
        (Reply(0, error="timeout: no answer within 3 s"), DEFAULT, None),  # so is a timeout
        (Reply(0, error="no answer: ConnectionError"), DEFAULT, None),  # and no answer at all
    ],
)
def test_the_branch_is_the_get_urls_answer(reply: Reply, branch: str | None, value: str | None) -> None:
    strategy = DataActionService(**SERVICE)
    effect, evaluation = first_effect_and_result(strategy.evaluate(CTX, SESSION, "preferenceCode"), reply)
    assert effect.url == SERVICE["get_url"] and effect.body == {
        "conversationId": "conv-1", "sessionId": "sess-1", "variable": "preferenceCode",
    }  # fmt: skip
    assert (evaluation.branch, evaluation.value) == (branch, value)


def test_evaluate_on_platform_keeps_the_branch_on_the_platform() -> None:
    strategy = DataActionService(set_url=SERVICE["set_url"], evaluate_on_platform=True)
    effect = next(strategy.evaluate(CTX, SESSION, "preferenceCode"))
    assert effect.op == "evaluate" and strategy.store_key(CTX, SESSION) is None
    assert DataActionService(**SERVICE).store_key(CTX, SESSION) == "conv-1:sess-1:preferenceCode"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "set_url must be an http"),
        ({"set_url": "ftp://x"}, "set_url must be an http"),
        ({"set_url": "http://x/set"}, "get_url must be an http"),
        ({**SERVICE, "timeout_s": 0}, "timeout_s must be above 0"),
        ({**SERVICE, "timeout_s": 61}, "at most 60"),
        ({**SERVICE, "headers": {"x": 1}}, "headers must be a table"),
    ],
)
def test_bad_parameters_are_one_readable_error(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_mitigation("data-action", params)


def test_the_history_names_the_call_without_its_headers() -> None:
    effect = DataAction("set", "http://s/set", {"value": "v"}, "k", 3.0, (("x-api-key", "secret"),))
    assert request_of(effect) == ("action_set", {"key": "k", "url": "http://s/set", "value": "v"})


def test_header_values_come_from_the_environment_when_they_say_so() -> None:
    headers = (("x-api-key", "$KEY"), ("x-plain", "v"), ("x-missing", "$NOPE"))
    assert header_values(headers, {"KEY": "s3cret"}) == {"x-api-key": "s3cret", "x-plain": "v", "x-missing": ""}


# -- the checker: the service's answer is the evidence ---------------------------------------------


def _history(get_value: str | None, *, acked: bool = True, claimed: str = "PREF-1") -> list[dict[str, Any]]:
    history = History()
    key = "conv-1:sess-1:preferenceCode"
    history.invoke("p", "k1", "action_set", {"key": key, "variable": "preferenceCode", "value": "PREF-1"}, 1.0)
    history.complete("p", "k1", "action_set", Reply(200 if acked else 500, {}), 1.1)
    history.invoke("p", "k1", "action_get", {"key": key, "variable": "preferenceCode"}, 1.2)
    history.complete("p", "k1", "action_get", Reply(200, {"value": get_value}), 1.3)
    branch = PERSONALIZED if claimed else DEFAULT
    history.finish("p", FlowResult("k1", "PREF-1", branch, claimed or None, "sess-1", acked, store_key=key), 1.4)
    return history.entries


def _classes(entries: list[dict[str, Any]], stored: str | None) -> dict[str, int]:
    result = check(entries, {}, [], mitigation="data-action", fault_profile="fast", seed=1,
                   store={"conv-1:sess-1:preferenceCode": stored})  # fmt: skip
    return {k: v for k, v in result["sessions"].items() if v and k != "total"}


def test_a_branch_the_service_answered_and_a_value_read_back_hold() -> None:
    assert _classes(_history("PREF-1"), "PREF-1") == {"ok": 1}


def test_a_service_that_acknowledged_but_kept_nothing_is_ack_lost() -> None:
    assert _classes(_history(None, claimed=""), None) == {"ack_lost": 1}


def test_a_personalized_claim_the_service_never_answered_is_unverified() -> None:
    assert _classes(_history(None), "PREF-1") == {"unverified": 1}


# -- the driver's real HTTP call --------------------------------------------------------------------


@pytest.fixture
def service() -> Iterator[str]:
    """A tiny service: /slow outlives any short timeout, /echo answers what it got (and the api key)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == "/slow":
                time.sleep(1.0)
            data = json.dumps({"value": body.get("variable"), "key": self.headers.get("x-api-key")}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_call_action_tells_a_timeout_from_no_answer(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWN_KEY", "k-123")
    answered = call_action(
        DataAction("get", f"{service}/echo", {"variable": "v"}, "k", 2.0, (("x-api-key", "$OWN_KEY"),))
    )
    assert answered.status == 200 and answered.body == {"value": "v", "key": "k-123"}
    late = call_action(DataAction("get", f"{service}/slow", {"variable": "v"}, "k", 0.2))
    assert late.status == 0 and late.error and late.error.startswith("timeout")
    refused = call_action(DataAction("get", "http://127.0.0.1:9/get", {}, "k", 1.0))
    assert refused.status == 0 and refused.error and refused.error.startswith("no answer")


def test_read_back_asks_get_url_once_per_key(service: str) -> None:
    entries = _history("PREF-1")
    snapshot, stats = read_back(DataActionService(set_url=f"{service}/echo", get_url=f"{service}/echo"), entries)
    assert snapshot == {"conv-1:sess-1:preferenceCode": "preferenceCode"} and stats["unanswered"] == 0


class _Platform:
    """Just enough platform for one script flow: a call and a script session."""

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        if op == "create_call":
            return Reply(200, {"id": "conv-1"})
        return Reply(200, {"id": "sess-1", "conversationId": "conv-1", "participantId": "part-1"})


def _unreachable_flow(key: str) -> tuple[Any, list[dict[str, Any]]]:
    from mockgc.drivers.realtime import run_flow
    from mockgc.flows.script import script_flow

    dead = "http://127.0.0.1:9"  # the discard port: nothing answers there
    strategy = DataActionService(set_url=f"{dead}/set", get_url=f"{dead}/get", timeout_s=2)
    history = History()
    ctx = FlowContext(key, "agent-1", "bu-1", 1)
    result = run_flow(script_flow(ctx, strategy), _Platform(), history, process="p", key=key)
    return result, history.entries


def test_an_unreachable_service_takes_the_failure_path_and_loses_the_session() -> None:
    result, entries = _unreachable_flow("k1")
    assert (result.branch, result.acknowledged) == (DEFAULT, False)
    judged = check(entries, {}, [], mitigation="data-action", fault_profile="fast", seed=1, store={})
    assert judged["sessions"]["lost"] == 1 and judged["verdict"] == "fails"
    assert judged["store"] == {"calls": 2, "failures": 2}


def test_a_service_down_for_most_sessions_never_holds_on_the_few_it_answered() -> None:
    # The service answered one session and kept its value, and never answered the other three (the fake
    # platform gives every flow the same session, so the three read back the one value, not theirs).
    entries = _history("PREF-1")
    for key in ("k2", "k3", "k4"):
        entries += _unreachable_flow(key)[1]
    judged = check(entries, {}, [], mitigation="data-action", fault_profile="fast", seed=1,
                   store={"conv-1:sess-1:preferenceCode": "PREF-1"}, include_sessions=True)  # fmt: skip
    branches = {o["key"]: (o["class"], o["branch"]) for o in judged["session_outcomes"]}
    assert branches["k1"] == ("ok", PERSONALIZED)
    assert {branches[k][1] for k in ("k2", "k3", "k4")} == {DEFAULT} and judged["sessions"]["indeterminate"] == 0
    assert judged["verdict"] == "fails"
