"""The OpenAPI 3.1 document of every route, generated from the route table and its pydantic models."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter

from mockgc.platform.api.base import ErrorBody, NoBody, Route

TITLE = "mockgc: the mock Genesys Cloud platform"
# The tag every operation has, besides its area: whether the real platform has it.
ORIGIN_TAGS = {
    "real": "A route of the real Genesys Cloud API (a subset of its fields and behaviour).",
    "mock-only": "Only the mock has this route: its admin API, the script engine, or an invented helper.",
}
# Path parameters with a shape of their own; every other one is a non-empty string.
PATH_PARAMS: dict[str, dict[str, Any]] = {
    "week_id": {
        "type": "string",
        "description": "The week's Monday, yyyy-MM-dd (the schedule listing also takes `recent`)",
        "example": "2026-11-23",
    },
}
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "bearer": [{"platformToken": []}],
    "admin": [{"adminKey": []}],
    "basic": [{"clientCredentials": []}],
    "none": [],
}
MEDIA = {"json": "application/json", "form": "application/x-www-form-urlencoded", "bytes": "application/json"}


def _area(route: Route) -> str:
    parts = [p for p in route.path.split("/") if p and not p.startswith("{")]
    if parts[0] == "mock":
        return "mock admin" if len(parts) < 2 or parts[1] != "webhooks" else "mock webhooks"
    if parts[0] in ("oauth", "uploads", "downloads"):
        return parts[0]
    return parts[2] if len(parts) > 2 else parts[-1]


def _error_statuses(route: Route) -> list[int]:
    statuses = set(route.errors)
    if route.path_params:
        statuses |= {400, 404}  # an id the mock does not know; a malformed week
    if route.query:
        statuses.add(400)
    if route.body is not None:
        statuses |= {400, 404, 413}  # 404: the body names an entity the mock does not know
        if route.payload == "json":
            statuses.add(415)
    if route.auth in ("bearer", "admin"):
        statuses |= {401}
    if route.auth == "bearer":
        statuses |= {429, 503}  # the org's rate limit; a toxic's injected outage
    statuses |= {405, 414, 431}  # any path: another method, an oversize URI or header block
    return sorted(s for s in statuses if s not in route.answers)


# Fields the SDK's documentation marks required (build/docs/<Model>.md: every property but these is
# "[optional]"), by the component that has the SDK model's shape. A component a real route answers with
# requires these and nothing else, so a client generated from the document accepts every answer the
# platform may send (Queue.description, Participant.connectedTime... are optional there).
SDK_REQUIRED: dict[str, tuple[str, ...]] = {
    "User": ("version",),
    "Conversation": ("startTime", "participants"),
    "BusinessUnitSettings": ("startDayOfWeek", "timeZone", "metadata"),
    "Version": ("version",),
    "Group": ("name", "type", "rulesVisible", "visibility"),
    "GroupRef": ("name", "type", "rulesVisible", "visibility"),
    "RoutingSkill": ("name",),
    "OrganizationPresence": ("languageLabels",),
    "OrganizationPresenceDefinition": ("languageLabels",),
    "UsersSearchResponse": ("total", "pageCount", "pageSize", "pageNumber", "types", "results"),
}
Refs = dict[tuple[tuple[str, str], str], dict[str, Any]]


def _schemas(routes: tuple[Route, ...]) -> tuple[Refs, dict[str, Any]]:
    """Every body's and answer's schema, one component each (pydantic's TypeAdapter.json_schemas)."""
    adapters: list[tuple[tuple[str, str], Any, TypeAdapter[Any]]] = []
    for route in routes:
        if route.body is not None:
            adapters.append(((route.name, "body"), "validation", TypeAdapter(route.body)))
        for status, model in route.answers.items():
            if model is not NoBody:
                adapters.append(((route.name, str(status)), "serialization", TypeAdapter(model)))
    adapters.append((("error", "body"), "serialization", TypeAdapter(ErrorBody)))
    refs, definitions = TypeAdapter.json_schemas(adapters, ref_template="#/components/schemas/{model}")
    return refs, definitions.get("$defs", {})


def _parameters(route: Route) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS.get(name, {"type": "string"})}
        for name in route.path_params
    ]
    return parameters + [
        {"name": q.name, "in": "query", "required": q.required, "schema": q.schema} for q in route.query
    ]


def _operation(route: Route, refs: Refs) -> dict[str, Any]:
    """One route as an OpenAPI operation: parameters, body, answers and the platform's refusals."""
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [_area(route), route.origin],
        "x-mockgc-origin": route.origin,
        "security": SECURITY[route.auth],
        "responses": {},
    }
    parameters = _parameters(route)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": route.body_required,
            "content": {MEDIA[route.payload]: {"schema": refs[((route.name, "body"), "validation")]}},
        }
    for status, model in route.answers.items():
        answer: dict[str, Any] = {"description": "OK" if status < 300 else "refused"}
        if model is not NoBody:
            answer["content"] = {"application/json": {"schema": refs[((route.name, str(status)), "serialization")]}}
        operation["responses"][str(status)] = answer
    for status in _error_statuses(route):
        operation["responses"][str(status)] = {"$ref": "#/components/responses/PlatformError"}
    return operation


def _referenced(schema: Any) -> set[str]:
    """The component names a schema refers to, directly."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        found = {ref.rsplit("/", 1)[-1]} if isinstance(ref, str) else set()
        return found.union(*(_referenced(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_referenced(item) for item in schema))
    return set()


def _require_as_the_sdk(routes: tuple[Route, ...], refs: Refs, schemas: dict[str, Any]) -> None:
    """Components reachable from a real route's answers require only what the SDK requires (SDK_REQUIRED)."""
    pending = set().union(
        *(
            _referenced(refs[((route.name, str(status)), "serialization")])
            for route in routes
            if route.origin == "real"
            for status, model in route.answers.items()
            if model is not NoBody
        )
    )
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        schema = schemas[name]
        required = [field for field in SDK_REQUIRED.get(name, ()) if field in schema.get("properties", {})]
        schema.pop("required", None)
        if required:
            schema["required"] = required
        pending |= _referenced(schema) - seen


@cache
def document() -> dict[str, Any]:
    """The whole document, generated from the route table and its models."""
    routes = ROUTES_FOR_DOC()
    refs, schemas = _schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
    _require_as_the_sdk(routes, refs, schemas)
    return _envelope(paths, schemas, refs[(("error", "body"), "serialization")])


def _envelope(paths: dict[str, Any], schemas: dict[str, Any], error_ref: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": "2",
            "description": (
                "Every route the mock serves. Operations tagged `real` are routes of the Genesys Cloud "
                "platform API (the subset of fields the mock sends is checked against the official SDK's "
                "models); `mock-only` ones exist only in the mock. Generated from mockgc/platform/api."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": text} for name, text in ORIGIN_TAGS.items()],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "PlatformError": {
                    "description": "Refused, with the platform's error body",
                    "content": {"application/json": {"schema": error_ref}},
                }
            },
            "securitySchemes": {
                "platformToken": {"type": "http", "scheme": "bearer", "description": "POST /oauth/token"},
                "adminKey": {"type": "http", "scheme": "bearer", "description": "The mock's admin key"},
                "clientCredentials": {"type": "http", "scheme": "basic"},
            },
        },
    }


def ROUTES_FOR_DOC() -> tuple[Route, ...]:
    from mockgc.platform.api import ROUTES

    return ROUTES
