"""Users: routing status and presence."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field

from mockgc.platform.api.base import Answer, Body, DateTime, Query, Route
from mockgc.platform.api.paging import EXPAND_QUERY, SORT_QUERY, Paged, choice_query, ids_query, page_query
from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.paging import PageRequest
from mockgc.platform.domain.users import ROUTING_STATUSES, USER_EXPANDS, NewUser, UserChange, UserSearch
from mockgc.platform.domain.usersearch import SEARCH_FIELDS, SEARCH_TYPES, Criterion

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
MAX_SEARCH_PAGE = 100  # a search pages at most 100 at a time
MAX_CRITERIA_DEPTH = 5  # groups within groups
Text = Annotated[str, Field(max_length=256)]
Email = Annotated[str, Field(min_length=3, max_length=256, pattern=r"^[^@\s]+@[^@\s]+$")]
Phone = Annotated[str, Field(min_length=1, max_length=64)]


class UserSearchCriteria(Body):
    type: Literal[(*SEARCH_TYPES, "REGEX", "QUERY_STRING")]  # type: ignore[valid-type]
    fields: Annotated[list[Literal[SEARCH_FIELDS]], Field(max_length=len(SEARCH_FIELDS))] | None = None  # type: ignore[valid-type]
    value: Text | None = None
    values: Annotated[list[Text], Field(max_length=100)] | None = None
    startValue: Text | None = None
    endValue: Text | None = None
    operator: Literal["AND", "OR", "NOT"] | None = None
    group: Annotated[list[UserSearchCriteria], Field(max_length=20)] | None = None
    dateFormat: Text | None = None


class SearchSort(Body):
    sortOrder: Literal["ASC", "DESC", "SCORE"] | None = None
    sortBy: Literal[SEARCH_FIELDS] | None = None  # type: ignore[valid-type]


class UserSearchRequest(Body):
    sortOrder: Literal["ASC", "DESC", "SCORE"] | None = None
    sortBy: Literal[SEARCH_FIELDS] | None = None  # type: ignore[valid-type]
    pageSize: Annotated[int, Field(ge=1, le=MAX_SEARCH_PAGE)] | None = None
    pageNumber: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    sort: Annotated[list[SearchSort], Field(max_length=5)] | None = None
    expand: Annotated[list[Literal[tuple(sorted(USER_EXPANDS))]], Field(max_length=len(USER_EXPANDS))] | None = None  # type: ignore[valid-type]
    query: Annotated[list[UserSearchCriteria], Field(max_length=20)] | None = None
    enforcePermissions: bool | None = None


class Contact(Body):
    address: Phone | None = None
    display: Text | None = None
    mediaType: Literal["PHONE", "EMAIL", "SMS"] | None = None
    type: Literal["PRIMARY", "WORK", "WORK2", "WORK3", "WORK4", "HOME", "MOBILE", "MAIN", "OTHER"] | None = None
    extension: Text | None = None
    countryCode: Text | None = None


UserState = Literal["active", "inactive", "deleted"]


class CreateUser(Body):
    name: Annotated[str, Field(min_length=1, max_length=256)]
    email: Email
    divisionId: Text | None = None
    department: Text | None = None
    title: Text | None = None
    password: Annotated[str, Field(max_length=256)] | None = None
    addresses: Annotated[list[Contact], Field(max_length=20)] | None = None
    state: Literal["active", "inactive"] | None = None


class UpdateUser(Body):
    version: Annotated[int, Field(ge=1)]
    name: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    email: Email | None = None
    department: Text | None = None
    title: Text | None = None
    addresses: Annotated[list[Contact], Field(max_length=20)] | None = None
    state: Literal["active", "inactive"] | None = None
    acdAutoAnswer: bool | None = None


class VoicemailUserPolicyUpdate(Body):
    """The VoicemailUserPolicy a PATCH sends: any of its fields (the pin is kept, never shown)."""

    enabled: bool | None = None
    alertTimeoutSeconds: Annotated[int, Field(ge=0, le=3600)] | None = None
    sendEmailNotifications: bool | None = None
    pin: Annotated[str, Field(min_length=4, max_length=16, pattern=r"^[0-9]+$")] | None = None


# -- answers -------------------------------------------------------------------------------


class RoutingStatus(Answer):
    userId: str
    status: RoutingStatusName
    startTime: DateTime


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
    modifiedDate: DateTime
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
    department: str | None = None
    title: str | None = None
    routingStatus: RoutingStatus | None = Field(None, description="with expand=routingStatus")
    presence: UserPresence | None = Field(None, description="with expand=presence")
    groups: list[GroupRef] | None = Field(None, description="with expand=groups")
    skills: list[UserSkill] | None = Field(None, description="with expand=skills")
    dateLastLogin: DateTime | None = Field(None, description="with expand=dateLastLogin")
    selfUri: str


class UserEntityListing(Paged):
    entities: list[User]


class UsersSearchResponse(Answer):
    total: int
    pageCount: int
    pageSize: int
    pageNumber: int
    previousPage: str | None = None
    currentPage: str | None = None
    nextPage: str | None = None
    types: list[str]
    results: list[User]


class VoicemailUserPolicy(Answer):
    enabled: bool
    alertTimeoutSeconds: int
    sendEmailNotifications: bool
    modifiedDate: DateTime


class Empty(Answer):
    """The platform's empty object (DELETE /api/v2/users/{id} answers {})."""


class UcUserPresence(Answer):
    userId: str
    source: str
    sourceId: str
    presenceDefinition: PresenceDefinition
    message: str
    modifiedDate: DateTime


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
        {200: UserEntityListing},
        query=(
            *page_query(),
            ids_query(),
            EXPAND_QUERY,
            SORT_QUERY,
            choice_query("state", ["active", "inactive", "deleted", "any"]),
        ),
    ),
    Route("POST", "/api/v2/users", "postUsers", "Create a user", "real", {200: User}, CreateUser, errors=(409,)),
    Route(
        "POST",
        "/api/v2/users/search",
        "postUsersSearch",
        "Search users: criteria of a type, fields and value(s); sorted, expanded, paged",
        "real",
        {200: UsersSearchResponse},
        UserSearchRequest,
    ),
    Route(
        "GET",
        "/api/v2/users/search",
        "getUsersSearch",
        "A search's page again, from its q64 (previousPage, currentPage, nextPage)",
        "real",
        {200: UsersSearchResponse},
        query=(Query("q64", {"type": "string", "minLength": 1, "maxLength": 6000}, required=True), EXPAND_QUERY),
    ),
    Route("GET", USER, "getUser", "A user", "real", {200: User}, query=(EXPAND_QUERY,)),
    Route(
        "PATCH",
        USER,
        "patchUser",
        "Change a user (with its current version)",
        "real",
        {200: User},
        UpdateUser,
        errors=(409,),
    ),
    Route("DELETE", USER, "deleteUser", "Delete a user", "real", {200: Empty}),
    Route(
        "GET",
        "/api/v2/voicemail/userpolicies/{user_id}",
        "getVoicemailUserpolicy",
        "A user's voicemail policy",
        "real",
        {200: VoicemailUserPolicy},
    ),
    Route(
        "PATCH",
        "/api/v2/voicemail/userpolicies/{user_id}",
        "patchVoicemailUserpolicy",
        "Change a user's voicemail policy",
        "real",
        {200: VoicemailUserPolicy},
        VoicemailUserPolicyUpdate,
    ),
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


# -- parsing -------------------------------------------------------------------------------


def _phone(body: dict[str, Any]) -> str | None:
    """The first PHONE address of a CreateUser or UpdateUser (the mock keeps one work phone)."""
    for contact in body.get("addresses") or ():
        if contact.get("mediaType", "PHONE") == "PHONE" and contact.get("address"):
            return str(contact["address"])
    return None


def parse_new_user(body: dict[str, Any]) -> NewUser:
    """A checked CreateUser body."""
    return NewUser(
        body["name"],
        body["email"],
        body.get("divisionId"),
        body.get("department") or "",
        body.get("title") or "",
        _phone(body),
        body.get("state") or "active",
    )


def parse_user_change(body: dict[str, Any]) -> UserChange:
    """A checked UpdateUser body: `version` and the fields to change."""
    return UserChange(
        body["version"],
        body.get("name"),
        body.get("email"),
        body.get("department"),
        body.get("title"),
        _phone(body),
        body.get("state"),
        body.get("acdAutoAnswer"),
    )


def _criterion(body: dict[str, Any], depth: int) -> Criterion:
    kind = body["type"]
    if kind in ("REGEX", "QUERY_STRING"):
        raise InvalidValue(f"the mock does not model {kind} searches", details=[{"fieldName": "query.type"}])
    if depth > MAX_CRITERIA_DEPTH:
        raise InvalidValue(f"groups nest at most {MAX_CRITERIA_DEPTH} deep", details=[{"fieldName": "query.group"}])
    group = tuple(_criterion(c, depth + 1) for c in body.get("group") or ())
    values = tuple(body.get("values") or ()) + ((body["value"],) if body.get("value") is not None else ())
    fields = tuple(body.get("fields") or ())
    needs_fields = not group and kind != "MATCH_ALL"
    if needs_fields and not fields:
        raise InvalidValue(f"a {kind} criterion names its fields", details=[{"fieldName": "query.fields"}])
    ranged = kind == "RANGE" and (body.get("startValue") or body.get("endValue"))
    if needs_fields and kind != "REQUIRED_FIELDS" and not values and not ranged:
        raise InvalidValue(f"a {kind} criterion needs value or values", details=[{"fieldName": "query.value"}])
    return Criterion(
        kind, fields, values, body.get("startValue"), body.get("endValue"), body.get("operator") or "AND", group
    )


def parse_user_search(body: dict[str, Any]) -> tuple[UserSearch, frozenset[str]]:
    """A checked UserSearchRequest: the search and its expand."""
    sort = (body.get("sort") or [{}])[0]
    sort_by = body.get("sortBy") or sort.get("sortBy") or "name"
    order = body.get("sortOrder") or sort.get("sortOrder") or "ASC"
    page = PageRequest(body.get("pageSize") or 25, body.get("pageNumber") or 1)
    criteria = tuple(_criterion(c, 1) for c in body.get("query") or ())
    return UserSearch(criteria, sort_by, order == "DESC", page), frozenset(body.get("expand") or ())


def search_q64(body: dict[str, Any], page_number: int) -> str:
    """The q64 of a search's page: the request as base64 JSON, with that page number."""
    # URL-safe, so a client that puts it in a query string unquoted still sends it whole.
    text = json.dumps(body | {"pageNumber": page_number}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]+=*$")


def parse_q64(text: str) -> dict[str, Any]:
    """GET /api/v2/users/search?q64=: the request a previousPage, currentPage or nextPage encodes."""
    try:
        if not _BASE64.match(text):
            raise ValueError("not base64")
        decoded = json.loads(
            base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)
        )
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise InvalidValue("q64 is not a search this mock gave", details=[{"fieldName": "q64"}]) from None
    if not isinstance(decoded, dict):
        raise InvalidValue("q64 is not a search this mock gave", details=[{"fieldName": "q64"}])
    return decoded


def parse_voicemail_policy(body: dict[str, Any]) -> dict[str, object]:
    """A checked VoicemailUserPolicy PATCH: its fields as the domain names them."""
    names = {
        "enabled": "enabled",
        "alertTimeoutSeconds": "alert_timeout_seconds",
        "sendEmailNotifications": "send_email_notifications",
        "pin": "pin",
    }
    changes = {names[key]: value for key, value in body.items() if key in names and value is not None}
    if not changes:
        raise InvalidValue("nothing to change: give enabled, alertTimeoutSeconds, sendEmailNotifications or pin")
    return changes
