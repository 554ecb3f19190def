"""Store backends: memory, SQLite and a real Redis server; failures surface as StoreError, never as success."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from mockgc.drivers.core import store_reply
from mockgc.flows.effects import StoreGet, StorePut
from mockgc.stores import MemoryStore, Store, StoreError, describe_store, open_store
from mockgc.stores.redis import RedisStore
from mockgc.stores.sqlite import SQLiteStore

REDIS_URL = os.environ.get("MOCKGC_TEST_REDIS", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis (db 15, a fresh key prefix), cleaned up afterwards; CI must have one."""
    if not redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a Redis server at {REDIS_URL} (.ci/run starts one)")
        pytest.skip(f"no Redis server at {REDIS_URL}")
    prefix = f"mockgc-test-{uuid.uuid4().hex[:12]}:"
    yield f"{REDIS_URL}?prefix={prefix}"
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        opened = open_store("memory://")
    elif request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path}/store.db")
    else:
        opened = open_store(request.getfixturevalue("redis_url"))
    yield opened
    opened.close()


def test_every_backend_puts_gets_and_scans_by_prefix(store: Store) -> None:
    assert store.get("missing") is None
    store.put("intent:s1:preferenceCode", "A")
    store.put("intent:s2:preferenceCode", "B")
    store.put("intent:s1:preferenceCode", "C")  # an overwrite, not a second row
    store.put("repair:s1:preferenceCode", "R")
    store.put("intent*odd", "glob characters are literal")
    assert store.get("intent:s1:preferenceCode") == "C"
    assert store.items("intent:") == {"intent:s1:preferenceCode": "C", "intent:s2:preferenceCode": "B"}
    assert store.items("intent*") == {"intent*odd": "glob characters are literal"}
    assert len(store.items()) == 4


def test_delete_prefix_removes_only_that_namespace(store: Store) -> None:
    store.put("mockgc:es:a", "1")
    store.put("mockgc:es:b", "2")
    store.put("mockgc:aw:c", "3")
    assert store.delete_prefix("mockgc:es:") == 2  # type: ignore[attr-defined]
    assert store.items() == {"mockgc:aw:c": "3"}


def test_open_store_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    absolute = open_store(f"sqlite:///{tmp_path}/a/b/store.db?timeout=1")
    assert isinstance(absolute, SQLiteStore) and absolute.path == tmp_path / "a" / "b" / "store.db"
    assert isinstance(open_store("redis://127.0.0.1:6379/3?timeout=0.5&prefix=x:"), RedisStore)
    for bad in ("sqlite://", "mysql://h/db", "redis://h/0?timeout=never", "redis://h/0?timeout=0", "redis://h/0?tls=1"):
        with pytest.raises(ValueError):
            open_store(bad)
    assert describe_store("redis://:hunter2@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"


def test_sqlite_is_shared_between_store_objects_on_one_file(tmp_path: Path) -> None:
    """A Locust user writes, the worker (another process in a live run) reads the same file."""
    writer = open_store(f"sqlite:///{tmp_path}/shared.db")
    reader = open_store(f"sqlite:///{tmp_path}/shared.db")
    writer.put("k", "v")
    assert reader.get("k") == "v"
    assert reader.items("k") == {"k": "v"}


def test_sqlite_prefix_namespaces_keys(tmp_path: Path) -> None:
    a = open_store(f"sqlite:///{tmp_path}/ns.db?prefix=run-a:")
    b = open_store(f"sqlite:///{tmp_path}/ns.db?prefix=run-b:")
    a.put("k", "from a")
    assert b.get("k") is None
    assert a.items() == {"k": "from a"}


def test_sqlite_that_cannot_open_raises_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError):
        open_store(f"sqlite:///{tmp_path}/dir.db")


def test_redis_keys_really_are_in_the_server(redis_url: str) -> None:
    store = open_store(redis_url)
    store.put("session:1", "PREF-AB-1234")
    prefix = redis_url.split("prefix=", 1)[1]
    raw = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    assert raw.get(f"{prefix}session:1") == "PREF-AB-1234"


def test_redis_down_is_a_store_error_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens once the probe closes
    store = open_store(f"redis://127.0.0.1:{closed_port}/0?timeout=0.5")
    started = time.monotonic()
    with pytest.raises(StoreError, match="ConnectionError"):
        store.put("k", "v")
    with pytest.raises(StoreError):
        store.get("k")
    with pytest.raises(StoreError):
        store.items()
    assert time.monotonic() - started < 2.0  # no silent client-side retry loop


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers: a Redis that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    server.close()


def test_redis_timeout_is_a_store_error(silent_server: int) -> None:
    store = open_store(f"redis://127.0.0.1:{silent_server}/0?timeout=0.2")
    started = time.monotonic()
    with pytest.raises(StoreError, match="Timeout"):
        store.get("k")
    assert 0.15 < time.monotonic() - started < 2.0


def test_a_failing_store_is_an_indeterminate_reply_never_a_success() -> None:
    class Down:
        def put(self, key: str, value: str) -> None:
            raise StoreError("down")

        def get(self, key: str) -> str | None:
            raise StoreError("down")

    put = store_reply(Down(), StorePut("k", "v"))  # type: ignore[arg-type]
    got = store_reply(Down(), StoreGet("k"))  # type: ignore[arg-type]
    assert (put.status, put.ok) == (0, False) and "down" in (put.error or "")
    assert (got.status, got.ok) == (0, False)
