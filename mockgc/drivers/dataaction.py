"""A Data Action call made for real: a JSON POST to the user's service, its answer as a Reply."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from mockgc.drivers.http import reply_from
from mockgc.flows.effects import DataAction, Reply
from mockgc.flows.mitigations.data_action import GET, TIMED_OUT, DataActionService

_http = requests.Session()  # keep-alive to the service, as the platform's action proxy keeps it


def header_values(
    headers: tuple[tuple[str, str], ...], environ: os._Environ[str] | dict[str, str] = os.environ
) -> dict[str, str]:
    """The headers to send: a value "$NAME" is the environment variable NAME ("" when it is unset)."""
    return {name: environ.get(value[1:], "") if value.startswith("$") else value for name, value in headers}


def call_action(effect: DataAction, http: requests.Session | None = None) -> Reply:
    """POST the body; a timeout is status 0 with an error starting "timeout" (the failure path), any other
    missing answer status 0 as well (indeterminate); an answer that is not JSON is kept as text."""
    try:
        response = (http or _http).post(
            effect.url, json=effect.body, headers=header_values(effect.headers), timeout=effect.timeout_s
        )
    except requests.ReadTimeout:
        return Reply(0, None, error=f"{TIMED_OUT}: no answer within {effect.timeout_s:g} s")
    except requests.RequestException as error:
        return Reply(0, None, error=f"no answer: {type(error).__name__}: {error}"[:300])
    return reply_from(response.status_code, response.content, response.headers)


def action_bodies(history: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each Data Action key the flows called, with the get body that reads it back (from the calls' invokes)."""
    bodies: dict[str, dict[str, Any]] = {}
    for entry in history:
        if entry.get("type") == "invoke" and str(entry.get("f", "")).startswith("action_"):
            params = entry.get("params") or {}
            key = params.get("key")
            if isinstance(key, str) and key not in bodies:
                bodies[key] = {name: params.get(name) for name in ("conversationId", "sessionId", "variable")}
    return bodies


# Requests in flight at once while reading back: one by one, 1,500 keys took 20-60 s.
READ_BACK_CONCURRENCY = 16


def read_back(
    mitigation: DataActionService,
    history: list[dict[str, Any]],
    progress: Callable[[int, int], None] | None = None,
    concurrency: int = READ_BACK_CONCURRENCY,
) -> tuple[dict[str, str | None], dict[str, Any]]:
    """Durability through the service: get_url asked once for every key the flows wrote or read, after the
    run, `concurrency` at a time (each thread on its own keep-alive session). (snapshot key -> value, None
    where the service answered no value; counts). A key the service did not answer (non-2xx, timeout,
    no answer) is left out of the snapshot, so the checker cannot count it durable. `progress(done, total)`
    is told as the answers come in."""
    local = threading.local()
    sessions: list[requests.Session] = []

    def ask(item: tuple[str, dict[str, Any]]) -> tuple[str, Reply]:
        http = getattr(local, "http", None)
        if http is None:
            http = local.http = requests.Session()
            sessions.append(http)
        key, body = item
        headers = tuple(sorted(mitigation.headers.items()))
        return key, call_action(DataAction(GET, mitigation.get_url, body, key, mitigation.timeout_s, headers), http)

    bodies = sorted(action_bodies(history).items())
    replies: list[tuple[str, Reply]] = []
    try:
        with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="mockgc-read-back") as pool:
            for done, answered in enumerate(pool.map(ask, bodies), 1):
                replies.append(answered)
                if progress is not None:
                    progress(done, len(bodies))
    finally:
        for http in sessions:
            http.close()
    snapshot: dict[str, str | None] = {}
    failures: list[str] = []
    for key, reply in replies:
        if not reply.ok:
            failures.append(f"{key}: {reply.status} {reply.error or ''}".strip())
            continue
        value = reply.body.get("value") if isinstance(reply.body, dict) else None
        snapshot[key] = None if value is None else str(value)
    if progress is not None:
        progress(len(bodies), len(bodies))
    return snapshot, {"read_back": len(snapshot), "unanswered": len(failures), "unanswered_samples": failures[:5]}
