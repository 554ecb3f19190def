"""OAuth client-credentials clients and bearer tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mockgc.platform.domain.errors import BadCredentials, InvalidClient


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
    """Clients by id and the tokens issued to them."""

    def __init__(self, token_ttl_seconds: int) -> None:
        self.token_ttl_seconds = token_ttl_seconds
        self.clients: dict[str, OAuthClient] = {}
        self._tokens: dict[str, Token] = {}

    def add_client(self, client: OAuthClient) -> OAuthClient:
        """Register or replace a client; a new secret (a rotation) revokes every token the old one got."""
        previous = self.clients.get(client.client_id)
        if previous is not None and not secrets.compare_digest(previous.secret.encode(), client.secret.encode()):
            self.revoke_client(client.client_id)
        self.clients[client.client_id] = client
        return client

    def revoke(self, value: str) -> None:
        self._tokens.pop(value, None)

    def revoke_client(self, client_id: str) -> None:
        for value in [value for value, token in self._tokens.items() if token.client_id == client_id]:
            del self._tokens[value]

    def issue(self, client_id: str, secret: str, now: float) -> Token:
        client = self.clients.get(client_id)
        # Compare bytes: compare_digest raises TypeError on non-ASCII str.
        if client is None or not secrets.compare_digest(client.secret.encode(), secret.encode()):
            raise InvalidClient("client not found" if client is None else "invalid client secret")
        token = Token(secrets.token_urlsafe(32), client_id, now + self.token_ttl_seconds)
        self._tokens[token.value] = token
        return token

    def authenticate(self, value: str, now: float) -> tuple[Token, OAuthClient]:
        token = self._tokens.get(value)
        if token is None:
            raise BadCredentials("Invalid login credentials.")
        if now >= token.expires_at:
            del self._tokens[value]
            raise BadCredentials("The bearer token has expired.")
        return token, self.clients[token.client_id]
