"""The mock's contract, Flask-free: each area's request and answer models and its routes, in one table.

The HTTP layer validates request bodies with these models (`http/body.py`), the OpenAPI document is
generated from them (`openapi.py`), and tests/platform/test_contract.py keeps the table and the Flask app in step.
"""

from __future__ import annotations

from mockgc.platform.api import (
    admin,
    analytics,
    conversations,
    groups,
    notifications,
    oauth,
    presence,
    routing,
    scripts,
    users,
    wfm,
)
from mockgc.platform.api.base import Answer, Route

DOCS_PATH = "/api/v2/docs/openapi.json"


class OpenApiDocument(Answer, extra="allow"):
    """This document (OpenAPI 3.1)."""

    openapi: str


DOCS_ROUTES = (
    Route(
        "GET",
        DOCS_PATH,
        "getOpenapiDocument",
        "This document: every route of the mock",
        "mock-only",
        {200: OpenApiDocument},
        auth="none",
    ),
)

# Every route the mock serves, area by area: the one table the document and the validation read.
ROUTES: tuple[Route, ...] = (
    *oauth.ROUTES,
    *users.ROUTES,
    *presence.ROUTES,
    *routing.ROUTES,
    *groups.ROUTES,
    *conversations.ROUTES,
    *analytics.ROUTES,
    *scripts.ROUTES,
    *wfm.ROUTES,
    *notifications.ROUTES,
    *admin.ROUTES,
    *DOCS_ROUTES,
)

# (method, Flask rule) -> route: how a request finds its row.
BY_RULE: dict[tuple[str, str], Route] = {(route.method, route.rule): route for route in ROUTES}
