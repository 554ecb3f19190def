"""Presence definitions and system presences: the org's presence ids, as a client discovers them."""

from __future__ import annotations

from mockgc.platform.api.base import Answer, Route
from mockgc.platform.api.paging import Paged, bool_query, choice_query, page_query


class OrganizationPresence(Answer):
    """GET /api/v2/presencedefinitions' entity (the SDK's OrganizationPresence)."""

    id: str
    languageLabels: dict[str, str]
    systemPresence: str
    deactivated: bool
    primary: bool
    selfUri: str


class OrganizationPresenceListing(Paged):
    entities: list[OrganizationPresence]


class OrganizationPresenceDefinition(Answer):
    """GET /api/v2/presence/definitions' entity (the SDK's OrganizationPresenceDefinition)."""

    id: str
    type: str
    languageLabels: dict[str, str]
    systemPresence: str
    deactivated: bool
    selfUri: str


class OrganizationPresenceDefinitionListing(Answer):
    total: int
    entities: list[OrganizationPresenceDefinition]
    selfUri: str


class SystemPresence(Answer):
    id: str
    name: str
    selfUri: str


ROUTES = (
    Route(
        "GET",
        "/api/v2/presencedefinitions",
        "getPresencedefinitions",
        "The org's presence definitions (the older listing, paged)",
        "real",
        {200: OrganizationPresenceListing},
        query=(*page_query(), choice_query("deleted", ["TRUE", "FALSE", "ALL"])),
    ),
    Route(
        "GET",
        "/api/v2/presencedefinitions/{presence_id}",
        "getPresencedefinition",
        "A presence definition (the older route)",
        "real",
        {200: OrganizationPresence},
    ),
    Route(
        "GET",
        "/api/v2/presence/definitions",
        "getPresenceDefinitions",
        "The org's presence definitions",
        "real",
        {200: OrganizationPresenceDefinitionListing},
        query=(bool_query("deactivated"),),
    ),
    Route(
        "GET",
        "/api/v2/presence/definitions/{definition_id}",
        "getPresenceDefinition",
        "A presence definition",
        "real",
        {200: OrganizationPresenceDefinition},
    ),
    Route(
        "GET",
        "/api/v2/systempresences",
        "getSystempresences",
        "The system presences",
        "real",
        {200: list[SystemPresence]},
    ),
)
