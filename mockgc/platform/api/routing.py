"""Routing: skills, queues and their members."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mockgc.platform.api.base import Answer, Body, DateTime, NoBody, Route
from mockgc.platform.api.paging import (
    EXPAND_QUERY,
    QUEUE_SORT_QUERY,
    Paged,
    PagedUncounted,
    bool_query,
    ids_query,
    page_query,
    text_query,
)
from mockgc.platform.api.users import Division, RoutingStatus, User
from mockgc.platform.domain.routing import MAX_MEMBERS_PAGE_SIZE, MAX_MEMBERS_PER_CHANGE

# -- requests ------------------------------------------------------------------------------


class MemberRef(Body):
    id: Annotated[str, Field(min_length=1, max_length=128)]


class MemberJoin(MemberRef):
    joined: bool


class QueueJoin(MemberJoin):
    """One of a user's queues, joined or not (PATCH /users/{id}/queues)."""


MemberRefs = Annotated[list[MemberRef], Field(min_length=1, max_length=MAX_MEMBERS_PER_CHANGE)]
MemberJoins = Annotated[list[MemberJoin], Field(min_length=1, max_length=MAX_MEMBERS_PER_CHANGE)]
QueueJoins = Annotated[list[QueueJoin], Field(min_length=1, max_length=MAX_MEMBERS_PER_CHANGE)]


class JoinBody(Body):
    joined: bool


# -- answers -------------------------------------------------------------------------------


class RoutingSkill(Answer):
    id: str
    name: str
    division: Division
    dateModified: DateTime
    state: str
    version: str
    selfUri: str


class SkillListing(Paged):
    entities: list[RoutingSkill]


class QueueFields(Answer):
    id: str
    name: str
    division: Division
    description: str
    dateCreated: DateTime
    dateModified: DateTime
    memberCount: int
    userMemberCount: int
    joinedMemberCount: int
    skillEvaluationMethod: str
    enableTranscription: bool
    enableManualAssignment: bool


class Queue(QueueFields):
    autoAnswerOnly: bool
    selfUri: str


class QueueListing(Paged):
    entities: list[Queue]


class UserQueue(QueueFields):
    """The SDK's UserQueue: a queue (without autoAnswerOnly, which UserQueue lacks) and whether the user joined it."""

    joined: bool
    selfUri: str


class UserQueueListing(Paged):
    entities: list[UserQueue]


class QueueMember(Answer):
    id: str
    name: str
    user: User
    ringNumber: int
    joined: bool
    memberBy: str
    routingStatus: RoutingStatus | None = Field(None, description="with expand=routingStatus")
    selfUri: str


class QueueMemberListing(PagedUncounted):
    entities: list[QueueMember]


class QueueUserListing(Paged):
    entities: list[QueueMember]


class ChangedMembers(Answer):
    """PATCH .../members: the members as they now are (one page, no links)."""

    entities: list[QueueMember]
    pageSize: int
    pageNumber: int


class ChangedUserQueues(Answer):
    entities: list[UserQueue]
    pageSize: int
    pageNumber: int
    total: int


QUEUE = "/api/v2/routing/queues/{queue_id}"
USER_QUEUES = "/api/v2/users/{user_id}/queues"
MEMBER_QUERY = (
    *page_query(MAX_MEMBERS_PAGE_SIZE),
    EXPAND_QUERY,
    bool_query("joined"),
    text_query("name", "contains-style, case-insensitive"),
)
QUEUE_NAME = text_query("name", "exact, or with a leading and/or trailing *, case-insensitive")

ROUTES = (
    Route(
        "GET",
        "/api/v2/routing/skills",
        "getRoutingSkills",
        "The org's routing skills, by name",
        "real",
        {200: SkillListing},
        query=(*page_query(), text_query("name", "a prefix"), ids_query()),
    ),
    Route(
        "GET", "/api/v2/routing/skills/{skill_id}", "getRoutingSkill", "A routing skill", "real", {200: RoutingSkill}
    ),
    Route(
        "GET",
        "/api/v2/routing/queues",
        "getRoutingQueues",
        "The org's queues, by name",
        "real",
        {200: QueueListing},
        query=(*page_query(), QUEUE_SORT_QUERY, QUEUE_NAME, ids_query()),
    ),
    Route("GET", QUEUE, "getRoutingQueue", "A queue", "real", {200: Queue}),
    Route(
        "GET",
        QUEUE + "/members",
        "getRoutingQueueMembers",
        "A queue's members, by name",
        "real",
        {200: QueueMemberListing},
        query=MEMBER_QUERY,
    ),
    Route(
        "GET",
        QUEUE + "/users",
        "getRoutingQueueUsers",
        "A queue's members, by name, with totals",
        "real",
        {200: QueueUserListing},
        query=MEMBER_QUERY,
    ),
    *(
        Route(
            "POST",
            QUEUE + suffix,
            name,
            "Add users to a queue, or with delete=true remove them",
            "real",
            {204: NoBody},
            MemberRefs,
            query=(bool_query("delete"),),
        )
        for suffix, name in (("/members", "postRoutingQueueMembers"), ("/users", "postRoutingQueueUsers"))
    ),
    *(
        Route(
            "PATCH",
            QUEUE + suffix,
            name,
            "Join or unjoin a queue's members",
            "real",
            {200: ChangedMembers},
            MemberJoins,
        )
        for suffix, name in (("/members", "patchRoutingQueueMembers"), ("/users", "patchRoutingQueueUsers"))
    ),
    Route(
        "GET",
        USER_QUEUES,
        "getUserQueues",
        "The queues a user is a member of",
        "real",
        {200: UserQueueListing},
        query=(*page_query(), bool_query("joined")),
    ),
    Route(
        "PATCH",
        USER_QUEUES,
        "patchUserQueues",
        "A user joins or leaves queues it is a member of",
        "real",
        {200: ChangedUserQueues},
        QueueJoins,
    ),
    Route(
        "PATCH",
        USER_QUEUES + "/{queue_id}",
        "patchUserQueue",
        "A user joins or leaves one queue it is a member of",
        "real",
        {200: UserQueue},
        JoinBody,
    ),
)
