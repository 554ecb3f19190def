"""Mock-only admin API under /mock: reset, faults, the virtual clock, ground truth, webhook targets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mockgc.platform.api.base import Answer, Body, DateTime, NoBody, Query, Route
from mockgc.platform.api.users import MockUser
from mockgc.platform.api.wfm import BusinessUnit

MAX_RESET_AGENTS = 100_000
Number = int | float


# -- requests ------------------------------------------------------------------------------


class PublishLockBody(Body):
    batch_size: int | None = None
    interval_ms: int | None = None
    hold_ms: int | None = None
    kind: Literal["reject", "clobber", "invalidate"] | None = None
    toxicity: Number | None = None
    platform_version: Literal["v1", "v2"] | None = None
    start_delay_ms: int | None = None


class ToxicBody(Body):
    name: Annotated[str, Field(min_length=1)]
    type: Literal["latency", "http_error", "rate_limit", "slow_body", "reset_peer"]
    toxicity: Annotated[Number, Field(ge=0, le=1)] = 1.0
    path_prefix: str = "/api/v2/"
    attributes: dict[str, Any] = {}


class ProfileBody(Body):
    """A fault profile: a known one by name alone, or a whole one."""

    name: str
    description: str | None = None
    publish: PublishLockBody | None = None
    toxics: list[ToxicBody] | None = None


class ResetBody(Body):
    seed: Annotated[int, Field(ge=0)] | None = None
    agents: Annotated[int, Field(ge=1, le=MAX_RESET_AGENTS)] | None = None
    profile: str | ProfileBody | None = None


class ClockBody(Body):
    """Exactly one of the two."""

    advanceMs: Number | None = None
    setEpochMs: Number | None = None


class ClientBody(Body):
    clientId: str
    clientSecret: str
    rateLimitPerMinute: int | None = 300


class WebhookTargetBody(Body):
    url: Annotated[str, Field(min_length=1)]
    topics: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None
    secret: str | None = None
    maxAttempts: Annotated[int, Field(ge=1, le=20)] = 5
    timeoutSeconds: Annotated[Number, Field(ge=0.001, le=300)] = 30
    backoffSeconds: Annotated[Number, Field(ge=0, le=3600)] = 1


# -- answers -------------------------------------------------------------------------------


class PublishLock(Answer):
    batch_size: int
    interval_ms: int
    hold_ms: int
    kind: str
    toxicity: float
    platform_version: str
    start_delay_ms: int


class Toxic(Answer):
    name: str
    type: str
    toxicity: float
    path_prefix: str
    attributes: dict[str, Any]


class Profile(Answer):
    name: str
    description: str
    publish: PublishLock
    toxics: list[Toxic]


class ProfileListing(Answer):
    entities: list[Profile]


class Faults(Answer):
    profile: Profile
    toxics: list[Toxic]


class Clock(Answer):
    kind: Literal["virtual", "system"]
    nowEpochMs: int


class Memory(Answer):
    sessionsInMemory: int
    conversationsInMemory: int
    sessionsArchived: int


class Info(Answer):
    seed: int
    profile: Profile
    clock: Clock
    businessUnits: list[BusinessUnit]
    users: list[MockUser]
    memory: Memory


class JournalEntry(Answer):
    seq: int
    at: float
    method: str
    path: str
    status: int
    client_id: str | None
    correlation_id: str


class Journal(Answer):
    entries: list[JournalEntry]
    dropped: int


class TruthSession(Answer):
    userId: str
    conversationId: str
    variables: dict[str, str]
    version: int
    attached: bool
    evaluatedPersonalized: dict[str, Any]


class Truth(Answer):
    sessions: dict[str, TruthSession]


class Window(Answer):
    operationId: str
    startedEpochMs: int
    completesEpochMs: int
    status: str
    batches: list[list[int]]


class Windows(Answer):
    operations: list[Window]


class Event(Answer):
    atEpochMs: int
    topicName: str
    eventBody: dict[str, Any]


class EventListing(Answer):
    entities: list[Event]


class Client(Answer):
    clientId: str
    rateLimitPerMinute: int | None


class WebhookTarget(Answer):
    id: str
    url: str
    topics: list[str]
    timeoutSeconds: float
    maxAttempts: int
    backoffSeconds: float
    dateCreated: DateTime
    secret: str | None = Field(None, description="only in the answer that registers the target")


class WebhookTargetListing(Answer):
    entities: list[WebhookTarget]


class Attempt(Answer):
    attempt: int
    atEpochMs: int
    status: int
    error: str | None
    durationMs: float


class Delivery(Answer):
    id: str
    targetId: str
    url: str
    topicName: str | None
    operationId: str | None
    state: Literal["pending", "sending", "delivered", "failed"]
    createdEpochMs: int
    nextAttemptEpochMs: int | None
    attempts: list[Attempt]


class DeliveryStats(Answer):
    pending: int
    sending: int
    delivered: int
    failed: int
    attempts: int
    dropped: int


class DeliveryListing(Answer):
    entities: list[Delivery]
    stats: DeliveryStats


def _admin(
    method: str, path: str, name: str, summary: str, answers: dict[int, Any], body: Any = None, **options: Any
) -> Route:
    return Route(method, path, name, summary, "mock-only", answers, body, auth="admin", **options)


EPOCH_MS = {"type": "integer", "minimum": 0, "maximum": 32_503_680_000_000}

ROUTES = (
    _admin(
        "POST",
        "/mock/reset",
        "mockReset",
        "Rebuild the org (seed, agents, profile may change)",
        {200: Info},
        ResetBody,
        body_required=False,
    ),
    _admin("GET", "/mock/info", "mockInfo", "The org: seed, profile, clock, business units, users", {200: Info}),
    _admin("GET", "/mock/profiles", "mockProfiles", "The named fault profiles", {200: ProfileListing}),
    _admin("GET", "/mock/faults", "mockFaults", "The fault profile and toxics in force", {200: Faults}),
    _admin("PUT", "/mock/faults/profile", "mockSetProfile", "Set the fault profile", {200: Profile}, ProfileBody),
    _admin("POST", "/mock/faults/toxics", "mockAddToxic", "Add or replace a toxic", {201: Toxic}, ToxicBody),
    _admin("DELETE", "/mock/faults/toxics/{name}", "mockRemoveToxic", "Remove a toxic", {204: NoBody}),
    _admin(
        "POST",
        "/mock/faults/reset",
        "mockResetFaults",
        "Back to the profile the server started with",
        {200: Profile},
        payload="none",
    ),
    _admin("GET", "/mock/clock", "mockClock", "The clock", {200: Clock}),
    _admin("POST", "/mock/clock", "mockMoveClock", "Move the virtual clock", {200: Clock}, ClockBody),
    _admin(
        "GET",
        "/mock/journal",
        "mockJournal",
        "The request journal, oldest first",
        {200: Journal},
        query=(Query("since", EPOCH_MS), Query("limit", EPOCH_MS)),
    ),
    _admin(
        "GET", "/mock/truth", "mockTruth", "Every session's stored variables (the checker's ground truth)", {200: Truth}
    ),
    _admin("GET", "/mock/windows", "mockWindows", "Each publish's lock window", {200: Windows}),
    _admin(
        "GET",
        "/mock/events",
        "mockEvents",
        "The platform events, oldest first",
        {200: EventListing},
        query=(Query("sinceEpochMs", EPOCH_MS),),
    ),
    _admin("POST", "/mock/oauth/clients", "mockAddClient", "Register an OAuth client", {201: Client}, ClientBody),
    _admin(
        "POST",
        "/mock/webhooks",
        "mockAddWebhook",
        "Register a webhook target of publish events",
        {201: WebhookTarget},
        WebhookTargetBody,
    ),
    _admin("GET", "/mock/webhooks", "mockWebhooks", "The webhook targets", {200: WebhookTargetListing}),
    _admin("DELETE", "/mock/webhooks/{target_id}", "mockRemoveWebhook", "Remove a webhook target", {204: NoBody}),
    _admin(
        "GET",
        "/mock/webhooks/deliveries",
        "mockDeliveries",
        "The webhook delivery log",
        {200: DeliveryListing},
        query=(Query("state", {"type": "string", "enum": ["pending", "sending", "delivered", "failed"]}),),
    ),
    _admin("DELETE", "/mock/webhooks/deliveries", "mockClearDeliveries", "Clear the delivery log", {204: NoBody}),
)
