"""A short scripted client that shows the failure: writes to a held agent's session get 400."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from mockgc.platform.client import MockAdmin, publish_through_upload
from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings


class DemoError(RuntimeError):
    pass


def _expect(response: requests.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise DemoError(
            f"{response.request.method} {response.url} answered {response.status_code}: {response.text[:300]}"
        )
    return response.json() if response.content else None


def run_scripted_demo(say: Callable[[str], None], profile: str = "seed-default") -> bool:
    """Returns True when the failure was shown: 200 before, 400 during, 200 after the hold."""
    settings = Settings(profile=profile, client_secret="demo-secret", admin_key="demo-admin")
    with ServerThread(create_app(settings)) as server:
        base = server.url
        say(f"mock platform listening on {base} (profile {profile})")
        token = _expect(
            requests.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(settings.org.client_id, settings.org.client_secret),
                timeout=10,
            ),
            200,
        )
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        info = MockAdmin(base, settings.server.admin_key).info()
        agent = info["users"][0]
        bu_id = info["businessUnits"][0]["id"]
        call = _expect(http.post(f"{base}/api/v2/conversations/calls", json={"callUserId": agent["id"]}), 200)
        session = _expect(
            http.post(f"{base}/api/v2/scripts/sessions", json={"userId": agent["id"], "conversationId": call["id"]}),
            201,
        )
        variable = f"{base}/api/v2/scripts/sessions/{session['id']}/variables/preferenceCode"

        before = http.put(variable, json={"value": "PREF-BEFORE"})
        say(f"before the publish: Set Data -> {before.status_code}")
        operation = publish_through_upload(http, base, bu_id)
        say(f"WFM publish started: operation {operation['operationId']} ({operation['status']})")
        during = http.put(variable, json={"value": "PREF-DURING"})
        branch = http.post(
            f"{base}/api/v2/scripts/sessions/{session['id']}/evaluate", json={"variable": "preferenceCode"}
        )
        say(
            f"during the hold of {agent['name']}: Set Data -> {during.status_code} ({during.json().get('message', '')})"
        )
        say(
            f"during the hold: evaluate -> {branch.status_code}; the flow takes the default branch and the preference is lost"
        )
        held_until = (
            during.json()["details"][0]["lock"]["heldUntilEpochMs"] / 1000 if during.status_code == 400 else time.time()
        )
        time.sleep(max(0.0, held_until - time.time()) + 0.05)
        after = http.put(variable, json={"value": "PREF-AFTER"})
        say(f"after the hold: Set Data -> {after.status_code}")
        return before.status_code == 200 and during.status_code == 400 and after.status_code == 200
