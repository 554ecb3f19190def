"""A real Redis server as the store: short timeouts, no silent client-side retries, errors as StoreError."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from mockgc.stores.base import StoreError

_SCAN_BATCH = 500


class RedisStore:
    """GET/SET on plain string keys under an optional prefix.

    The client is built with retries switched off: a store that is down or slow must show up
    as a failed call within `timeout`, not be papered over by redis-py's own retry loop.
    """

    def __init__(self, url: str, *, timeout: float = 2.0, prefix: str = "") -> None:
        parts = urlsplit(url)
        self.url = urlunsplit(parts._replace(query=""))
        self.prefix = prefix
        try:
            self._client: redis.Redis = redis.Redis.from_url(
                self.url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                decode_responses=True,
            )
        except ValueError as error:
            raise ValueError(f"bad Redis URL {url!r}: {error}") from None

    def put(self, key: str, value: str) -> None:
        try:
            self._client.set(self.prefix + key, value)
        except redis.RedisError as error:
            raise StoreError(f"redis: {type(error).__name__}: {error}") from None

    def get(self, key: str) -> str | None:
        try:
            value = self._client.get(self.prefix + key)
        except redis.RedisError as error:
            raise StoreError(f"redis: {type(error).__name__}: {error}") from None
        return None if value is None else str(value)

    def items(self, prefix: str = "") -> dict[str, str]:
        pattern = _glob_escape(self.prefix + prefix) + "*"
        try:
            keys = sorted(self._client.scan_iter(match=pattern, count=_SCAN_BATCH))
            found: dict[str, str] = {}
            for first in range(0, len(keys), _SCAN_BATCH):
                batch = keys[first : first + _SCAN_BATCH]
                for key, value in zip(batch, self._client.mget(batch), strict=True):
                    if value is not None:  # deleted between SCAN and MGET
                        found[key[len(self.prefix) :]] = value
            return found
        except redis.RedisError as error:
            raise StoreError(f"redis: {type(error).__name__}: {error}") from None

    def delete_prefix(self, prefix: str) -> int:
        try:
            keys = list(self._client.scan_iter(match=_glob_escape(self.prefix + prefix) + "*", count=_SCAN_BATCH))
            return int(self._client.delete(*keys)) if keys else 0
        except redis.RedisError as error:
            raise StoreError(f"redis: {type(error).__name__}: {error}") from None

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r})"


def _glob_escape(text: str) -> str:
    """Redis MATCH is a glob: escape its special characters so a prefix matches only itself."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
