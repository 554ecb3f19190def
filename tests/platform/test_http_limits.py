"""What a token-less client can make the mock hold: gzip bombs, huge paths and headers, the journal."""

from __future__ import annotations

import gc
import gzip
import json
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, TestResponse

from mockgc.platform.http.journal import MAX_FIELD_CHARS, Journal
from mockgc.platform.settings import MAX_HEADER_BYTES, MAX_URI_BYTES

WFM = "/api/v2/workforcemanagement/businessunits"
WEEK = "2026-11-23"
ERROR_KEYS = {"message", "code", "status", "contextId", "details", "errors"}
# 19.8 MB of "{}," in 20 KB of gzip (under the old 20 MB cap): parsed, it became millions of dicts (~500 MB of RSS).
BOMB = gzip.compress(b"[" + b"{}," * 6_600_000 + b"{}]", 9)
DOCUMENT = json.dumps({"published": True, "metadata": {"version": 1}}).encode()


def platform_error(response: TestResponse, status: int) -> dict[str, Any]:
    body = response.get_json(silent=True)
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert isinstance(body, dict) and set(body) >= ERROR_KEYS, body
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    return body


def peak_bytes(action: Callable[[], Any]) -> int:
    """Python allocations at their peak while `action` runs (above what was live before)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        action()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.fixture
def upload_to(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> Callable[[bytes], TestResponse]:
    """PUT a payload to a fresh upload URL issued for exactly its length."""
    schedule = client.post(f"{WFM}/{org['bu']}/weeks/{WEEK}/schedules", json={}, headers=auth).json
    url = f"{WFM}/{org['bu']}/weeks/{WEEK}/schedules/{schedule['id']}/update/uploadurl"

    def put(payload: bytes) -> TestResponse:
        slot = client.post(url, json={"contentLengthBytes": len(payload)}, headers=auth).json
        return client.put(urlsplit(slot["url"]).path, data=payload, headers={"Content-Encoding": "gzip"})

    return put


# -- gzip ----------------------------------------------------------------------------------


def test_a_gzip_bomb_to_an_unknown_key_is_refused_before_it_is_inflated(client: FlaskClient) -> None:
    assert len(BOMB) < 25_000
    responses: list[TestResponse] = []
    used = peak_bytes(
        lambda: responses.append(
            client.put("/uploads/schedules/any-key", data=BOMB, headers={"Content-Encoding": "gzip"})
        )
    )
    assert platform_error(responses[0], 404)["code"] == "not.found"
    assert used < 2_000_000, used  # the 20 KB body at most, never its 20 MB inflated


def test_a_gzip_bomb_to_a_live_key_is_inflated_only_up_to_the_body_limit(
    upload_to: Callable[[bytes], TestResponse],
) -> None:
    responses: list[TestResponse] = []
    used = peak_bytes(lambda: responses.append(upload_to(BOMB)))
    assert platform_error(responses[0], 413)["code"] == "request.entity.too.large"
    assert used < 8_000_000, used
    assert upload_to(gzip.compress(DOCUMENT)).status_code == 200  # an honest upload still works


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (gzip.compress(DOCUMENT)[:-8], "trailer"),  # no CRC-32 and length
        (gzip.compress(DOCUMENT)[:-4], "trailer"),  # no length
        (gzip.compress(DOCUMENT) + gzip.compress(b'{"published": false}'), "single gzip member"),
        (gzip.compress(DOCUMENT) + b"trailing junk", "single gzip member"),
        (gzip.compress(DOCUMENT)[:-8] + b"\0\0\0\0" + gzip.compress(DOCUMENT)[-4:], "not valid gzip"),  # CRC
        (gzip.compress(DOCUMENT)[:-4] + b"\xff\0\0\0", "not valid gzip"),  # wrong length
    ],
    ids=["no-trailer", "half-trailer", "two-members", "junk-after", "bad-crc", "bad-isize"],
)
def test_gzip_is_checked_to_its_trailer_and_must_be_one_member(
    upload_to: Callable[[bytes], TestResponse], payload: bytes, fragment: str
) -> None:
    body = platform_error(upload_to(payload), 400)
    assert body["code"] == "bad.request" and fragment in body["message"]


def test_an_upload_of_another_length_than_declared_is_refused(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str]
) -> None:
    payload = gzip.compress(DOCUMENT)
    schedule = client.post(f"{WFM}/{org['bu']}/weeks/{WEEK}/schedules", json={}, headers=auth).json
    url = f"{WFM}/{org['bu']}/weeks/{WEEK}/schedules/{schedule['id']}/update/uploadurl"
    slot = client.post(url, json={"contentLengthBytes": len(payload) - 1}, headers=auth).json
    body = platform_error(client.put(urlsplit(slot["url"]).path, data=payload), 400)
    assert "contentLengthBytes" in body["message"]


# -- paths, headers and the journal --------------------------------------------------------


def test_an_oversize_path_is_refused_and_not_kept(client: FlaskClient, admin: dict[str, str]) -> None:
    path = "/api/v2/users/" + "x" * 200_000
    body = platform_error(client.get(path), 414)
    assert body["code"] == "request.uri.too.long"
    assert platform_error(client.get("/api/v2/users?q=" + "y" * MAX_URI_BYTES), 414)
    entries = client.get("/mock/journal", headers=admin).json["entries"]
    assert [e["status"] for e in entries] == [414, 414]
    assert all(len(e["path"]) <= MAX_FIELD_CHARS for e in entries)


def test_a_thousand_huge_paths_keep_almost_nothing(client: FlaskClient) -> None:
    """The attack: 1,000 token-less requests with 200 KB paths used to keep ~190 MB in the journal."""
    app = client.application
    environ = EnvironBuilder(path="/api/v2/users/" + "x" * 200_000).get_environ()

    def send() -> None:
        for _ in app(dict(environ), lambda status, headers, exc_info=None: None):
            pass

    send()  # warm up: the first request builds lazy state of its own
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            send()
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 3_000_000, kept


def test_oversize_headers_are_refused(client: FlaskClient, auth: dict[str, str]) -> None:
    big = {"X-Padding": "p" * MAX_HEADER_BYTES}
    body = platform_error(client.get("/api/v2/users", headers=auth | big), 431)
    assert body["code"] == "request.header.fields.too.large"
    many = {f"X-Pad-{n}": "p" * 1000 for n in range(MAX_HEADER_BYTES // 1000 + 1)}
    assert platform_error(client.get("/api/v2/users", headers=auth | many), 431)
    assert client.get("/api/v2/users", headers=auth | {"X-Padding": "p" * 1000}).status_code == 200


def test_journal_entries_are_bounded_in_size() -> None:
    journal = Journal(capacity=10)
    journal.record(1.0, "G" * 10_000, "/p" + "x" * 100_000, 414, "c" * 10_000, "corr")
    [entry] = journal.since()
    assert len(entry["path"]) <= MAX_FIELD_CHARS and entry["path"].startswith("/pxx")
    assert len(entry["method"]) <= MAX_FIELD_CHARS and len(entry["client_id"]) <= MAX_FIELD_CHARS
    journal.record(2.0, "GET", "/short", 200, None, "corr")
    assert journal.since(1)[0]["path"] == "/short"  # ordinary entries are kept as they are


# -- JSON strings --------------------------------------------------------------------------


LONE_SURROGATES = [
    b'{"value": "\\ud800"}',  # an escaped high surrogate alone
    b'{"value": "a\\udc00b"}',  # an escaped low surrogate alone
    b'{"value": "\\ude00\\ud83d"}',  # a pair in the wrong order
    b'{"value": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 bytes (not valid UTF-8)
    b'{"\\ud800": "v"}',  # in a key
]


@pytest.fixture
def set_value(client: FlaskClient, auth: dict[str, str], org: dict[str, str]) -> Iterator[Callable[[bytes], Any]]:
    url = f"/api/v2/scripts/sessions/{org['session']}/variables/pref"
    yield lambda raw: client.put(url, data=raw, content_type="application/json", headers=auth)


@pytest.mark.parametrize("raw", LONE_SURROGATES, ids=["high", "low", "reversed", "utf8-bytes", "key"])
def test_a_lone_surrogate_is_refused_and_not_stored(
    set_value: Callable[[bytes], TestResponse],
    client: FlaskClient,
    admin: dict[str, str],
    org: dict[str, str],
    raw: bytes,
) -> None:
    body = platform_error(set_value(raw), 400)
    assert body["code"] in ("bad.request", "invalid.value")
    assert client.get("/mock/truth", headers=admin).json["sessions"][org["session"]]["variables"] == {}


def test_a_surrogate_pair_is_a_real_character(
    set_value: Callable[[bytes], TestResponse], client: FlaskClient, admin: dict[str, str], org: dict[str, str]
) -> None:
    assert set_value(b'{"value": "\\ud83d\\ude00 and \\\\ud800 as text"}').status_code == 200
    stored = client.get("/mock/truth", headers=admin).json["sessions"][org["session"]]["variables"]
    assert stored == {"pref": "\U0001f600 and \\ud800 as text"}
