"""The analytics area: details, aggregates and observations, answered from the org's own record of what happened.

Calls and their participants (with their attributes) come from the interaction store, memory and
archive alike, without waking anything; presence and routing-status intervals from the users' status
log and their current status. Nothing is invented: a dimension or metric the mock does not record is
absent, as in an org without that data.
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.context import OrgContext, id_from, operation
from mockgc.platform.domain.errors import BadRequest, NotFound
from mockgc.platform.domain.interactions import Conversation, Participant
from mockgc.platform.domain.querying import (
    Dimensions,
    Filter,
    Interval,
    Paging,
    TermAggregation,
    all_match,
    term_counts,
)
from mockgc.platform.domain.routing import Routing
from mockgc.platform.domain.statuslog import PRESENCE, ROUTING, StatusInterval
from mockgc.platform.domain.store import InteractionStore
from mockgc.platform.domain.users import ON_QUEUE, PRESENCE_DEFINITIONS, Agent, Users

CUSTOMER_ANI = "tel:+13125550100"  # the customer's number: create_call checks it and keeps none
DNIS = "tel:+18005550100"
JOB_SECONDS = 1.0  # an async job is QUEUED this long on the org's clock, then FULFILLED
JOB_TTL_SECONDS = 86_400.0  # and its results expire a day after it was submitted
MAX_JOBS = 100  # jobs kept per org; the oldest go first
DEFAULT_JOB_PAGE, MAX_JOB_PAGE = 1_000, 10_000
OBSERVATION_METRICS = (
    "oActiveUsers",
    "oAlerting",
    "oInteracting",
    "oMemberUsers",
    "oOffQueueUsers",
    "oOnQueueUsers",
    "oUserPresences",
    "oUserRoutingStatuses",
    "oWaiting",
)


def analytics_presence(system_presence: str) -> str:
    """The system presence as analytics spells it ("On Queue" is ON_QUEUE)."""
    return system_presence.upper().replace(" ", "_")


DEFAULT_PAGING = Paging()
# The user aggregates' metrics, each with how a status becomes its qualifier.
USER_METRICS: dict[str, Callable[[str], str]] = {
    "tAgentRoutingStatus": lambda status: status,
    "tSystemPresence": analytics_presence,
    "tOrganizationPresence": lambda presence: PRESENCE_DEFINITIONS[presence],
}


# -- queries -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserDetailsQuery:
    interval: Interval
    user_filters: tuple[Filter, ...] = ()
    presence_filters: tuple[Filter, ...] = ()
    routing_filters: tuple[Filter, ...] = ()
    order: str = "asc"
    presence_aggregations: tuple[TermAggregation, ...] = ()
    routing_aggregations: tuple[TermAggregation, ...] = ()
    paging: Paging = DEFAULT_PAGING


@dataclass(frozen=True, slots=True)
class ConversationDetailsQuery:
    interval: Interval
    conversation_filters: tuple[Filter, ...] = ()
    segment_filters: tuple[Filter, ...] = ()
    order: str = "asc"
    order_by: str = "conversationStart"
    aggregations: tuple[TermAggregation, ...] = ()
    paging: Paging = DEFAULT_PAGING
    # Filters on evaluations, surveys and resolutions: the mock's calls have none, so these see no data.
    absent_filters: tuple[Filter, ...] = ()


@dataclass(frozen=True, slots=True)
class AggregateQuery:
    interval: Interval
    metrics: tuple[str, ...]
    granularity: float | None = None
    group_by: tuple[str, ...] = ()
    filter: Filter | None = None


@dataclass(frozen=True, slots=True)
class ObservationQuery:
    filter: Filter
    metrics: tuple[str, ...] = OBSERVATION_METRICS


# -- answers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserDetail:
    user_id: str
    presences: list[StatusInterval]
    routings: list[StatusInterval]

    def to_api(self) -> dict[str, object]:
        """The SDK's AnalyticsUserDetail: each interval with its real start (and end, once it ended)."""
        api: dict[str, object] = {"userId": self.user_id}
        if self.presences:
            api["primaryPresence"] = [_presence_record(i) for i in self.presences]
        if self.routings:
            api["routingStatus"] = [_timed(i, {"routingStatus": i.value}) for i in self.routings]
        return api


def _timed(interval: StatusInterval, fields: dict[str, object]) -> dict[str, object]:
    api: dict[str, object] = {"startTime": iso(interval.start)}
    if interval.end is not None:
        api["endTime"] = iso(interval.end)
    return api | fields


def _presence_record(interval: StatusInterval) -> dict[str, object]:
    return _timed(
        interval,
        {
            "systemPresence": analytics_presence(interval.value),
            "organizationPresenceId": PRESENCE_DEFINITIONS[interval.value],
        },
    )


@dataclass(frozen=True, slots=True)
class Details:
    """One page of details, how many matched in all, and the roll-ups asked for."""

    items: list[Any]
    total: int
    aggregations: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ConversationDetail:
    conversation: Conversation
    division_id: str

    def to_api(self, *, attributes: bool) -> dict[str, object]:
        """The SDK's AnalyticsConversation (`attributes`: the async job's) or AnalyticsConversationWithoutAttributes."""
        conversation = self.conversation
        return {
            "conversationId": conversation.id,
            "conversationStart": iso(conversation.started),
            "divisionIds": [self.division_id],
            "originatingDirection": "inbound",
            "participants": [_participant(p, conversation, attributes=attributes) for p in conversation.participants],
        }


def _participant(participant: Participant, conversation: Conversation, *, attributes: bool) -> dict[str, object]:
    segment: dict[str, object] = {"segmentStart": iso(conversation.started), "segmentType": "interact"}
    if participant.user_id and conversation.queue_id:
        segment["queueId"] = conversation.queue_id
    api: dict[str, object] = {
        "participantId": participant.id,
        "participantName": participant.name,
        "purpose": participant.purpose,
        "sessions": [
            {
                "sessionId": participant.call_id,
                "mediaType": "voice",
                "direction": "inbound",
                "ani": CUSTOMER_ANI,
                "dnis": DNIS,
                "segments": [segment],
            }
        ],
    }
    if participant.user_id:
        api["userId"] = participant.user_id
    if attributes:
        api["attributes"] = dict(participant.attributes)
    return api


def _conversation_dimensions(conversation: Conversation, division_id: str) -> dict[str, str]:
    return {"conversationId": conversation.id, "divisionId": division_id, "originatingDirection": "inbound"}


def _segment_rows(conversation: Conversation) -> list[dict[str, str]]:
    """What a segment filter sees of each participant's one segment."""
    rows = []
    for participant in conversation.participants:
        row = {
            "purpose": participant.purpose,
            "participantName": participant.name,
            "mediaType": "voice",
            "direction": "inbound",
            "segmentType": "interact",
            "ani": CUSTOMER_ANI,
            "dnis": DNIS,
        }
        if participant.user_id:
            row["userId"] = participant.user_id
            if conversation.queue_id:
                row["queueId"] = conversation.queue_id
        rows.append(row)
    return rows


@dataclass(frozen=True, slots=True)
class AggregateGroup:
    """One group of an aggregate answer: its dimensions and, per interval, each metric's statistics."""

    group: dict[str, str]
    data: list[tuple[Interval, list[tuple[str, str | None, dict[str, float]]]]]

    def to_api(self) -> dict[str, object]:
        return {
            "group": self.group,
            "data": [
                {
                    "interval": f"{iso(interval.start)}/{iso(interval.end)}",
                    "metrics": [_metric(name, qualifier, stats) for name, qualifier, stats in metrics],
                }
                for interval, metrics in self.data
            ],
        }


def _metric(name: str, qualifier: str | None, stats: dict[str, float]) -> dict[str, object]:
    api: dict[str, object] = {"metric": name}
    if qualifier is not None:
        api["qualifier"] = qualifier
    return api | {"stats": stats}


@dataclass(frozen=True, slots=True)
class Observation:
    group: dict[str, str]
    counts: list[tuple[str, str | None, int]]

    def to_api(self) -> dict[str, object]:
        """The SDK's QueueObservationDataContainer."""
        data = []
        for metric, qualifier, count in self.counts:
            entry: dict[str, object] = {"metric": metric}
            if qualifier is not None:
                entry["qualifier"] = qualifier
            data.append(entry | {"stats": {"count": count}})
        return {"group": self.group, "data": data}


@dataclass(slots=True)
class Job:
    """An asynchronous details query: QUEUED for JOB_SECONDS on the org's clock, then FULFILLED."""

    id: str
    kind: str  # "conversations" or "users"
    query: ConversationDetailsQuery | UserDetailsQuery
    limit: int | None
    submitted: float

    def state(self, now: float) -> str:
        if now >= self.submitted + JOB_TTL_SECONDS:
            return "EXPIRED"
        return "FULFILLED" if now >= self.submitted + JOB_SECONDS else "QUEUED"

    def status_to_api(self, now: float) -> dict[str, object]:
        """The SDK's AsyncQueryStatus."""
        state = self.state(now)
        api: dict[str, object] = {
            "state": state,
            "submissionDate": iso(self.submitted),
            "expirationDate": iso(self.submitted + JOB_TTL_SECONDS),
        }
        if state != "QUEUED":
            api["completionDate"] = iso(self.submitted + JOB_SECONDS)
        return api


@dataclass(frozen=True, slots=True)
class JobPage:
    items: list[Any]
    cursor: str | None
    available: float


def _cursor(job_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{job_id}:{offset}".encode()).decode().rstrip("=")


def _offset(job_id: str, cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        owner, _, offset = text.rpartition(":")
        if owner == job_id and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BadRequest(f"The cursor {cursor[:64]} is not one of job {job_id}'s", details=[{"fieldName": "cursor"}])


# -- the area ------------------------------------------------------------------------------


class Analytics:
    def __init__(self, ctx: OrgContext, users: Users, store: InteractionStore, routing: Routing) -> None:
        self.ctx = ctx
        self.users = users
        self.store = store
        self.routing = routing
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self._job_ids = ctx.stream("analytics-jobs")  # never the org's id stream: flows' ids stay put

    # -- users ---------------------------------------------------------------------------

    @operation
    def user_details(self, query: UserDetailsQuery) -> Details:
        """POST /api/v2/analytics/users/details/query."""
        details = self._user_details(query)
        rows = [_presence_dimensions(i.value) for d in details for i in d.presences]
        aggregations = term_counts(query.presence_aggregations, rows)
        aggregations += term_counts(
            query.routing_aggregations, [{"routingStatus": i.value} for d in details for i in d.routings]
        )
        return Details(query.paging.page(details), len(details), aggregations)

    def _user_details(self, query: UserDetailsQuery) -> list[UserDetail]:
        interval = query.interval
        found = []
        for agent in _ordered(self.users.agents.values(), lambda a: a.id, query.order):
            if not all_match(query.user_filters, {"userId": agent.id}):
                continue
            presences = [
                i
                for i in self.users.status_intervals(agent, PRESENCE, interval.start, interval.end)
                if all_match(query.presence_filters, _presence_dimensions(i.value))
            ]
            routings = [
                i
                for i in self.users.status_intervals(agent, ROUTING, interval.start, interval.end)
                if all_match(query.routing_filters, {"routingStatus": i.value})
            ]
            if (query.presence_filters and not presences) or (query.routing_filters and not routings):
                continue
            if presences or routings:
                found.append(UserDetail(agent.id, presences, routings))
        return found

    @operation
    def user_aggregates(self, query: AggregateQuery) -> list[AggregateGroup]:
        """POST /api/v2/analytics/users/aggregates/query: time in each routing status and presence, per bucket."""
        now = self.ctx.clock.now()
        buckets = query.interval.buckets(query.granularity)
        groups: dict[tuple[str, ...], list[tuple[Interval, list[tuple[str, str | None, dict[str, float]]]]]] = {}
        for agent in sorted(self.users.agents.values(), key=lambda a: a.id):
            if query.filter is not None and not query.filter.test({"userId": agent.id}):
                continue
            key = (agent.id,) if "userId" in query.group_by else ()
            for bucket in buckets:
                metrics = self._user_metrics(agent, bucket, query.metrics, now)
                if metrics:
                    groups.setdefault(key, []).append((bucket, metrics))
        return [
            AggregateGroup(dict(zip(("userId",), key, strict=False)), _merge_buckets(data))
            for key, data in groups.items()
        ]

    def _user_metrics(
        self, agent: Agent, bucket: Interval, metrics: Sequence[str], now: float
    ) -> list[tuple[str, str | None, dict[str, float]]]:
        """Milliseconds spent in each routing status or presence within `bucket` (up to now)."""
        found: list[tuple[str, str | None, dict[str, float]]] = []
        for metric in metrics:
            qualify = USER_METRICS.get(metric)
            if qualify is None:
                continue
            kind = ROUTING if metric == "tAgentRoutingStatus" else PRESENCE
            spent: dict[str, float] = {}
            for interval in self.users.status_intervals(agent, kind, bucket.start, bucket.end):
                end = min(bucket.end, now if interval.end is None else interval.end)
                ms = (end - max(bucket.start, interval.start)) * 1000
                if ms > 0:
                    spent[qualify(interval.value)] = spent.get(qualify(interval.value), 0.0) + ms
            found += [(metric, qualifier, {"sum": round(ms)}) for qualifier, ms in sorted(spent.items())]
        return found

    # -- conversations -------------------------------------------------------------------

    @operation
    def conversation_details(self, query: ConversationDetailsQuery) -> Details:
        """POST /api/v2/analytics/conversations/details/query (and what a job pages through)."""
        matched = self._conversations(query)
        division = self.users.division.id
        rows: list[Dimensions] = [
            _conversation_dimensions(c, division) | row for c in matched for row in _segment_rows(c)
        ]
        aggregations = term_counts(query.aggregations, rows)
        page = [ConversationDetail(c, division) for c in query.paging.page(matched)]
        return Details(page, len(matched), aggregations)

    def _conversations(self, query: ConversationDetailsQuery) -> list[Conversation]:
        if not all_match(query.absent_filters, {}):
            return []
        division = self.users.division.id
        found = [
            c
            for c in self.store.conversations_started(query.interval.start, query.interval.end)
            if all_match(query.conversation_filters, _conversation_dimensions(c, division))
            and all(any(f.test(row) for row in _segment_rows(c)) for f in query.segment_filters)
        ]
        if query.order_by == "conversationEnd":  # a call in the mock goes on: it has no end to sort by
            return found if query.order != "desc" else found[::-1]
        return found[::-1] if query.order == "desc" else found

    @operation
    def conversation_aggregates(self, query: AggregateQuery) -> list[AggregateGroup]:
        """POST /api/v2/analytics/conversations/aggregates/query: the agent's side of each call,
        counted in the bucket it started in (offered, answered at once, connected)."""
        division = self.users.division.id
        buckets = query.interval.buckets(query.granularity)
        groups: dict[tuple[str, ...], dict[Interval, dict[str, list[float]]]] = {}
        for conversation in self.store.conversations_started(query.interval.start, query.interval.end):
            bucket = next(b for b in buckets if b.start <= conversation.started < b.end)
            for row in _segment_rows(conversation):
                if row["purpose"] != "agent":
                    continue
                seen = _conversation_dimensions(conversation, division) | row
                if query.filter is not None and not query.filter.test(seen):
                    continue
                key = tuple(seen.get(dimension, "") for dimension in query.group_by)
                values = groups.setdefault(key, {}).setdefault(bucket, {})
                for metric in query.metrics:
                    sample = CONVERSATION_METRICS.get(metric)
                    if sample is not None:
                        values.setdefault(metric, []).append(sample)
        answers = []
        for key, by_bucket in groups.items():
            group = {d: v for d, v in zip(query.group_by, key, strict=True) if v}
            data = [
                (bucket, [(m, None, _stats(m, samples)) for m, samples in sorted(metrics.items())])
                for bucket, metrics in sorted(by_bucket.items(), key=lambda kv: kv[0].start)
                if metrics
            ]
            if data:
                answers.append(AggregateGroup(group, data))
        return answers

    # -- queues --------------------------------------------------------------------------

    @operation
    def queue_observations(self, query: ObservationQuery) -> list[Observation]:
        """POST /api/v2/analytics/queues/observations/query: each named queue's members now."""
        queue_ids = [q for q in dict.fromkeys(query.filter.values_of("queueId")) if q in self.routing.queues]
        media = query.filter.values_of("mediaType")
        answers = []
        for queue_id in queue_ids:
            members = [a for a in self.users.agents.values() if queue_id in a.queues and a.state == "active"]
            joined = [a for a in members if a.queues[queue_id]]
            group = {"queueId": queue_id} | ({"mediaType": media[0]} if media else {})
            counts = [c for metric in query.metrics for c in _observe(metric, members, joined)]
            answers.append(Observation(group, counts))
        return answers

    # -- jobs ----------------------------------------------------------------------------

    @operation
    def submit_job(self, kind: str, query: ConversationDetailsQuery | UserDetailsQuery, limit: int | None) -> str:
        job = Job(id_from(self._job_ids), kind, query, limit, self.ctx.clock.now())
        self.jobs[job.id] = job
        while len(self.jobs) > MAX_JOBS:
            self.jobs.popitem(last=False)
        return job.id

    @operation
    def job_status(self, kind: str, job_id: str) -> dict[str, object]:
        return self._job(kind, job_id).status_to_api(self.ctx.clock.now())

    @operation
    def delete_job(self, kind: str, job_id: str) -> None:
        self._job(kind, job_id)
        del self.jobs[job_id]

    @operation
    def job_results(self, kind: str, job_id: str, cursor: str | None, size: int) -> JobPage:
        """One page of a fulfilled job's results; the cursor (opaque) says where the next one starts."""
        job = self._job(kind, job_id)
        state = job.state(self.ctx.clock.now())
        if state != "FULFILLED":
            raise BadRequest(f"Job {job_id} is {state}: its results are read once it is FULFILLED")
        start = _offset(job_id, cursor)
        if isinstance(job.query, ConversationDetailsQuery):
            division = self.users.division.id
            everything: list[Any] = [ConversationDetail(c, division) for c in self._conversations(job.query)]
        else:
            everything = self._user_details(job.query)
        if job.limit is not None:
            everything = everything[: job.limit]
        items = everything[start : start + size]
        more = start + size < len(everything)
        return JobPage(items, _cursor(job_id, start + size) if more else None, self.ctx.clock.now())

    def _job(self, kind: str, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.kind != kind:
            raise NotFound(f"Job {job_id} not found", details=[{"entityId": job_id, "entityName": "job"}])
        return job


# A call in the mock is answered at once and goes on: offered, connected, answered and alerted in 0 ms.
CONVERSATION_METRICS: dict[str, float] = {"nOffered": 1, "nConnected": 1, "tAnswered": 0.0, "tAlert": 0.0}


def _stats(metric: str, samples: list[float]) -> dict[str, float]:
    if metric.startswith("n"):
        return {"count": len(samples)}
    return {"max": max(samples), "min": min(samples), "count": len(samples), "sum": sum(samples)}


def _merge_buckets(
    data: list[tuple[Interval, list[tuple[str, str | None, dict[str, float]]]]],
) -> list[tuple[Interval, list[tuple[str, str | None, dict[str, float]]]]]:
    """One entry per bucket (several users grouped together add up), in time order."""
    merged: dict[Interval, dict[tuple[str, str | None], float]] = {}
    for bucket, metrics in data:
        sums = merged.setdefault(bucket, {})
        for name, qualifier, stats in metrics:
            sums[(name, qualifier)] = sums.get((name, qualifier), 0.0) + stats["sum"]
    return [
        (bucket, [(name, qualifier, {"sum": total}) for (name, qualifier), total in sorted(sums.items())])
        for bucket, sums in sorted(merged.items(), key=lambda kv: kv[0].start)
    ]


def _observe(metric: str, members: list[Agent], joined: list[Agent]) -> list[tuple[str, str | None, int]]:
    """One observation metric over a queue's members (`joined`: those who joined it)."""
    on_queue = [a for a in joined if a.system_presence == ON_QUEUE]
    if metric == "oMemberUsers":
        return [(metric, None, len(members))]
    if metric == "oActiveUsers":
        return [(metric, None, len(joined))]
    if metric == "oOffQueueUsers":
        return [(metric, None, len(joined) - len(on_queue))]
    if metric == "oOnQueueUsers":
        return _by(metric, on_queue, lambda a: a.routing_status)
    if metric == "oUserRoutingStatuses":
        return _by(metric, joined, lambda a: a.routing_status)
    if metric == "oUserPresences":
        return _by(metric, joined, lambda a: PRESENCE_DEFINITIONS[a.system_presence])
    if metric == "oInteracting":
        return [(metric, None, sum(a.routing_status == "INTERACTING" for a in on_queue))]
    if metric in ("oWaiting", "oAlerting"):
        return [(metric, None, 0)]  # the mock's calls go straight to an agent: none waits or rings
    return []


def _by(metric: str, agents: Iterable[Agent], key: Callable[[Agent], str]) -> list[tuple[str, str | None, int]]:
    counts: dict[str, int] = {}
    for agent in agents:
        counts[key(agent)] = counts.get(key(agent), 0) + 1
    return [(metric, qualifier, count) for qualifier, count in sorted(counts.items())]


def _presence_dimensions(system_presence: str) -> dict[str, str]:
    return {
        "systemPresence": analytics_presence(system_presence),
        "organizationPresenceId": PRESENCE_DEFINITIONS[system_presence],
    }


def _ordered(agents: Iterable[Agent], key: Callable[[Agent], str], order: str) -> list[Agent]:
    found = sorted(agents, key=key)
    return found[::-1] if order == "desc" else found
