"""Typed platform errors, each carrying the HTTP status and Genesys error code it maps to."""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Base of every error the mock answers with: a status and a Genesys code; http/errors.py renders it."""

    status: int = 500
    code: str = "internal.server.error"
    default_message: str = "The server encountered an internal error."
    retry_after: int | None = None  # seconds a client should wait (Retry-After), for a 429 or 503

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        message_params: dict[str, str] | None = None,
        message_with_params: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        self.details = details or []
        self.message_params = message_params
        self.message_with_params = message_with_params


class BadRequest(PlatformError):
    status, code, default_message = 400, "bad.request", "The request could not be understood."


class InvalidValue(PlatformError):
    status, code, default_message = 400, "invalid.value", "A value in the request is invalid."


class SessionLocked(BadRequest):
    """The scenario's failure: a WFM publish holds the agent's session object."""

    def __init__(self, session_id: str, agent_id: str, operation_id: str, until: float) -> None:
        super().__init__(
            f"Script session {session_id} is locked: agent {agent_id} is held by "
            f"WFM schedule publish operation {operation_id}",
            details=[
                {
                    "errorCode": "script.session.locked",
                    "fieldName": "sessionId",
                    "entityId": session_id,
                    "entityName": "scriptSession",
                    "lock": {
                        "kind": "wfm.schedule.publish",
                        "operationId": operation_id,
                        "userId": agent_id,
                        "heldUntilEpochMs": int(until * 1000),
                    },
                }
            ],
        )


class SessionInvalidated(BadRequest):
    """A status transition dropped the session's context; the client must re-attach."""

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"Script session {session_id} context was invalidated by a status change; re-attach",
            details=[{"errorCode": "script.session.invalidated", "entityId": session_id}],
        )


class AuthenticationRequired(PlatformError):
    status, code, default_message = (
        401,
        "authentication.required",
        "No authentication bearer token specified in authorization header.",
    )


class BadCredentials(PlatformError):
    status, code, default_message = 401, "bad.credentials", "Invalid login credentials."


class NotFound(PlatformError):
    status, code, default_message = 404, "not.found", "The requested resource was not found."


class MethodNotAllowed(PlatformError):
    status, code, default_message = 405, "method.not.allowed", "The HTTP method is not supported for this resource."


class Conflict(PlatformError):
    status, code, default_message = (
        409,
        "request.conflict",
        "The request conflicts with the current state of the resource.",
    )


class EntityTooLarge(PlatformError):
    status, code, default_message = (
        413,
        "request.entity.too.large",
        "The request is over the size limit. Maximum bytes: 512000",
    )


class UriTooLong(PlatformError):
    status, code, default_message = 414, "request.uri.too.long", "The request URI is over the size limit."


class HeadersTooLarge(PlatformError):
    status, code, default_message = (
        431,
        "request.header.fields.too.large",
        "The request's header fields are over the size limit.",
    )


class UnsupportedMediaType(PlatformError):
    status, code, default_message = (
        415,
        "unsupported.media.type",
        "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect character set.",
    )


class TooManyRequests(PlatformError):
    status, code = 429, "too.many.requests.retry.after"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(
            f"Rate limit exceeded the maximum. Retry the request in [{self.retry_after}] seconds",
            message_with_params="Rate limit exceeded the maximum. Retry the request in [{retryAfter}] seconds",
            message_params={"retryAfter": str(self.retry_after)},
        )


class ServiceUnavailable(PlatformError):
    status, code, default_message = (
        503,
        "service.unavailable",
        "Service Unavailable - The server is currently unavailable.",
    )


class InternalError(PlatformError):
    status, code, default_message = 500, "internal.server.error", "The server encountered an unexpected condition."


class InvalidClient(Exception):
    """OAuth's own error shape ({error, description, error_description}), not the API error body."""

    status = 401

    def __init__(self, description: str = "client not found", error: str = "invalid_client") -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class InjectedError(PlatformError):
    """An error a toxic injects, with whatever status and code it was configured with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code = status, code
        super().__init__(message)
