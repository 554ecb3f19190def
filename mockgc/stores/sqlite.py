"""The embedded default store: one SQLite file, safe across threads and processes (WAL, busy timeout)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from mockgc.stores.base import StoreError

_SCHEMA = "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
_PREFIX_END = "\U0010ffff"  # sorts after every character a key may contain


class SQLiteStore:
    """Key-value rows in a file; every sqlite3 error becomes a StoreError.

    One connection per store object behind a lock (Locust users and the worker each open their
    own), autocommit so each put is durable on return, WAL so readers never block the writer
    and several processes can share the file.
    """

    def __init__(self, path: str | Path, *, timeout: float = 2.0, prefix: str = "") -> None:
        self.path = Path(path)
        self.prefix = prefix
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute(_SCHEMA)
        except (sqlite3.Error, OSError) as error:
            raise StoreError(f"sqlite {self.path}: {error}") from None

    def put(self, key: str, value: str) -> None:
        self._run(
            "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (self.prefix + key, value),
        )

    def get(self, key: str) -> str | None:
        rows = self._run("SELECT value FROM kv WHERE key = ?", (self.prefix + key,))
        return rows[0][0] if rows else None

    def items(self, prefix: str = "") -> dict[str, str]:
        start = self.prefix + prefix
        rows = self._run(
            "SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key", (start, start + _PREFIX_END)
        )
        return {key[len(self.prefix) :]: value for key, value in rows}

    def delete_prefix(self, prefix: str) -> int:
        start = self.prefix + prefix
        with self._lock:
            try:
                return self._db.execute(
                    "DELETE FROM kv WHERE key >= ? AND key < ?", (start, start + _PREFIX_END)
                ).rowcount
            except sqlite3.Error as error:
                raise StoreError(f"sqlite {self.path}: {error}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: tuple[str, ...]) -> list[tuple[str, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as error:
                raise StoreError(f"sqlite {self.path}: {error}") from None

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"
