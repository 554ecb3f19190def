"""Users: routing status and presence."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mockgc.platform.api.base import Answer, Body, Route
from mockgc.platform.domain.users import ROUTING_STATUSES

MAX_BULK_PRESENCES = 50
RoutingStatusName = Literal[ROUTING_STATUSES]  # type: ignore[valid-type]


# -- requests ------------------------------------------------------------------------------


class RoutingStatusBody(Body):
    status: RoutingStatusName
    userId: str | None = None


class PresenceDefinitionRef(Body):
    """A presence by its definition id or by its system presence's name."""

    id: str | None = None
    systemPresence: str | None = None


class PresenceBody(Body):
    presenceDefinition: PresenceDefinitionRef | None = None
    message: Annotated[str, Field(max_length=1024)] | None = None


class BulkPresenceBody(PresenceBody):
    id: str


BulkPresences = Annotated[list[BulkPresenceBody], Field(max_length=MAX_BULK_PRESENCES)]


# -- answers -------------------------------------------------------------------------------


class User(Answer):
    id: str
    name: str
    email: str
    state: str
    version: int
    selfUri: str


class MockUser(User):
    """A user as GET /mock/info shows it: with what only the mock knows."""

    mockgcScenarioStatus: str = Field(description="mock-only: the agent's status in the field report's terms")
    mockgcBusinessUnitId: str = Field(description="mock-only: the business unit the agent belongs to")


class UserListing(Answer):
    entities: list[User]
    pageSize: int
    pageNumber: int
    total: int
    pageCount: int


class RoutingStatus(Answer):
    userId: str
    status: RoutingStatusName
    startTime: str


class PresenceDefinition(Answer):
    id: str
    systemPresence: str
    selfUri: str


class UserPresence(Answer):
    id: str
    name: str
    source: str
    sourceId: str
    primary: bool
    presenceDefinition: PresenceDefinition
    message: str
    modifiedDate: str
    selfUri: str


USER = "/api/v2/users/{user_id}"

ROUTES = (
    Route("GET", "/api/v2/users", "getUsers", "List the org's users", "real", {200: UserListing}),
    Route(
        "GET", USER + "/routingstatus", "getUserRoutingstatus", "A user's routing status", "real", {200: RoutingStatus}
    ),
    Route(
        "PUT",
        USER + "/routingstatus",
        "putUserRoutingstatus",
        "Set a user's routing status",
        "real",
        {200: RoutingStatus},
        RoutingStatusBody,
    ),
    Route(
        "GET",
        USER + "/presences/{source_id}",
        "getUserPresence",
        "A user's presence from a source",
        "real",
        {200: UserPresence},
    ),
    Route(
        "PATCH",
        USER + "/presences/{source_id}",
        "patchUserPresence",
        "Change a user's presence",
        "real",
        {200: UserPresence},
        PresenceBody,
    ),
    Route(
        "PUT",
        "/api/v2/users/presences/bulk",
        "putUsersPresencesBulk",
        "Change many users' presences (the platform has no such PUT)",
        "mock-only",
        {200: list[UserPresence]},
        BulkPresences,
    ),
    Route(
        "PUT",
        "/api/v2/users/presences/{source_id}/bulk",
        "putUsersPresencesSourceBulk",
        "Change many users' presences from a source (the platform has no such PUT)",
        "mock-only",
        {200: list[UserPresence]},
        BulkPresences,
    ),
)
