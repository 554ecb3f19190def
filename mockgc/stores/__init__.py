"""Store backends behind one URL: memory://, sqlite:///path/file.db (the embedded default) and redis://host:port/db."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from mockgc.stores.base import MemoryStore, Store, StoreError

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "MemoryStore",
    "Store",
    "StoreError",
    "clear_namespace",
    "default_store_url",
    "describe_store",
    "open_store",
]

DEFAULT_TIMEOUT_SECONDS = 2.0
# Query parameters this module reads itself; anything else is a typo and an error.
_OPTIONS = ("timeout", "prefix")


def _options(query: str) -> tuple[float, str]:
    raw = parse_qs(query, keep_blank_values=True)
    unknown = set(raw) - set(_OPTIONS)
    if unknown:
        raise ValueError(f"unknown store URL options: {', '.join(sorted(unknown))} (known: {', '.join(_OPTIONS)})")
    timeout = DEFAULT_TIMEOUT_SECONDS
    if "timeout" in raw:
        try:
            timeout = float(raw["timeout"][-1])
        except ValueError:
            raise ValueError(f"timeout must be a number of seconds, got {raw['timeout'][-1]!r}") from None
        if not 0 < timeout <= 3600:
            raise ValueError("timeout must be above 0 and at most 3600 seconds")
    return timeout, raw.get("prefix", [""])[-1]


def open_store(url: str) -> Store:
    """A Store for a URL; options in the query: timeout (seconds, default 2) and prefix (a key namespace).

    - memory://                      a dict in this process (tests, the simulator)
    - sqlite:///relative/file.db      SQLite, embedded, no server (sqlite:////abs/file.db for an absolute path)
    - redis://[:password@]host:port/db  a real Redis server; failures raise StoreError, never pass silently
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    timeout, prefix = _options(parts.query)
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        # Everything after "sqlite:///" is the path, so four slashes give an absolute one (SQLAlchemy's rule).
        path = url.split("?", 1)[0][len("sqlite:///") :] if url.lower().startswith("sqlite:///") else ""
        if not path:
            raise ValueError("a SQLite store URL needs a file: sqlite:///path/to/store.db")
        from mockgc.stores.sqlite import SQLiteStore

        return SQLiteStore(path, timeout=timeout, prefix=prefix)
    if scheme in ("redis", "rediss"):
        from mockgc.stores.redis import RedisStore

        return RedisStore(url, timeout=timeout, prefix=prefix)
    raise ValueError(f"unsupported store URL {url!r}: use memory://, sqlite:///file.db or redis://host:port/db")


def describe_store(url: str) -> str:
    """The URL without a password, for reports and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def default_store_url(out_dir: Path) -> str:
    """A live run's store when a mitigation needs one and none was given: SQLite in the run's directory."""
    return f"sqlite:///{(out_dir / 'store.db').resolve()}"


def clear_namespace(store_url: str, namespace: str) -> int:
    """Delete the namespace's keys (only those) from the run's store; memory:// has nothing to clear."""
    if store_url.startswith("memory:"):
        return 0
    store = open_store(store_url)
    try:
        return store.delete_prefix(namespace)
    finally:
        store.close()
