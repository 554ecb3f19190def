"""A Data Action service that writes the value back to the platform (Set Data) with a plain retry.

    MOCKGC_CLIENT_SECRET=... python examples/data_action_writeback/service.py --target http://127.0.0.1:8321 --port 8401

POST /set {conversationId, participantId, sessionId, userId, variable, value} puts the value on the
script session (PUT /api/v2/scripts/sessions/{sessionId}/variables/{variable}), tried up to
--attempts times --delay seconds apart; 200 once the platform took it, 502 with the platform's last
answer when it never did. It keeps nothing itself, so the flow evaluates on the platform
(`--param evaluate_on_platform=true`) and durability is the platform's truth.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
import tenacity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _serve import fields, serve

SET_FIELDS = ("conversationId", "participantId", "sessionId", "userId", "variable", "value")


class Refused(Exception):
    """The platform answered, but not 2xx (a publish's lock, a rate limit): worth another try."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text[:200]}")
        self.status = status


class Platform:
    """A client-credentials token (taken once, renewed on a 401) and the Set Data call."""

    def __init__(self, target: str, client_id: str, client_secret: str) -> None:
        self.target = target.rstrip("/")
        self.credentials = (client_id, client_secret)
        self.http = requests.Session()
        self.token: str | None = None
        self.lock = threading.Lock()

    def _token(self, renew: bool = False) -> str:
        with self.lock:
            if self.token is None or renew:
                answer = self.http.post(
                    f"{self.target}/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=self.credentials,
                    timeout=10,
                )
                answer.raise_for_status()
                self.token = str(answer.json()["access_token"])
            return self.token

    def set_data(self, session_id: str, variable: str, value: str) -> None:
        url = f"{self.target}/api/v2/scripts/sessions/{quote(session_id, safe='')}/variables/{quote(variable, safe='')}"
        for renew in (False, True):
            answer = self.http.put(
                url, json={"value": value}, headers={"Authorization": f"Bearer {self._token(renew)}"}, timeout=10
            )
            if answer.status_code != 401:
                break
        if not answer.ok:
            raise Refused(answer.status_code, answer.text)


def routes(platform: Platform, attempts: int, delay: float) -> dict[str, Any]:
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_fixed(delay),
        retry=tenacity.retry_if_exception_type((Refused, requests.RequestException)),
        reraise=True,
    )

    def set_value(body: Any) -> tuple[int, Any]:
        given = fields(body, SET_FIELDS)
        if given is None:
            return 400, {"message": f"give {', '.join(SET_FIELDS)} as strings"}
        try:
            retrying(platform.set_data, given["sessionId"], given["variable"], given["value"])
        except (Refused, requests.RequestException) as error:
            return 502, {"message": f"the platform did not take the value: {error}"}
        return 200, {"stored": True}

    return {"/set": set_value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default=os.environ.get("MOCKGC_TARGET", "http://127.0.0.1:8321"))
    parser.add_argument("--client-id", default=os.environ.get("MOCKGC_CLIENT_ID", "mockgc-client"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8401, help="0 picks a free port.")
    parser.add_argument("--attempts", type=int, default=3, help="Tries of one Set Data.")
    parser.add_argument("--delay", type=float, default=0.5, help="Seconds between tries.")
    args = parser.parse_args()
    secret = os.environ.get("MOCKGC_CLIENT_SECRET", "")  # by environment: a secret stays out of the process list
    platform = Platform(args.target, args.client_id, secret)
    serve(routes(platform, args.attempts, args.delay), args.host, args.port, "data-action-writeback")


if __name__ == "__main__":
    main()
