"""The Notifications API's model: channels, topic subscriptions, and messages built from platform events."""

from __future__ import annotations

import queue
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mockgc.clock import Clock
from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.errors import BadRequest, InvalidValue, NotFound
from mockgc.platform.domain.events import PlatformEvent
from mockgc.platform.domain.topics import TOPICS, EntityExists, TopicVerdict, judge

HEARTBEAT_TOPIC = "channel.metadata"
HEARTBEAT_BODY = {"message": "WebSocket Heartbeat"}
MESSAGE_VERSION = "2"
CHANNEL_TTL_SECONDS = 86_400.0  # channels live 24 hours
MAX_CHANNELS_PER_CLIENT = 20  # creating one more removes the oldest, as the platform documents
MAX_TOPICS_PER_CHANNEL = 1000
CHANNEL_ID_PREFIX = "streaming-0-"
CHANNEL_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
CHANNEL_ID_LENGTH = 26  # 26 characters of 36: over 130 bits
MAX_QUEUED_MESSAGES = 10_000  # per channel with no socket draining it; the oldest are dropped
SOCKET_CLOSING_TOPIC = "v2.system.socket_closing"
SOCKET_CLOSING_NOTICE_SECONDS = 60.0  # the platform warns a minute before it closes a socket


class InvalidTopic(BadRequest):
    """A subscription named a topic the platform does not publish (400 bad.request)."""

    def __init__(self, rejected: list[TopicVerdict]) -> None:
        topics = [verdict.topic for verdict in rejected]
        shown = ", ".join(topics[:5]) + (", ..." if len(topics) > 5 else "")
        known = ", ".join(pattern.template for pattern in TOPICS)
        reasons = "; ".join(f"{v.topic}: {v.rejection}" for v in rejected[:5])
        super().__init__(
            f"Invalid notification topic(s): {reasons}. Known topics are {known}.",
            details=[{"errorCode": "notification.topic.invalid", "entityId": v.topic} for v in rejected],
            message_with_params="Invalid notification topic(s): {topics}",
            message_params={"topics": shown},
        )


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A channel's topics after a subscription, and the topics of the request that were rejected."""

    topics: list[str]
    rejected: list[TopicVerdict]


def new_channel_id() -> str:
    """The platform's shape (streaming-0- and 26 characters), from `secrets`: the id is all a WebSocket
    needs to read the channel, so it must not be predictable from the seed."""
    return CHANNEL_ID_PREFIX + "".join(secrets.choice(CHANNEL_ID_ALPHABET) for _ in range(CHANNEL_ID_LENGTH))


def heartbeat() -> dict[str, Any]:
    return {"topicName": HEARTBEAT_TOPIC, "eventBody": dict(HEARTBEAT_BODY)}


def socket_closing() -> dict[str, Any]:
    """The warning a socket gets before the platform closes it; clients open a new channel on it."""
    return {"topicName": SOCKET_CLOSING_TOPIC, "eventBody": {"message": "The socket is closing"}}


def message_for(event: PlatformEvent, correlation_id: str) -> dict[str, Any]:
    """The WebSocket (and webhook) message for one platform event."""
    return {
        "topicName": event.topic,
        "version": MESSAGE_VERSION,
        "eventBody": event.body,
        "metadata": {"CorrelationId": correlation_id},
    }


@dataclass
class Channel:
    id: str
    owner: str
    created: float
    expires: float
    topics: dict[str, None] = field(default_factory=dict)  # insertion-ordered set
    # Messages waiting for the channel's WebSocket; thread-safe because the socket drains it.
    outbox: queue.Queue[dict[str, Any]] = field(default_factory=lambda: queue.Queue(MAX_QUEUED_MESSAGES))
    # Bumped by each new connection, so an older connection knows it was replaced.
    generation: int = 0
    dropped: int = 0

    def offer(self, message: dict[str, Any]) -> None:
        """Queue without ever blocking the platform: a full queue loses its oldest message."""
        while True:
            try:
                self.outbox.put_nowait(message)
                return
            except queue.Full:
                try:
                    self.outbox.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def to_api(self, connect_uri: str) -> dict[str, Any]:
        return {"connectUri": connect_uri, "id": self.id, "expires": iso(self.expires)}


class NotificationHub:
    """Channels per OAuth client; platform events fan out to every channel subscribed to their topic.

    The hub is bound to one Platform at a time (`bind`), and rebound when the org is reset, so
    channels survive a reset the way registered clients do.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        connect_uri: Callable[[str], str] | None = None,
        ttl_seconds: float = CHANNEL_TTL_SECONDS,
    ) -> None:
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        self.connect_uri = connect_uri or (lambda channel_id: f"ws://127.0.0.1/channels/{channel_id}")
        self._lock = threading.Lock()
        self.channels: dict[str, Channel] = {}
        # Whether the org has an entity of a kind and id (Platform.entity_exists, set by the events
        # runtime for each org); a hub on its own accepts any id of the topic grammar.
        self.entity_exists: EntityExists = lambda kind, entity_id: True
        # Bumped to close every open socket; each socket remembers the epoch it opened in.
        self.socket_epoch = 0

    # -- channels --------------------------------------------------------------

    def create_channel(self, owner: str) -> Channel:
        now = self.clock.now()
        with self._lock:
            self._expire(now)
            mine = sorted((c for c in self.channels.values() if c.owner == owner), key=lambda c: c.created)
            for oldest in mine[: max(0, len(mine) - MAX_CHANNELS_PER_CLIENT + 1)]:
                del self.channels[oldest.id]
            channel_id = new_channel_id()
            channel = Channel(channel_id, owner, now, now + self.ttl_seconds)
            self.channels[channel.id] = channel
        return channel

    def list_channels(self, owner: str) -> list[Channel]:
        with self._lock:
            self._expire(self.clock.now())
            return [c for c in self.channels.values() if c.owner == owner]

    def channel_to_api(self, channel: Channel) -> dict[str, Any]:
        return channel.to_api(self.connect_uri(channel.id))

    def channel(self, channel_id: str, owner: str | None = None) -> Channel:
        """A live channel; one that expired, or belongs to another client, is not found."""
        with self._lock:
            self._expire(self.clock.now())
            channel = self.channels.get(channel_id)
        if channel is None or (owner is not None and channel.owner != owner):
            raise NotFound(f"Channel {channel_id} not found", details=[{"entityId": channel_id}])
        return channel

    def _expire(self, now: float) -> None:
        for channel_id in [c.id for c in self.channels.values() if c.expires <= now]:
            del self.channels[channel_id]

    # -- subscriptions ---------------------------------------------------------

    def subscriptions(self, channel_id: str, owner: str) -> list[str]:
        return list(self.channel(channel_id, owner).topics)

    def subscribe(
        self, channel_id: str, owner: str, topics: list[str], *, replace: bool, ignore_errors: bool = False
    ) -> Subscribed:
        """POST adds topics, PUT replaces them. A topic outside the grammar, or naming no entity of the org,
        refuses the whole request (400); with `ignore_errors` it is only rejected and the rest apply."""
        return self.subscribe_channel(
            self.channel(channel_id, owner), topics, replace=replace, ignore_errors=ignore_errors
        )

    def subscribe_channel(
        self, channel: Channel, topics: list[str], *, replace: bool, ignore_errors: bool = False
    ) -> Subscribed:
        """Subscribe a channel already found (the WebSocket's, whose id is its credential)."""
        verdicts = [judge(topic, self.entity_exists) for topic in topics]
        rejected = [v for v in verdicts if not v.permitted]
        if rejected and not ignore_errors:
            raise InvalidTopic(rejected)
        permitted = [v.topic for v in verdicts if v.permitted]
        with self._lock:
            wanted = dict.fromkeys(permitted) if replace else {**channel.topics, **dict.fromkeys(permitted)}
            if len(wanted) > MAX_TOPICS_PER_CHANNEL:
                raise InvalidValue(f"a channel may subscribe to at most {MAX_TOPICS_PER_CHANNEL} topics")
            channel.topics = wanted
            return Subscribed(list(channel.topics), rejected)

    def unsubscribe_all(self, channel_id: str, owner: str) -> None:
        channel = self.channel(channel_id, owner)
        with self._lock:
            channel.topics = {}

    def unsubscribe_channel(self, channel: Channel, topics: list[str]) -> list[str]:
        """Remove these topics (those not subscribed are ignored); the channel's topics after."""
        with self._lock:
            for topic in topics:
                channel.topics.pop(topic, None)
            return list(channel.topics)

    # -- sockets -------------------------------------------------------------------

    def close_sockets(self) -> None:
        """Ask every open socket to warn its client and close (an org reset); the channels stay."""
        with self._lock:
            self.socket_epoch += 1

    # -- events ------------------------------------------------------------------

    def on_event(self, event: PlatformEvent) -> None:
        """An EventBus listener: runs inside a platform operation, so it only enqueues."""
        with self._lock:
            targets = [c for c in self.channels.values() if event.topic in c.topics and c.expires > event.at]
        if not targets:
            return
        message = message_for(event, str(uuid.uuid4()))
        for channel in targets:
            channel.offer(message)
