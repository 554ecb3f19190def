"""Users: routing status and presence."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mockgc.platform.api.base import Answer, Body, Route
from mockgc.platform.api.paging import EXPAND_QUERY, SORT_QUERY, Paged, choice_query, ids_query, page_query
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
    primary: bool | None = None


class BulkPresenceBody(PresenceBody):
    id: str


BulkPresences = Annotated[list[BulkPresenceBody], Field(max_length=MAX_BULK_PRESENCES)]


# -- answers -------------------------------------------------------------------------------


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


class Division(Answer):
    id: str
    name: str
    selfUri: str


class ContactInfo(Answer):
    address: str
    mediaType: str
    type: str


class GroupRef(Answer):
    """A group of the user's (expand=groups): the SDK's Group with its required fields."""

    id: str
    name: str
    type: str
    rulesVisible: bool
    visibility: str
    selfUri: str


class UserSkill(Answer):
    id: str
    name: str
    proficiency: float
    state: str
    skillUri: str
    selfUri: str


class User(Answer):
    """The SDK's User: the fields the mock models, the expanded ones only when asked for."""

    id: str
    name: str
    division: Division
    email: str
    primaryContactInfo: list[ContactInfo]
    addresses: list[dict[str, Any]]
    state: str
    username: str
    version: int
    acdAutoAnswer: bool
    routingStatus: RoutingStatus | None = Field(None, description="with expand=routingStatus")
    presence: UserPresence | None = Field(None, description="with expand=presence")
    groups: list[GroupRef] | None = Field(None, description="with expand=groups")
    skills: list[UserSkill] | None = Field(None, description="with expand=skills")
    dateLastLogin: str | None = Field(None, description="with expand=dateLastLogin")
    selfUri: str


class UserListing(Paged):
    entities: list[User]


class UcUserPresence(Answer):
    userId: str
    source: str
    sourceId: str
    presenceDefinition: PresenceDefinition
    message: str
    modifiedDate: str


class MockUser(User):
    """A user as GET /mock/info shows it: with what only the mock knows."""

    mockgcScenarioStatus: str = Field(description="mock-only: the agent's status in the field report's terms")
    mockgcBusinessUnitId: str = Field(description="mock-only: the business unit the agent belongs to")


USER = "/api/v2/users/{user_id}"

ROUTES = (
    Route(
        "GET",
        "/api/v2/users",
        "getUsers",
        "The org's users, paged",
        "real",
        {200: UserListing},
        query=(
            *page_query(),
            ids_query(),
            EXPAND_QUERY,
            SORT_QUERY,
            choice_query("state", ["active", "inactive", "deleted", "any"]),
        ),
    ),
    Route("GET", USER, "getUser", "A user", "real", {200: User}, query=(EXPAND_QUERY,)),
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
        "Change many users' presences",
        "real",
        {200: list[UserPresence]},
        BulkPresences,
    ),
    Route(
        "GET",
        "/api/v2/users/presences/{source_id}/bulk",
        "getUsersPresenceBulk",
        "Many users' presences from a source (purecloud)",
        "real",
        {200: list[UcUserPresence]},
        query=(ids_query(),),
    ),
)
