"""The notification topic grammar as data: each topic the mock accepts, what each id in it names, its event model.

To accept a new topic, add a row to TOPICS. An entity kind not yet in use also needs its lookup in
`Platform.entity_exists` (backend.py), which says whether the org has an entity of that kind and id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Entity kinds an id in a topic may name (the keys of Platform.entity_exists).
USER = "user"
BUSINESS_UNIT = "businessunit"
MANAGEMENT_UNIT = "managementunit"
CONVERSATION = "conversation"
QUEUE = "queue"

_ID = "([0-9A-Za-z][0-9A-Za-z-]*)"


@dataclass(frozen=True, slots=True)
class TopicPattern:
    """One row of the grammar: `template` with an `{id}` per entity, in the order of `entities`."""

    template: str
    entities: tuple[str, ...]
    model: str  # the SDK's model of the event body (purecloudplatformclientv2)
    description: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.template.count("{id}") != len(self.entities):
            raise ValueError(f"{self.template}: one entity kind per {{id}}")
        pattern = "^" + re.escape(self.template).replace(re.escape("{id}"), _ID) + "$"
        object.__setattr__(self, "regex", re.compile(pattern))

    def ids(self, topic: str) -> tuple[str, ...] | None:
        """The ids the topic names, or None when it is not of this pattern."""
        match = self.regex.match(topic)
        return match.groups() if match else None


TOPICS: tuple[TopicPattern, ...] = (
    TopicPattern(
        "v2.users.{id}.presence",
        (USER,),
        "PresenceEventUserPresence",
        "A user's presence",
    ),
    TopicPattern(
        "v2.users.{id}.routingStatus",
        (USER,),
        "UserRoutingStatusUserRoutingStatus",
        "A user's routing status",
    ),
    TopicPattern(
        "v2.users.{id}.activity",
        (USER,),
        "AgentActivityChangedTopicAgentActivity",
        "A user's routing status, presence and active queues",
    ),
    TopicPattern(
        "v2.routing.queues.{id}.users",
        (QUEUE,),
        "QueueUserEventTopicQueueMember",
        "A queue's members added, removed, joined or unjoined",
    ),
    TopicPattern(
        "v2.users.{id}.conversations.calls",
        (USER,),
        "ConversationCallEventTopicCallConversation",
        "The calls a user takes part in",
    ),
    TopicPattern(
        "v2.users.{id}.conversations",
        (USER,),
        "ConversationEventTopicConversation",
        "The conversations a user takes part in, with their participants and calls",
    ),
    TopicPattern(
        "v2.routing.queues.{id}.conversations",
        (QUEUE,),
        "QueueConversationEventTopicConversation",
        "The conversations that came in on a queue",
    ),
    TopicPattern(
        "v2.routing.queues.{id}.conversations.calls",
        (QUEUE,),
        "QueueConversationCallEventTopicCallConversation",
        "The calls that came in on a queue",
    ),
    TopicPattern(
        "v2.workforcemanagement.businessunits.{id}.schedules",
        (BUSINESS_UNIT,),
        "WfmBuScheduleTopicBuScheduleNotification",
        "A business unit's schedule updates and publishes, and how each operation ended",
    ),
    TopicPattern(
        "v2.workforcemanagement.businessunits.{id}.schedules.query",
        (BUSINESS_UNIT,),
        "WfmBuScheduleQueryResultTopicBuScheduleSearchResultNotification",
        "The download URL of an asynchronous agent schedules query",
    ),
)

EntityExists = Callable[[str, str], bool]


@dataclass(frozen=True, slots=True)
class TopicVerdict:
    """Whether a topic may be subscribed to, and if not, why (ChannelTopic's state and rejectionReason)."""

    topic: str
    rejection: str | None = None

    @property
    def permitted(self) -> bool:
        return self.rejection is None


def judge(topic: str, entity_exists: EntityExists) -> TopicVerdict:
    """A topic is permitted when it matches a row and every id it names is an entity of the row's kind."""
    for pattern in TOPICS:
        ids = pattern.ids(topic)
        if ids is None:
            continue
        for kind, entity_id in zip(pattern.entities, ids, strict=True):
            if not entity_exists(kind, entity_id):
                return TopicVerdict(topic, f"No {kind} with id {entity_id} exists for topic {pattern.template}")
        return TopicVerdict(topic)
    return TopicVerdict(topic, "The topic is not a valid notification topic")
