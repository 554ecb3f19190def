"""The contract's building blocks: request and answer models, the platform's error body, and a route's row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, WithJsonSchema

Origin = Literal["real", "mock-only"]
Auth = Literal["bearer", "admin", "basic", "none"]
Payload = Literal["json", "form", "bytes", "none"]

# The script engine's bounds on a variable (http/fields.py checks them too, from here).
MAX_VARIABLE_NAME = 128
MAX_VARIABLE_VALUE = 4096


# Timestamps in answers: sent as ISO-8601 text, documented with their format, so a generated client
# reads them as the SDK does (a datetime, a date).
DateTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Date = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


class Body(BaseModel):
    """A request body. Strict (a string is never an int), and unknown fields pass, as on the platform."""

    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True, defer_build=True)


class Answer(BaseModel):
    """An answer body: every field the mock sends is declared, so the fuzzer's schema check catches drift."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class ErrorBody(Answer):
    """The platform's error body (errors.error_body): every 4xx and 5xx of an /api/v2 route has it."""

    message: str
    code: str
    status: int
    contextId: str
    details: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    messageWithParams: str | None = None
    messageParams: dict[str, Any] | None = None


class OAuthError(Answer):
    """OAuth's own error shape (RFC 6749 §5.2), which /oauth/token answers with instead."""

    error: str
    description: str
    error_description: str


class NoBody(BaseModel):
    """Marks an answer without a body (204, or a 200/202 the platform sends empty)."""


@dataclass(frozen=True)
class Query:
    """One query parameter: its name, JSON-schema type, and whether it must be given."""

    name: str
    schema: dict[str, Any]
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Route:
    """One row of the contract: the operation, what it takes, what it answers, and whose it is.

    `path` is the Flask rule written with braces: `/api/v2/users/{user_id}` is `<user_id>` in the
    blueprint (tests/platform/test_contract.py holds the two in step). `answers` maps each success status to
    its model; `errors` lists the statuses the route itself may refuse with (the platform's body);
    authentication, rate-limit and body-size refusals are added from `auth` and `payload`.
    """

    method: str
    path: str
    name: str
    summary: str
    origin: Origin
    answers: dict[int, type[BaseModel]]
    body: type[BaseModel] | Any | None = None
    errors: tuple[int, ...] = ()
    auth: Auth = "bearer"
    payload: Payload = "json"
    query: tuple[Query, ...] = ()
    body_required: bool = True

    @property
    def rule(self) -> str:
        """The Flask rule of this route."""
        return re.sub(r"\{([^}]+)\}", r"<\1>", self.path)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.path)
