"""The failure in three requests: 200 before a publish, 400 during the hold, 200 after."""

from __future__ import annotations

from flask.testing import FlaskClient

from mockgc.clock import VirtualClock


def test_write_fails_only_while_the_agent_is_held(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str], clock: VirtualClock
) -> None:
    info = client.get("/mock/info", headers=admin).json
    agent, bu = info["users"][0]["id"], info["businessUnits"][0]["id"]
    call = client.post("/api/v2/conversations/calls", json={"callUserId": agent}, headers=auth).json
    session = client.post(
        "/api/v2/scripts/sessions", json={"userId": agent, "conversationId": call["id"]}, headers=auth
    ).json
    url = f"/api/v2/scripts/sessions/{session['id']}/variables/preferenceCode"

    assert client.put(url, json={"value": "A"}, headers=auth).status_code == 200
    client.application.extensions["mockgc"].platform.publish_schedule(bu)
    held = client.put(url, json={"value": "B"}, headers=auth)
    assert held.status_code == 400
    assert held.json["code"] == "bad.request"
    assert held.json["details"][0]["errorCode"] == "script.session.locked"
    clock.advance(0.3)  # the fast profile holds the first batch for 300 ms
    assert client.put(url, json={"value": "C"}, headers=auth).status_code == 200
