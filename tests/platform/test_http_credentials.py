"""Credentials an unauthenticated attacker must not guess or reuse: upload keys, channel ids, tokens."""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import PureCloudPlatformClientV2 as gc
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from PureCloudPlatformClientV2.rest import ApiException
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from mockgc.clock import VirtualClock
from mockgc.platform.http.app import create_app
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET, basic
from tests.platform.test_sdk import make_sdk, sdk_globals  # noqa: F401 - the SDK's fixtures (a clean global Configuration)

WFM = "/api/v2/workforcemanagement/businessunits"
WEEK = "2026-11-23"
TOKEN_FORM = {"grant_type": "client_credentials"}
GUESSES = 400  # the seeded org draws a few dozen ids before the first upload slot


@pytest.fixture
def app(settings: Settings, clock: VirtualClock) -> Iterator[Flask]:
    app = create_app(settings, clock=clock)
    yield app
    events_runtime(app).stop()


def seeded_ids(label: str, count: int) -> list[str]:
    """What the mock used to derive from the seed: an attacker who knows the seed can list them."""
    rng = random.Random(label)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def new_schedule(client: FlaskClient, auth: dict[str, str], bu: str) -> str:
    schedule = client.post(f"{WFM}/{bu}/weeks/{WEEK}/schedules", json={"weekCount": 1}, headers=auth).json
    return f"{WFM}/{bu}/weeks/{WEEK}/schedules/{schedule['id']}"


def upload_slot(client: FlaskClient, auth: dict[str, str], schedule_url: str, payload: bytes) -> dict[str, Any]:
    reply = client.post(f"{schedule_url}/update/uploadurl", json={"contentLengthBytes": len(payload)}, headers=auth)
    assert reply.status_code == 200, reply.json
    return dict(reply.json)


def document(published: bool) -> bytes:
    return gzip.compress(json.dumps({"published": published, "metadata": {"version": 1}}).encode())


# -- upload keys ---------------------------------------------------------------------------


def test_guessed_upload_keys_cannot_overwrite_a_victims_publish(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str], settings: Settings
) -> None:
    schedule_url = new_schedule(client, auth, org["bu"])
    victim = upload_slot(client, auth, schedule_url, document(True))
    forged = document(False)
    # The attack: token-less PUTs of `published: false` to every key the seed predicts.
    hits = [
        key
        for key in seeded_ids(f"ids:{settings.org.seed}", GUESSES)
        if client.put(f"/uploads/schedules/{key}", data=forged, headers={"Content-Encoding": "gzip"}).status_code != 404
    ]
    assert hits == []
    assert victim["uploadKey"] not in seeded_ids(f"ids:{settings.org.seed}", GUESSES)

    put = client.put(urlsplit(victim["url"]).path, data=document(True), headers=victim["headers"])
    assert put.status_code == 200, put.json
    started = client.post(f"{schedule_url}/update", json={"uploadKey": victim["uploadKey"]}, headers=auth).json
    operation = client.get(f"{WFM}/{org['bu']}/operations/{started['operationId']}", headers=auth).json
    assert operation["mockgc"]["publishes"] is True and operation["mockgc"]["agentsHeld"] == settings.org.agents


def test_upload_keys_are_long_random_secrets(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    schedule_url = new_schedule(client, auth, org["bu"])
    keys = {upload_slot(client, auth, schedule_url, document(True))["uploadKey"] for _ in range(20)}
    assert len(keys) == 20
    assert all(len(key) >= 32 for key in keys)


def test_an_upload_key_takes_one_upload(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> None:
    schedule_url = new_schedule(client, auth, org["bu"])
    slot = upload_slot(client, auth, schedule_url, document(True))
    path = urlsplit(slot["url"]).path
    first = client.put(path, data=document(True), headers=slot["headers"])
    assert first.status_code == 200, first.json
    again = client.put(path, data=document(False), headers=slot["headers"])
    assert again.status_code == 409 and again.json["code"] == "request.conflict"
    # The first upload stands: the publish still publishes.
    started = client.post(f"{schedule_url}/update", json={"uploadKey": slot["uploadKey"]}, headers=auth).json
    operation = client.get(f"{WFM}/{org['bu']}/operations/{started['operationId']}", headers=auth).json
    assert operation["mockgc"]["publishes"] is True
    # And once used by the update, the key is gone.
    assert client.put(path, data=document(True), headers=slot["headers"]).status_code == 404


def test_a_refused_upload_does_not_use_up_the_key(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str]
) -> None:
    schedule_url = new_schedule(client, auth, org["bu"])
    good = document(True)
    slot = upload_slot(client, auth, schedule_url, good)
    path = urlsplit(slot["url"]).path
    refused = client.put(path, data=b"x" * len(good), headers=slot["headers"])  # not gzip
    assert refused.status_code == 400
    assert client.put(path, data=good, headers=slot["headers"]).status_code == 200


# -- notification channels -----------------------------------------------------------------


def test_a_predicted_channel_id_does_not_reach_another_clients_events(
    client: FlaskClient, auth: dict[str, str], settings: Settings
) -> None:
    victim = client.post("/api/v2/notifications/channels", headers=auth).json
    rng = random.Random(f"channels:{settings.org.seed}")
    predicted = [f"streaming-0-{uuid.UUID(int=rng.getrandbits(128)).hex[:26]}" for _ in range(5)]
    assert victim["id"] not in predicted
    base = victim["connectUri"].rsplit("/", 1)[0]
    for channel_id in predicted:
        # The attack: a token-less WebSocket to the channel the seed predicts would take over its events.
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{base}/{channel_id}", open_timeout=5)
        assert refused.value.response.status_code == 404


def test_channel_ids_are_long_random_secrets(client: FlaskClient, auth: dict[str, str]) -> None:
    ids = {client.post("/api/v2/notifications/channels", headers=auth).json["id"] for _ in range(10)}
    assert len(ids) == 10
    # As the platform's: streaming-0- and 26 characters, here of [0-9a-z] (over 130 bits).
    assert all(i.startswith("streaming-0-") and len(i) == len("streaming-0-") + 26 for i in ids)


# -- tokens --------------------------------------------------------------------------------


def bearer(client: FlaskClient, client_id: str, secret: str) -> dict[str, str]:
    reply = client.post("/oauth/token", data=TOKEN_FORM, headers={"Authorization": basic(client_id, secret)})
    assert reply.status_code == 200, reply.json
    return {"Authorization": f"Bearer {reply.json['access_token']}"}


def register(client: FlaskClient, admin: dict[str, str], client_id: str, secret: str) -> None:
    reply = client.post("/mock/oauth/clients", json={"clientId": client_id, "clientSecret": secret}, headers=admin)
    assert reply.status_code == 201, reply.json


def test_rotating_a_secret_revokes_the_clients_tokens(client: FlaskClient, admin: dict[str, str]) -> None:
    register(client, admin, "partner", "old-secret")
    old = bearer(client, "partner", "old-secret")
    other = bearer(client, CLIENT_ID, CLIENT_SECRET)
    assert client.get("/api/v2/users", headers=old).status_code == 200
    register(client, admin, "partner", "new-secret")
    refused = client.get("/api/v2/users", headers=old)
    assert refused.status_code == 401 and refused.json["code"] == "bad.credentials"
    stale_login = client.post(
        "/oauth/token", data=TOKEN_FORM, headers={"Authorization": basic("partner", "old-secret")}
    )
    assert stale_login.status_code == 401
    assert client.get("/api/v2/users", headers=bearer(client, "partner", "new-secret")).status_code == 200
    assert client.get("/api/v2/users", headers=other).status_code == 200  # another client's tokens stand


def test_registering_the_same_secret_again_keeps_the_tokens(client: FlaskClient, admin: dict[str, str]) -> None:
    register(client, admin, "partner", "same")
    token = bearer(client, "partner", "same")
    register(client, admin, "partner", "same")
    assert client.get("/api/v2/users", headers=token).status_code == 200


def test_delete_tokens_me_revokes_the_token_that_asks(client: FlaskClient, auth: dict[str, str]) -> None:
    spare = bearer(client, CLIENT_ID, CLIENT_SECRET)
    deleted = client.delete("/api/v2/tokens/me", headers=auth)
    assert deleted.status_code == 204 and deleted.data == b""
    assert "ININ-Correlation-Id" in deleted.headers
    refused = client.get("/api/v2/users", headers=auth)
    assert refused.status_code == 401 and refused.json["code"] == "bad.credentials"
    assert client.delete("/api/v2/tokens/me", headers=auth).status_code == 401
    assert client.delete("/api/v2/tokens/me").json["code"] == "authentication.required"
    assert client.get("/api/v2/users", headers=spare).status_code == 200


def test_revoked_tokens_stay_revoked_across_a_reset(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str]
) -> None:
    assert client.delete("/api/v2/tokens/me", headers=auth).status_code == 204
    assert client.post("/mock/reset", json={}, headers=admin).status_code == 200
    assert client.get("/api/v2/users", headers=auth).status_code == 401


def test_the_sdk_revokes_its_own_token(live_server: ServerThread, make_sdk: Any) -> None:  # noqa: F811
    api = make_sdk(live_server.url)
    users = gc.UsersApi(api)
    assert users.get_users().entities
    gc.TokensApi(api).delete_tokens_me()
    with pytest.raises(ApiException) as refused:
        users.get_users()
    assert refused.value.status == 401 and json.loads(refused.value.body)["code"] == "bad.credentials"


# -- pre-signed URLs -------------------------------------------------------------------------


def test_pre_signed_urls_come_from_the_configured_base_url_never_the_host_header(
    settings: Settings, clock: VirtualClock
) -> None:
    """A caller's Host header used to become the upload URL's host: a link to anywhere, handed out by the mock."""
    for public_url, expected in (
        ("", "http://127.0.0.1:8321"),
        ("https://mock.example/base/", "https://mock.example/base"),
    ):
        app = create_app(replace(settings, server=replace(settings.server, public_url=public_url)), clock=clock)
        try:
            client = app.test_client()
            issued = client.post("/oauth/token", data=TOKEN_FORM, headers={"Authorization": basic()}).json
            auth = {"Authorization": f"Bearer {issued['access_token']}"}
            bu = client.get("/mock/info", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json["businessUnits"][0][
                "id"
            ]
            schedule_url = new_schedule(client, auth, bu)
            evil = {**auth, "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
            upload = client.post(f"{schedule_url}/update/uploadurl", json={"contentLengthBytes": 64}, headers=evil).json
            assert upload["url"] == f"{expected}/uploads/schedules/{upload['uploadKey']}"
            query = f"{schedule_url}/agentschedules/query?forceDownloadService=true"
            download = client.post(query, json={}, headers=evil).json["downloadUrl"]
            assert download.startswith(f"{expected}/downloads/agentschedules/")
        finally:
            events_runtime(app).stop()


def test_a_served_mock_hands_out_urls_on_the_port_it_bound(live_server: ServerThread) -> None:
    url = live_server.url
    issued = requests.post(f"{url}/oauth/token", data=TOKEN_FORM, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    auth = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    info = requests.get(f"{url}/mock/info", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10).json()
    schedules = f"{url}{WFM}/{info['businessUnits'][0]['id']}/weeks/{WEEK}/schedules"
    schedule = requests.post(schedules, json={"weekCount": 1}, headers=auth, timeout=10).json()
    reply = requests.post(
        f"{schedules}/{schedule['id']}/update/uploadurl",
        json={"contentLengthBytes": 64},
        headers={**auth, "Host": "evil.example"},
        timeout=10,
    )
    assert reply.json()["url"].startswith(f"{live_server.url}/uploads/schedules/")


@pytest.mark.parametrize("bad", ["ftp://x", "evil.example", "http://", "http://a b", "http://x?y"])
def test_a_public_url_that_is_no_base_url_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="public_url"):
        Settings(public_url=bad).validate()
