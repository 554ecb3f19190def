"""Analytics: user and conversation details (and their async jobs), aggregates and queue observations.

The request and answer models carry the SDK's names (`UserDetailsQuery`, `AnalyticsUserDetailsQueryResponse`,
...), and the `parse_*` functions turn a checked body into the domain's query: the ISO-8601 interval,
filters of clauses and predicates, paging, roll-ups, and the platform's limits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, create_model

from mockgc.platform.api.base import Answer, Body, DateTime, NoBody, Query, Route
from mockgc.platform.domain import analytics as domain
from mockgc.platform.domain.analytics import DEFAULT_JOB_PAGE, MAX_JOB_PAGE, OBSERVATION_METRICS
from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.querying import (
    MAX_DETAIL_INTERVAL_SECONDS,
    MAX_DETAIL_PAGE_SIZE,
    MAX_JOB_INTERVAL_SECONDS,
    Clause,
    Filter,
    Interval,
    Paging,
    Predicate,
    TermAggregation,
)
from mockgc.platform.domain.users import ROUTING_STATUSES

Name = Annotated[str, Field(min_length=1, max_length=128)]
Order = Literal["asc", "desc", "unordered"]
MAX_PREDICATES = 100  # predicates (and clauses) one filter may hold
MAX_FILTERS = 50


class NumericRange(Body):
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None


def _filter_model(name: str, dimension: Any) -> Any:
    """The SDK's `{name}Filter`, with its `{name}Clause` and `{name}Predicate` (dimension: `dimension`)."""
    predicate = create_model(
        f"{name}Predicate",
        __base__=Body,
        type=(Literal["dimension", "property", "metric"] | None, None),
        dimension=(dimension | None, None),
        metric=(Name | None, None),
        operator=(Literal["matches", "exists", "notExists"] | None, None),
        value=(Annotated[str, Field(max_length=1024)] | None, None),
        range=(NumericRange | None, None),
    )
    predicates = Annotated[list[predicate], Field(max_length=MAX_PREDICATES)]  # type: ignore[valid-type]
    clause = create_model(
        f"{name}Clause", __base__=Body, type=(Literal["and", "or"], ...), predicates=(predicates, ...)
    )
    return create_model(
        f"{name}Filter",
        __base__=Body,
        type=(Literal["and", "or"], ...),
        clauses=(Annotated[list[clause], Field(max_length=MAX_PREDICATES)] | None, None),  # type: ignore[valid-type]
        predicates=(predicates | None, None),
    )


def _filters(model: Any) -> Any:
    return Annotated[list[model], Field(max_length=MAX_FILTERS)] | None  # type: ignore[valid-type]


UserDetailQueryFilter = _filter_model("UserDetailQuery", Literal["userId"])
PresenceDetailQueryFilter = _filter_model("PresenceDetailQuery", Literal["organizationPresenceId", "systemPresence"])
RoutingStatusDetailQueryFilter = _filter_model("RoutingStatusDetailQuery", Literal["routingStatus"])
ConversationDetailQueryFilter = _filter_model("ConversationDetailQuery", Name)
SegmentDetailQueryFilter = _filter_model("SegmentDetailQuery", Name)
EvaluationDetailQueryFilter = _filter_model("EvaluationDetailQuery", Name)
SurveyDetailQueryFilter = _filter_model("SurveyDetailQuery", Name)
ResolutionDetailQueryFilter = _filter_model("ResolutionDetailQuery", Name)
ConversationAggregateQueryFilter = _filter_model("ConversationAggregateQuery", Name)
UserAggregateQueryFilter = _filter_model("UserAggregateQuery", Literal["userId"])
QueueObservationQueryFilter = _filter_model("QueueObservationQuery", Literal["mediaType", "queueId"])


class PagingSpec(Body):
    pageSize: Annotated[int, Field(ge=1, le=MAX_DETAIL_PAGE_SIZE)] | None = None
    pageNumber: Annotated[int, Field(ge=1, le=100_000)] | None = None


class AnalyticsQueryAggregation(Body):
    type: Literal["termFrequency", "numericRange"] | None = None
    dimension: Name | None = None
    metric: Name | None = None
    size: Annotated[int, Field(ge=1, le=1000)] | None = None


Aggregations = Annotated[list[AnalyticsQueryAggregation], Field(max_length=MAX_FILTERS)] | None
IntervalText = Annotated[str, Field(min_length=3, max_length=128, description="ISO-8601 start/end")]


class UserDetailsQueryFields(Body):
    interval: IntervalText
    userFilters: _filters(UserDetailQueryFilter) = None
    presenceFilters: _filters(PresenceDetailQueryFilter) = None
    routingStatusFilters: _filters(RoutingStatusDetailQueryFilter) = None
    order: Order | None = None


class UserDetailsQuery(UserDetailsQueryFields):
    presenceAggregations: Aggregations = None
    routingStatusAggregations: Aggregations = None
    paging: PagingSpec | None = None


class AsyncUserDetailsQuery(UserDetailsQueryFields):
    limit: Annotated[int, Field(ge=1)] | None = None


class ConversationQueryFields(Body):
    interval: IntervalText
    conversationFilters: _filters(ConversationDetailQueryFilter) = None
    segmentFilters: _filters(SegmentDetailQueryFilter) = None
    evaluationFilters: _filters(EvaluationDetailQueryFilter) = None
    surveyFilters: _filters(SurveyDetailQueryFilter) = None
    resolutionFilters: _filters(ResolutionDetailQueryFilter) = None
    order: Order | None = None
    orderBy: Literal["conversationStart", "conversationEnd", "segmentStart", "segmentEnd"] | None = None


class ConversationQuery(ConversationQueryFields):
    aggregations: Aggregations = None
    paging: PagingSpec | None = None


class AsyncConversationQuery(ConversationQueryFields):
    limit: Annotated[int, Field(ge=1)] | None = None
    startOfDayIntervalMatching: bool | None = None


class AggregationQueryFields(Body):
    interval: IntervalText
    granularity: Annotated[str, Field(min_length=2, max_length=32)] | None = None
    timeZone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    flattenMultivaluedDimensions: bool | None = None
    alternateTimeDimension: Literal["eventTime"] | None = None


class ConversationAggregationQuery(AggregationQueryFields):
    groupBy: Annotated[list[Name], Field(max_length=10)] | None = None
    filter: ConversationAggregateQueryFilter | None = None  # type: ignore[valid-type]
    metrics: Annotated[list[Name], Field(min_length=1, max_length=100)]


class UserAggregationQuery(AggregationQueryFields):
    groupBy: Annotated[list[Literal["userId"]], Field(max_length=1)] | None = None
    filter: UserAggregateQueryFilter | None = None  # type: ignore[valid-type]
    metrics: Annotated[
        list[Literal["tAgentRoutingStatus", "tOrganizationPresence", "tSystemPresence"]],
        Field(min_length=1, max_length=3),
    ]


class QueueObservationQuery(Body):
    filter: QueueObservationQueryFilter  # type: ignore[valid-type]
    metrics: Annotated[list[Literal[OBSERVATION_METRICS]], Field(min_length=1, max_length=20)] | None = None  # type: ignore[valid-type]
    detailMetrics: Annotated[list[Name], Field(max_length=20)] | None = None


# -- answers -------------------------------------------------------------------------------


class AggregationResultEntry(Answer):
    value: str
    count: int


class AggregationResult(Answer):
    type: str
    dimension: str
    count: int
    results: list[AggregationResultEntry]


class AnalyticsUserPresenceRecord(Answer):
    startTime: DateTime
    endTime: DateTime | None = None
    systemPresence: str
    organizationPresenceId: str


class AnalyticsRoutingStatusRecord(Answer):
    startTime: DateTime
    endTime: DateTime | None = None
    routingStatus: Literal[ROUTING_STATUSES]  # type: ignore[valid-type]


class AnalyticsUserDetail(Answer):
    userId: str
    primaryPresence: list[AnalyticsUserPresenceRecord] | None = None
    routingStatus: list[AnalyticsRoutingStatusRecord] | None = None


class AnalyticsUserDetailsQueryResponse(Answer):
    userDetails: list[AnalyticsUserDetail] | None = None
    aggregations: list[AggregationResult] | None = None
    totalHits: int


class AnalyticsConversationSegment(Answer):
    segmentStart: DateTime
    segmentEnd: DateTime | None = None
    segmentType: str
    queueId: str | None = None


class AnalyticsSession(Answer):
    sessionId: str
    mediaType: str
    direction: str
    ani: str
    dnis: str
    segments: list[AnalyticsConversationSegment]


class AnalyticsParticipantWithoutAttributes(Answer):
    participantId: str
    participantName: str
    purpose: str
    userId: str | None = None
    sessions: list[AnalyticsSession]


class AnalyticsParticipant(AnalyticsParticipantWithoutAttributes):
    attributes: dict[str, str]


class AnalyticsConversationWithoutAttributes(Answer):
    conversationId: str
    conversationStart: DateTime
    conversationEnd: DateTime | None = None
    divisionIds: list[str]
    originatingDirection: str
    participants: list[AnalyticsParticipantWithoutAttributes]


class AnalyticsConversation(AnalyticsConversationWithoutAttributes):
    participants: list[AnalyticsParticipant]  # type: ignore[assignment]


class AnalyticsConversationQueryResponse(Answer):
    conversations: list[AnalyticsConversationWithoutAttributes] | None = None
    aggregations: list[AggregationResult] | None = None
    totalHits: int


class AsyncQueryResponse(Answer):
    jobId: str


class AsyncQueryStatus(Answer):
    state: Literal["QUEUED", "PENDING", "FAILED", "CANCELLED", "FULFILLED", "EXPIRED"]
    submissionDate: DateTime
    expirationDate: DateTime
    completionDate: DateTime | None = None


class AnalyticsConversationAsyncQueryResponse(Answer):
    conversations: list[AnalyticsConversation]
    cursor: str | None = None
    dataAvailabilityDate: DateTime


class AnalyticsUserDetailsAsyncQueryResponse(Answer):
    userDetails: list[AnalyticsUserDetail]
    cursor: str | None = None
    dataAvailabilityDate: DateTime


class DataAvailabilityResponse(Answer):
    dataAvailabilityDate: DateTime


class StatisticalSummary(Answer):
    max: float | None = None
    min: float | None = None
    count: int | None = None
    sum: float | None = None


class AggregateMetricData(Answer):
    metric: str
    qualifier: str | None = None
    stats: StatisticalSummary


class StatisticalResponse(Answer):
    interval: str
    metrics: list[AggregateMetricData]


class ConversationAggregateDataContainer(Answer):
    group: dict[str, str]
    data: list[StatisticalResponse]


class ConversationAggregateQueryResponse(Answer):
    results: list[ConversationAggregateDataContainer]


class UserAggregateDataContainer(Answer):
    group: dict[str, str]
    data: list[StatisticalResponse]


class UserAggregateQueryResponse(Answer):
    systemToOrganizationMappings: dict[str, list[str]] | None = None
    results: list[UserAggregateDataContainer]


class ObservationMetricData(Answer):
    metric: str
    qualifier: str | None = None
    stats: StatisticalSummary


class QueueObservationDataContainer(Answer):
    group: dict[str, str]
    data: list[ObservationMetricData]


class QueueObservationQueryResponse(Answer):
    systemToOrganizationMappings: dict[str, list[str]] | None = None
    results: list[QueueObservationDataContainer]


# -- parsing -------------------------------------------------------------------------------

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str, field: str) -> float:
    """An ISO-8601 duration in weeks, days, hours, minutes and seconds (`PT30M`, `P1D`, `P1W`), in seconds."""
    match = _DURATION.match(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise InvalidValue(f"{field} must be an ISO-8601 duration such as PT30M or P1D", details=[{"fieldName": field}])
    weeks, days, hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    total = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds
    if total <= 0:
        raise InvalidValue(f"{field} must be longer than zero", details=[{"fieldName": field}])
    return total


def _instant(text: str) -> float:
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def parse_interval(text: str, most_seconds: float) -> Interval:
    """ISO-8601 `start/end` (or `start/duration`); a time without an offset is UTC, as the platform reads it."""
    first, slash, second = text.partition("/")
    try:
        if not slash:
            raise ValueError("no slash")
        start = _instant(first)
        end = start + parse_duration(second, "interval") if second.startswith("P") else _instant(second)
    except (ValueError, OverflowError, OSError, InvalidValue):
        raise InvalidValue(
            "interval must be ISO-8601 start/end, e.g. 2026-11-23T06:00:00Z/2026-11-23T07:00:00Z",
            details=[{"fieldName": "interval"}],
        ) from None
    if end <= start:
        raise InvalidValue("the interval must end after it starts", details=[{"fieldName": "interval"}])
    if end - start > most_seconds:
        raise InvalidValue(
            f"the interval may span at most {most_seconds / 86_400:g} days", details=[{"fieldName": "interval"}]
        )
    return Interval(start, end)


def _predicate(body: dict[str, Any], field: str) -> Predicate:
    kind = body.get("type") or "dimension"
    operator = body.get("operator") or "matches"
    # A metric or property predicate looks at data the mock never records: it sees none.
    dimension = body.get("dimension") if kind == "dimension" else f"{kind}:{body.get('metric') or ''}"
    if dimension is None:
        raise InvalidValue(f"{field}: a dimension predicate names its dimension", details=[{"fieldName": field}])
    if operator == "matches" and body.get("value") is None and body.get("range") is None:
        raise InvalidValue(f"{field}: a matches predicate needs a value", details=[{"fieldName": field}])
    return Predicate(dimension, operator, body.get("value"))


def parse_filter(body: dict[str, Any], field: str) -> Filter:
    predicates = tuple(_predicate(p, f"{field}.predicates") for p in body.get("predicates") or ())
    clauses = tuple(
        Clause(c["type"], tuple(_predicate(p, f"{field}.clauses.predicates") for p in c["predicates"]))
        for c in body.get("clauses") or ()
    )
    if not predicates and not clauses:
        raise InvalidValue(f"{field} needs predicates or clauses", details=[{"fieldName": field}])
    return Filter(body["type"], clauses, predicates)


def _filter_list(body: dict[str, Any], name: str) -> tuple[Filter, ...]:
    return tuple(parse_filter(f, name) for f in body.get(name) or ())


def parse_paging(body: dict[str, Any]) -> Paging:
    paging = body.get("paging") or {}
    return Paging(paging.get("pageSize") or 25, paging.get("pageNumber") or 1)


def parse_aggregations(body: dict[str, Any], name: str) -> tuple[TermAggregation, ...]:
    found = []
    for aggregation in body.get(name) or ():
        if aggregation.get("type", "termFrequency") != "termFrequency" or not aggregation.get("dimension"):
            raise InvalidValue(
                f"{name}: the mock rolls up termFrequency over a dimension only", details=[{"fieldName": name}]
            )
        found.append(TermAggregation(aggregation["dimension"], aggregation.get("size") or 10))
    return tuple(found)


def _user_query(body: dict[str, Any], most_seconds: float) -> domain.UserDetailsQuery:
    return domain.UserDetailsQuery(
        parse_interval(body["interval"], most_seconds),
        _filter_list(body, "userFilters"),
        _filter_list(body, "presenceFilters"),
        _filter_list(body, "routingStatusFilters"),
        body.get("order") or "asc",
        parse_aggregations(body, "presenceAggregations"),
        parse_aggregations(body, "routingStatusAggregations"),
        parse_paging(body),
    )


def parse_user_details_query(body: dict[str, Any]) -> domain.UserDetailsQuery:
    """A checked UserDetailsQuery body as the domain's query."""
    return _user_query(body, MAX_DETAIL_INTERVAL_SECONDS)


def parse_user_details_job(body: dict[str, Any]) -> tuple[domain.UserDetailsQuery, int | None]:
    return _user_query(body, MAX_JOB_INTERVAL_SECONDS), body.get("limit")


def _conversation_query(body: dict[str, Any], most_seconds: float) -> domain.ConversationDetailsQuery:
    return domain.ConversationDetailsQuery(
        parse_interval(body["interval"], most_seconds),
        _filter_list(body, "conversationFilters"),
        _filter_list(body, "segmentFilters"),
        body.get("order") or "asc",
        body.get("orderBy") or "conversationStart",
        parse_aggregations(body, "aggregations"),
        parse_paging(body),
        _filter_list(body, "evaluationFilters")
        + _filter_list(body, "surveyFilters")
        + _filter_list(body, "resolutionFilters"),
    )


def parse_conversation_query(body: dict[str, Any]) -> domain.ConversationDetailsQuery:
    """A checked ConversationQuery body as the domain's query."""
    return _conversation_query(body, MAX_DETAIL_INTERVAL_SECONDS)


def parse_conversation_job(body: dict[str, Any]) -> tuple[domain.ConversationDetailsQuery, int | None]:
    return _conversation_query(body, MAX_JOB_INTERVAL_SECONDS), body.get("limit")


def parse_aggregate_query(body: dict[str, Any]) -> domain.AggregateQuery:
    """A checked ConversationAggregationQuery or UserAggregationQuery body as the domain's query."""
    granularity = body.get("granularity")
    return domain.AggregateQuery(
        parse_interval(body["interval"], MAX_JOB_INTERVAL_SECONDS),
        tuple(dict.fromkeys(body["metrics"])),
        None if granularity is None else parse_duration(granularity, "granularity"),
        tuple(dict.fromkeys(body.get("groupBy") or ())),
        None if body.get("filter") is None else parse_filter(body["filter"], "filter"),
    )


def parse_observation_query(body: dict[str, Any]) -> domain.ObservationQuery:
    """A checked QueueObservationQuery: its filter must name the queues (queueId predicates)."""
    query_filter = parse_filter(body["filter"], "filter")
    if not query_filter.values_of("queueId"):
        raise InvalidValue("the filter must name at least one queueId", details=[{"fieldName": "filter"}])
    return domain.ObservationQuery(query_filter, tuple(dict.fromkeys(body.get("metrics") or OBSERVATION_METRICS)))


def parse_job_page(args: Any) -> tuple[str | None, int]:
    """A job's results query: `cursor` (opaque, from the previous page) and `pageSize`."""
    text = args.get("pageSize")
    size = DEFAULT_JOB_PAGE
    if text is not None:
        if not text.isascii() or not text.isdigit() or not 1 <= int(text[:9]) <= MAX_JOB_PAGE:
            raise InvalidValue(
                f"pageSize must be an integer from 1 to {MAX_JOB_PAGE}", details=[{"fieldName": "pageSize"}]
            )
        size = int(text)
    cursor = args.get("cursor")
    if cursor is not None and not 1 <= len(cursor) <= 512:
        raise InvalidValue("cursor is not one this job gave", details=[{"fieldName": "cursor"}])
    return cursor, size


# -- routes --------------------------------------------------------------------------------

ANALYTICS = "/api/v2/analytics"
JOB_PAGE_QUERY = (
    Query("cursor", {"type": "string", "minLength": 1, "maxLength": 512}, description="from the previous page"),
    Query(
        "pageSize",
        {"type": "integer", "minimum": 1, "maximum": MAX_JOB_PAGE},
        description=f"default {DEFAULT_JOB_PAGE}",
    ),
)


# A job's path parameter, named apart per kind so each kind's routes can be given a job of their own.
JOB_PARAMS = {"conversations": "job_id", "users": "user_job_id"}


def _jobs(kind: str, body: Any, results: Any, prefix: str, name: str) -> tuple[Route, ...]:
    base = f"{ANALYTICS}/{kind}/details/jobs"
    job = base + "/{" + JOB_PARAMS[kind] + "}"
    return (
        Route(
            "POST",
            base,
            f"post{prefix}DetailsJobs",
            f"Submit an asynchronous {name} details query",
            "real",
            {202: AsyncQueryResponse},
            body,
        ),
        Route(
            "GET",
            job,
            f"get{prefix}DetailsJob",
            f"The state of an asynchronous {name} details query",
            "real",
            {200: AsyncQueryStatus},
        ),
        Route(
            "DELETE",
            job,
            f"delete{prefix}DetailsJob",
            f"Cancel (forget) an asynchronous {name} details query",
            "real",
            {204: NoBody},
        ),
        Route(
            "GET",
            job + "/results",
            f"get{prefix}DetailsJobResults",
            f"A page of a fulfilled {name} job's results",
            "real",
            {200: results},
            query=JOB_PAGE_QUERY,
        ),
        Route(
            "GET",
            base + "/availability",
            f"get{prefix}DetailsJobsAvailability",
            "Until when the data is available to jobs",
            "real",
            {200: DataAvailabilityResponse},
        ),
    )


ROUTES = (
    Route(
        "POST",
        ANALYTICS + "/users/details/query",
        "postAnalyticsUsersDetailsQuery",
        "Users' presence and routing-status intervals",
        "real",
        {200: AnalyticsUserDetailsQueryResponse},
        UserDetailsQuery,
    ),
    Route(
        "POST",
        ANALYTICS + "/conversations/details/query",
        "postAnalyticsConversationsDetailsQuery",
        "Conversations with their participants, sessions and segments",
        "real",
        {200: AnalyticsConversationQueryResponse},
        ConversationQuery,
    ),
    Route(
        "POST",
        ANALYTICS + "/conversations/aggregates/query",
        "postAnalyticsConversationsAggregatesQuery",
        "Conversation metrics by group and interval",
        "real",
        {200: ConversationAggregateQueryResponse},
        ConversationAggregationQuery,
    ),
    Route(
        "POST",
        ANALYTICS + "/users/aggregates/query",
        "postAnalyticsUsersAggregatesQuery",
        "Time in each routing status and presence, by user and interval",
        "real",
        {200: UserAggregateQueryResponse},
        UserAggregationQuery,
    ),
    Route(
        "POST",
        ANALYTICS + "/queues/observations/query",
        "postAnalyticsQueuesObservationsQuery",
        "Queues' members now: on queue by routing status, off queue, presences",
        "real",
        {200: QueueObservationQueryResponse},
        QueueObservationQuery,
    ),
    *_jobs(
        "conversations",
        AsyncConversationQuery,
        AnalyticsConversationAsyncQueryResponse,
        "AnalyticsConversations",
        "conversation",
    ),
    *_jobs("users", AsyncUserDetailsQuery, AnalyticsUserDetailsAsyncQueryResponse, "AnalyticsUsers", "user"),
)
