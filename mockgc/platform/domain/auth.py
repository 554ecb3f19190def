"""Who may call the org: OAuth clients and their bearer tokens, and each token's rate limit."""

from __future__ import annotations

from dataclasses import dataclass

from mockgc.platform.domain.context import OrgContext, operation
from mockgc.platform.domain.errors import AuthenticationRequired, InvalidValue
from mockgc.platform.domain.oauth import OAuthClient, OAuthRegistry, Token
from mockgc.platform.domain.ratelimit import UNLIMITED_PER_MINUTE, RateLimiter, RateStatus
from mockgc.platform.settings import OrgSettings


@dataclass(frozen=True, slots=True)
class Access:
    """Who made an authenticated request, and the rate-limit state it leaves."""

    token: Token
    client: OAuthClient
    rate: RateStatus


def default_clients(settings: OrgSettings) -> OAuthRegistry:
    """A new org's registry: the settings' client, when it has a secret."""
    registry = OAuthRegistry(settings.token_ttl_seconds)
    if settings.client_secret:
        limit = settings.rate_limit_per_minute or None
        registry.add_client(OAuthClient(settings.client_id, settings.client_secret, "default client", limit))
    return registry


class Auth:
    def __init__(self, ctx: OrgContext, clients: OAuthRegistry) -> None:
        self.ctx = ctx
        self.oauth = clients
        self.rate_limiter = RateLimiter()

    @operation
    def issue_token(self, client_id: str, secret: str) -> Token:
        return self.oauth.issue(client_id, secret, self.ctx.clock.now())

    @operation
    def add_client(self, client_id: str, secret: str, rate_limit_per_minute: int | None) -> OAuthClient:
        if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
            raise InvalidValue("rateLimitPerMinute must be positive, or null for no limit")
        return self.oauth.add_client(OAuthClient(client_id, secret, client_id, rate_limit_per_minute))

    @operation
    def revoke_token(self, bearer: str) -> None:
        """DELETE /api/v2/tokens/me: the token that asks is revoked (it was authorized just before)."""
        self.oauth.revoke(bearer)

    @operation
    def authorize(self, bearer: str | None) -> Access:
        if not bearer:
            raise AuthenticationRequired()
        now = self.ctx.clock.now()
        token, client = self.oauth.authenticate(bearer, now)
        # An unlimited client is counted too: the platform always sends inin-ratelimit-*, and
        # clients pace themselves by them, so it sees its count against an allowance it never reaches.
        allowed = client.rate_limit_per_minute or UNLIMITED_PER_MINUTE
        return Access(token, client, self.rate_limiter.hit(token.value, allowed, now))
