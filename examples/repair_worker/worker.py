"""An external repair worker: it hears publish completions on the Notifications API WebSocket and re-applies
every recorded intent through the platform's bulk script-data API.

    MOCKGC_CLIENT_SECRET=... python examples/repair_worker/worker.py --target http://127.0.0.1:8321 \\
        --store sqlite:///runs/intents.db

It subscribes a notification channel to every business unit's `...schedules` topic; a message whose
status is Complete schedules a repair pass --settle seconds later. A pass reads the intents the
`async-worker` flows recorded in the store (key `<namespace>intent:<sessionId>:<name>`) and puts their
values with PUT /api/v2/analytics/script-data, 100 a request; an item the platform refuses (still held,
or a session to re-attach) is tried again a second later, at most --rounds times.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from mockgc.flows.mitigations.async_worker import NAMESPACE, Intent
from mockgc.stores import open_store

CHUNK = 100
REFRESH_SECONDS = 1.0  # re-list business units now and then: an org reset (a run starting) gives them new ids


class Platform:
    def __init__(self, target: str, client_id: str, client_secret: str) -> None:
        self.target = target.rstrip("/")
        self.http = requests.Session()
        answer = self.http.post(
            f"{self.target}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
            timeout=10,
        )
        answer.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.http.request(method, f"{self.target}{path}", json=body, timeout=30)

    def schedule_topics(self) -> list[str]:
        units = self.call("GET", "/api/v2/workforcemanagement/businessunits").json()["entities"]
        return [f"v2.workforcemanagement.businessunits.{unit['id']}.schedules" for unit in units]


def subscribe(platform: Platform) -> tuple[str, str, list[str]]:
    """A new channel subscribed to every schedule topic: its connectUri, id and topics."""
    channel = platform.call("POST", "/api/v2/notifications/channels").json()
    topics = platform.schedule_topics()
    platform.call("PUT", f"/api/v2/notifications/channels/{channel['id']}/subscriptions", [{"id": t} for t in topics])
    return channel["connectUri"], channel["id"], topics


class Worker:
    """Listens on one channel's socket; repairs once a publish has completed and --settle has passed."""

    def __init__(self, platform: Platform, args: argparse.Namespace) -> None:
        self.platform = platform
        self.args = args
        self.due: float | None = None
        self.refreshed = time.monotonic()

    def listen(self, socket: ClientConnection, channel: str, topics: list[str]) -> None:
        """Until the socket closes (ConnectionClosed)."""
        while True:
            try:
                message = json.loads(socket.recv(timeout=0.5))
                body = message.get("eventBody") or {}
                if message.get("topicName", "").endswith(".schedules") and body.get("status") == "Complete":
                    self.due = time.monotonic() + self.args.settle  # a later completion moves the pass back
            except TimeoutError:
                pass
            now = time.monotonic()
            if self.due is not None and now >= self.due:
                self.due = None
                done = repair(self.platform, self.args.store, self.args.namespace, self.args.rounds)
                print(f"repaired {done} item(s)", flush=True)
            if now - self.refreshed >= REFRESH_SECONDS:
                self.refreshed = now
                fresh = self.platform.schedule_topics()
                if fresh != topics:
                    subscriptions = f"/api/v2/notifications/channels/{channel}/subscriptions"
                    self.platform.call("PUT", subscriptions, [{"id": t} for t in fresh])
                    topics = fresh


def repair(platform: Platform, store_url: str, namespace: str, rounds: int) -> int:
    """One pass over every intent; how many items the platform took."""
    store = open_store(store_url)
    try:
        intents = [i for text in store.items(f"{namespace}intent:").values() if (i := Intent.decode(text))]
    finally:
        store.close()
    repaired = 0
    pending = intents
    for round_number in range(rounds):
        retry: list[Intent] = []
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start : start + CHUNK]
            updates = [{"sessionId": i.session_id, "variables": {i.name: i.value}} for i in chunk]
            answer = platform.call("PUT", "/api/v2/analytics/script-data", {"updates": updates})
            results = answer.json().get("results", []) if answer.ok else []
            if len(results) != len(chunk):
                retry.extend(chunk)
                continue
            for intent, item in zip(chunk, results, strict=True):
                if item.get("status") == 200:
                    repaired += 1
                elif item.get("status") != 404:
                    if "attach" in str(item.get("message", "")):
                        platform.call("POST", f"/api/v2/scripts/sessions/{intent.session_id}/attach")
                    retry.append(intent)
        if not retry:
            break
        pending = retry
        if round_number + 1 < rounds:
            time.sleep(1.0)
    return repaired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default=os.environ.get("MOCKGC_TARGET", "http://127.0.0.1:8321"))
    parser.add_argument("--client-id", default=os.environ.get("MOCKGC_CLIENT_ID", "mockgc-client"))
    parser.add_argument("--store", required=True, help="Where the flows record their intents (the run's --store).")
    parser.add_argument("--namespace", default=NAMESPACE)
    parser.add_argument("--settle", type=float, default=1.0, help="Seconds after a publish completes before repairing.")
    parser.add_argument("--rounds", type=int, default=8, help="Tries of an item the platform refuses.")
    args = parser.parse_args()
    platform = Platform(args.target, args.client_id, os.environ.get("MOCKGC_CLIENT_SECRET", ""))
    worker = Worker(platform, args)
    announced = False
    try:
        while True:
            uri, channel, topics = subscribe(platform)
            if not announced:
                print(f"repair-worker subscribed to {len(topics)} schedule topic(s) on channel {channel}", flush=True)
                announced = True
            try:
                with connect(uri) as socket:
                    worker.listen(socket, channel, topics)
            except ConnectionClosed:
                continue  # the channel was replaced or the mock restarted: subscribe again
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
