"""OAuth client credentials, and revoking the token in use."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from mockgc.platform.api.base import Answer, NoBody, OAuthError, Route


class TokenForm(BaseModel):
    """The token request's form; the client's credentials come as HTTP Basic (or client_id/client_secret)."""

    model_config = ConfigDict(extra="allow")
    grant_type: Literal["client_credentials"]
    client_id: str | None = None
    client_secret: str | None = None


class Token(Answer):
    access_token: str
    token_type: str
    expires_in: int


ROUTES = (
    Route(
        "POST",
        "/oauth/token",
        "postOauthToken",
        "A token for client credentials",
        "real",
        {200: Token, 400: OAuthError, 401: OAuthError},
        TokenForm,
        auth="basic",
        payload="form",
    ),
    Route("DELETE", "/api/v2/tokens/me", "deleteTokensMe", "Revoke the token of this request", "real", {204: NoBody}),
)
