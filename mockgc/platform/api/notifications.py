"""Notifications API: channels and topic subscriptions (messages arrive on the channel's WebSocket)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mockgc.platform.api.base import Answer, Body, DateTime, NoBody, Query, Route


class TopicBody(Body):
    id: Annotated[str, Field(min_length=1)]


Topics = list[TopicBody]


class AvailableTopic(Answer):
    id: str
    description: str


class AvailableTopicListing(Answer):
    entities: list[AvailableTopic]


class Channel(Answer):
    connectUri: str
    id: str
    expires: DateTime


class ChannelListing(Answer):
    entities: list[Channel]


class Topic(Answer):
    """The SDK's ChannelTopic: with ignoreErrors=true each topic says its state, a rejected one why."""

    id: str
    state: str | None = None
    rejectionReason: str | None = None


class TopicListing(Answer):
    entities: list[Topic]


CHANNEL = "/api/v2/notifications/channels/{channel_id}"
IGNORE_ERRORS = Query(
    "ignoreErrors",
    {"type": "boolean"},
    description="mark topics that cannot be subscribed Rejected (with a reason) instead of refusing the request",
)

ROUTES = (
    Route(
        "GET",
        "/api/v2/notifications/availabletopics",
        "getNotificationsAvailabletopics",
        "The topics a channel may subscribe to",
        "real",
        {200: AvailableTopicListing},
    ),
    Route(
        "POST",
        "/api/v2/notifications/channels",
        "postNotificationsChannels",
        "Open a channel",
        "real",
        {200: Channel},
        payload="none",
    ),
    Route(
        "GET",
        "/api/v2/notifications/channels",
        "getNotificationsChannels",
        "The client's channels",
        "real",
        {200: ChannelListing},
    ),
    Route("HEAD", CHANNEL, "headNotificationsChannel", "Is the channel alive?", "real", {200: NoBody}),
    Route(
        "GET",
        CHANNEL + "/subscriptions",
        "getNotificationsChannelSubscriptions",
        "A channel's topics",
        "real",
        {200: TopicListing},
    ),
    Route(
        "POST",
        CHANNEL + "/subscriptions",
        "postNotificationsChannelSubscriptions",
        "Add topics to a channel",
        "real",
        {200: TopicListing},
        Topics,
        query=(IGNORE_ERRORS,),
    ),
    Route(
        "PUT",
        CHANNEL + "/subscriptions",
        "putNotificationsChannelSubscriptions",
        "Replace a channel's topics",
        "real",
        {200: TopicListing},
        Topics,
        query=(IGNORE_ERRORS,),
    ),
    Route(
        "DELETE",
        CHANNEL + "/subscriptions",
        "deleteNotificationsChannelSubscriptions",
        "Remove every topic of a channel",
        "real",
        {204: NoBody},
    ),
)
