"""The one place where errors become the platform's JSON error body."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from mockgc.platform.api import sdkpaths
from mockgc.platform.domain.errors import (
    BadRequest,
    EntityTooLarge,
    HeadersTooLarge,
    InternalError,
    InvalidClient,
    MethodNotAllowed,
    NotFound,
    PlatformError,
    UnsupportedMediaType,
    UriTooLong,
)

log = logging.getLogger("mockgc.platform")

_HTTP_TO_PLATFORM: dict[int, type[PlatformError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: EntityTooLarge,
    414: UriTooLong,
    415: UnsupportedMediaType,
    431: HeadersTooLarge,
}


def error_body(error: PlatformError, context_id: str) -> dict[str, Any]:
    """The platform's JSON error body; the in-process transport answers with it too."""
    body: dict[str, Any] = {
        "message": error.message,
        "code": error.code,
        "status": error.status,
        "contextId": context_id,
        "details": error.details,
        "errors": [],
    }
    if error.message_with_params:
        body["messageWithParams"] = error.message_with_params
        body["messageParams"] = error.message_params or {}
    return body


def error_headers(error: PlatformError) -> dict[str, str]:
    return {} if error.retry_after is None else {"Retry-After": str(error.retry_after)}


def render(error: PlatformError) -> Response:
    response = jsonify(error_body(error, getattr(request, "correlation_id", "")))
    response.status_code = error.status
    response.headers.update(error_headers(error))
    return response


API_PREFIX = "/api/v2/"


def unrouted(method: str, path: str, mock_has_path: bool) -> PlatformError:
    """A request no route of the mock takes: 404 saying so when the platform has the operation (the mock
    does not model it), 405 when the platform (or the mock) has the path but not this method, else 404."""
    platform = sdkpaths.platform_methods(path)
    if method in platform or (method == "HEAD" and "GET" in platform):
        return NotFound(
            f"{method} {path} is a platform operation the mock does not model (see docs/not-modelled.md)",
            details=[{"errorCode": "mockgc.not.modelled"}],
        )
    if platform or mock_has_path:
        return MethodNotAllowed()
    return NotFound()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(PlatformError)
    def platform_error(error: PlatformError) -> Response:
        return render(error)

    @app.errorhandler(InvalidClient)
    def invalid_client(error: InvalidClient) -> Response:
        response = jsonify(
            {"error": error.error, "description": error.description, "error_description": error.description}
        )
        response.status_code = 400 if error.error == "unsupported_grant_type" else 401
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.code in (404, 405) and request.path.startswith(API_PREFIX):
            return render(unrouted(request.method, request.path, error.code == 405))
        mapped = _HTTP_TO_PLATFORM.get(error.code or 500)
        if mapped is None:
            status = error.code or 500
            fallback = InternalError(error.description or "request failed")
            fallback.status = status
            fallback.code = "internal.server.error" if status >= 500 else "bad.request"
            return render(fallback)
        return render(mapped())

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error while serving a request")
        return render(InternalError())
