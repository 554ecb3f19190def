"""OAuth client credentials: POST /oauth/token, and DELETE /api/v2/tokens/me to revoke a token."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import InvalidClient
from mockgc.platform.http.body import backend

bp = Blueprint("oauth", __name__)


def _credentials() -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidClient("malformed basic authorization header") from None
        return client_id, secret
    if "client_id" in request.form:
        return request.form["client_id"], request.form.get("client_secret", "")
    raise InvalidClient("client credentials are required (HTTP Basic authorization)")


@bp.post("/oauth/token")
def token() -> ResponseReturnValue:
    if request.form.get("grant_type") != "client_credentials":
        raise InvalidClient("only grant_type=client_credentials is supported", error="unsupported_grant_type")
    client_id, secret = _credentials()
    auth = backend().auth
    issued = auth.issue_token(client_id, secret)
    ttl = auth.oauth.token_ttl_seconds
    return jsonify(access_token=issued.value, token_type="bearer", expires_in=ttl)


@bp.delete("/api/v2/tokens/me")
def delete_token() -> ResponseReturnValue:
    """The platform's "delete auth token used to make the request"; the app's hook authorized it."""
    backend().auth.revoke_token(str(request.token))  # type: ignore[attr-defined]
    return "", 204
