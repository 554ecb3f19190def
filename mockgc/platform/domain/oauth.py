"""OAuth client-credentials clients and bearer tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mockgc.platform.domain.errors import BadCredentials, InvalidClient
from mockgc.platform.domain.ratelimit import RateLimiter

# Live tokens a client may hold: a Locust user logs in once, so this is far above any run's users
# (2,000 at most measured); past it the client's oldest token is revoked, as OAuth servers that cap
# tokens do. A token costs ~370 bytes: 10,000 is ~4 MB a client.
MAX_TOKENS_PER_CLIENT = 10_000
# Token requests a client may make in a minute (a 2,000-user run logs in within seconds).
TOKEN_REQUESTS_PER_MINUTE = 6_000
# Refused token requests a minute, all clients together: the bucket is shared so that a stranger
# naming made-up client ids allocates nothing per id.
FAILED_TOKEN_REQUESTS_PER_MINUTE = 600
# One answer for an unknown client and a wrong secret: telling them apart tells a stranger which
# client ids exist.
REFUSED = "client authentication failed"
_NO_SECRET = secrets.token_bytes(32)  # compared against when the client is unknown, so both take as long


@dataclass(slots=True)
class OAuthClient:
    """A client-credentials grant; `rate_limit_per_minute` None means unlimited."""

    client_id: str
    secret: str
    name: str
    rate_limit_per_minute: int | None = 300


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    client_id: str
    expires_at: float


class OAuthRegistry:
    """Clients by id and the tokens issued to them; expired tokens are forgotten as new ones are issued."""

    def __init__(self, token_ttl_seconds: int) -> None:
        self.token_ttl_seconds = token_ttl_seconds
        self.clients: dict[str, OAuthClient] = {}
        # Both in issue order: with one TTL, the oldest token is the first to expire.
        self._tokens: dict[str, Token] = {}
        self._by_client: dict[str, dict[str, None]] = {}
        self._requests = RateLimiter()

    @property
    def token_count(self) -> int:
        return len(self._tokens)

    def add_client(self, client: OAuthClient) -> OAuthClient:
        """Register or replace a client; a new secret (a rotation) revokes every token the old one got."""
        previous = self.clients.get(client.client_id)
        if previous is not None and not secrets.compare_digest(previous.secret.encode(), client.secret.encode()):
            self.revoke_client(client.client_id)
        self.clients[client.client_id] = client
        return client

    def revoke(self, value: str) -> None:
        token = self._tokens.pop(value, None)
        if token is not None:
            self._by_client[token.client_id].pop(value, None)

    def revoke_client(self, client_id: str) -> None:
        for value in self._by_client.pop(client_id, {}):
            del self._tokens[value]

    def issue(self, client_id: str, secret: str, now: float) -> Token:
        client = self.clients.get(client_id)
        # Compare bytes: compare_digest raises TypeError on non-ASCII str.
        expected = client.secret.encode() if client is not None else _NO_SECRET
        if not secrets.compare_digest(expected, secret.encode()) or client is None:
            self._requests.hit("refused", FAILED_TOKEN_REQUESTS_PER_MINUTE, now)
            raise InvalidClient(REFUSED)
        self._requests.hit(f"client:{client_id}", TOKEN_REQUESTS_PER_MINUTE, now)
        self._forget_expired(now)
        held = self._by_client.setdefault(client_id, {})
        while len(held) >= MAX_TOKENS_PER_CLIENT:
            self.revoke(next(iter(held)))
        token = Token(secrets.token_urlsafe(32), client_id, now + self.token_ttl_seconds)
        self._tokens[token.value] = token
        held[token.value] = None
        return token

    def _forget_expired(self, now: float) -> None:
        """Forget tokens from the oldest on while they are expired: amortized O(1) an issue."""
        while self._tokens:
            value, token = next(iter(self._tokens.items()))
            if now < token.expires_at:
                return
            self.revoke(value)

    def is_live(self, value: str, now: float) -> bool:
        token = self._tokens.get(value)
        return token is not None and now < token.expires_at

    def authenticate(self, value: str, now: float) -> tuple[Token, OAuthClient]:
        token = self._tokens.get(value)
        if token is None:
            raise BadCredentials("Invalid login credentials.")
        if now >= token.expires_at:
            self.revoke(value)
            raise BadCredentials("The bearer token has expired.")
        return token, self.clients[token.client_id]
