"""Groups: the org's groups and each group."""

from __future__ import annotations

from mockgc.platform.api.base import Answer, DateTime, Route
from mockgc.platform.api.paging import SORT_QUERY, Paged, ids_query, page_query


class Group(Answer):
    id: str
    name: str
    description: str
    dateModified: DateTime
    memberCount: int
    state: str
    version: int
    type: str
    rulesVisible: bool
    visibility: str
    rolesEnabled: bool
    callsEnabled: bool
    selfUri: str


class GroupListing(Paged):
    entities: list[Group]


ROUTES = (
    Route(
        "GET",
        "/api/v2/groups",
        "getGroups",
        "The org's groups",
        "real",
        {200: GroupListing},
        query=(*page_query(), ids_query(), SORT_QUERY),
    ),
    Route("GET", "/api/v2/groups/{group_id}", "getGroup", "A group", "real", {200: Group}),
)
