"""Workforce management: business units, schedules, the update-upload publish flow and its operations."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mockgc.platform.api.base import Answer, Body, Date, DateTime, NoBody, Query, Route

MAX_UPLOAD_BYTES = 100_000_000
WEEK_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class NewScheduleBody(Body):
    description: Annotated[str, Field(max_length=1024)] = ""
    weekCount: Annotated[int, Field(ge=1, le=6)] = 1


class UploadUrlBody(Body):
    contentLengthBytes: Annotated[int, Field(gt=0, le=MAX_UPLOAD_BYTES)]


class UpdateBody(Body):
    uploadKey: Annotated[str, Field(min_length=1, max_length=1024)]


class ScheduleMetadata(Body):
    version: int


class ScheduleUploadBody(Body):
    """The uploaded schedule document (gzip-compressed JSON): the mock reads these fields, not the rest."""

    published: bool = False
    metadata: ScheduleMetadata


class DivisionRef(Answer):
    id: str
    selfUri: str


class BusinessUnit(Answer):
    id: str
    name: str
    division: DivisionRef
    selfUri: str


class BusinessUnitListing(Answer):
    entities: list[BusinessUnit]


class Version(Answer):
    version: int


class BusinessUnitSettings(Answer):
    startDayOfWeek: str
    timeZone: str
    metadata: Version


class BusinessUnitDetail(BusinessUnit):
    settings: BusinessUnitSettings


class ScheduleVersion(Answer):
    version: int
    dateModified: DateTime


class Schedule(Answer):
    id: str
    weekDate: Date
    weekCount: int
    description: str
    published: bool
    metadata: ScheduleVersion
    selfUri: str


class UploadBodySchema(Answer):
    """The document an update upload takes, filled in with the schedule (the SDK's UpdateScheduleUploadSchema)."""

    description: str
    published: bool
    agentSchedules: list[dict[str, Any]]
    metadata: Version


class UploadUrl(Answer):
    uploadKey: str
    url: str
    headers: dict[str, str]
    uploadBodySchema: UploadBodySchema


class ScheduleListing(Answer):
    entities: list[Schedule]


class BusinessUnitRef(Answer):
    id: str
    selfUri: str


class ManagementUnit(Answer):
    id: str
    name: str
    businessUnit: BusinessUnitRef
    startDayOfWeek: str
    timeZone: str
    division: DivisionRef
    selfUri: str


class ManagementUnitListing(Answer):
    entities: list[ManagementUnit]


class ActivityCode(Answer):
    id: str
    name: str
    active: bool
    defaultCode: bool
    category: str
    countsAsPaidTime: bool
    countsAsWorkTime: bool
    selfUri: str


class ActivityCodeListing(Answer):
    entities: list[ActivityCode]


class AgentSchedulesQueryBody(Body):
    """The SDK's BuQueryAgentSchedulesRequest: whose shifts (everyone's when neither is given)."""

    managementUnitId: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    userIds: list[Annotated[str, Field(min_length=1, max_length=1024)]] | None = None
    teamIds: list[str] | None = None


class UserRef(Answer):
    id: str
    selfUri: str


class ScheduleRef(Answer):
    id: str
    weekDate: Date
    selfUri: str


class ShiftActivity(Answer):
    startDate: DateTime
    lengthMinutes: int
    description: str
    activityCodeId: str
    paid: bool


class Shift(Answer):
    id: str
    startDate: DateTime
    lengthMinutes: int
    activities: list[ShiftActivity]
    manuallyEdited: bool
    schedule: ScheduleRef


class AgentSchedule(Answer):
    user: UserRef
    shifts: list[Shift]
    fullDayTimeOffMarkers: list[dict[str, Any]]
    metadata: ScheduleVersion


class AgentSchedules(Answer):
    """The SDK's BuAgentSchedulesQueryResponse (inline, or what a download URL serves)."""

    agentSchedules: list[AgentSchedule]
    businessUnitTimeZone: str


class AgentSchedulesAnswer(Answer):
    """The SDK's BuAsyncAgentSchedulesQueryResponse: the result, a download URL, or Processing."""

    status: str
    operationId: str
    result: AgentSchedules | None = None
    downloadUrl: str | None = None


class OperationTimes(Answer):
    """mock-only: the publish's plan, which the real platform never shows."""

    businessUnitId: str
    scheduleId: str
    startedEpochMs: int
    completesEpochMs: int
    publishes: bool
    agentsHeld: int
    batchWindowsEpochMs: list[list[int]]
    error: str | None = Field(None, description="why an accepted update ends in Error (a stale version)")


class ScheduleOperation(Answer):
    """The platform's answer to a schedule update: its state, and the schedule once Complete."""

    status: str
    operationId: str
    result: Schedule | None = None


class Operation(Answer):
    """An operation as the mock-only operations routes show it: with the publish's plan."""

    status: str
    operationId: str
    mockgc: OperationTimes = Field(description="mock-only: the publish's plan")
    result: Schedule | None = None


class OperationListing(Answer):
    entities: list[Operation]


BU = "/api/v2/workforcemanagement/businessunits/{bu_id}"
SCHEDULE = BU + "/weeks/{week_id}/schedules/{schedule_id}"
FLAG: dict[str, Any] = {"type": "boolean"}
DATE: dict[str, Any] = {"type": "string", "pattern": WEEK_PATTERN}


ROUTES = (
    Route(
        "GET",
        "/api/v2/workforcemanagement/businessunits",
        "getWorkforcemanagementBusinessunits",
        "List business units",
        "real",
        {200: BusinessUnitListing},
    ),
    Route("GET", BU, "getWorkforcemanagementBusinessunit", "A business unit", "real", {200: BusinessUnitDetail}),
    Route(
        "GET",
        BU + "/managementunits",
        "getWorkforcemanagementBusinessunitManagementunits",
        "The business unit's management units",
        "real",
        {200: ManagementUnitListing},
        query=(Query("feature", {"type": "string"}), Query("divisionId", {"type": "string"})),
    ),
    Route(
        "GET",
        BU + "/activitycodes",
        "getWorkforcemanagementBusinessunitActivitycodes",
        "The business unit's activity codes",
        "real",
        {200: ActivityCodeListing},
    ),
    Route(
        "GET",
        BU + "/weeks/{week_id}/schedules",
        "getWorkforcemanagementBusinessunitWeekSchedules",
        "The schedules spanning a week, or with weekId=recent those starting within 26 weeks of today",
        "real",
        {200: ScheduleListing},
        query=(
            Query("earliestWeekDate", DATE, description="with weekId=recent: the earliest start week"),
            Query("latestWeekDate", DATE, description="with weekId=recent: the latest start week"),
            Query("includeOnlyPublished", FLAG),
            Query("expand", {"type": "string"}),
        ),
    ),
    Route(
        "POST",
        SCHEDULE + "/agentschedules/query",
        "postWorkforcemanagementBusinessunitWeekScheduleAgentschedulesQuery",
        "The agents' shifts in a schedule: inline, by download URL, or Processing and a notification",
        "real",
        {200: AgentSchedulesAnswer},
        AgentSchedulesQueryBody,
        query=(
            Query("forceAsync", FLAG, description="Processing now; the download URL on the schedules.query topic"),
            Query("forceDownloadService", FLAG, description="the result behind a download URL"),
        ),
    ),
    Route(
        "GET",
        "/downloads/agentschedules/{download_key}",
        "getAgentSchedulesDownload",
        "The pre-signed download URL of an agent schedules query: the key is the credential",
        "mock-only",
        {200: AgentSchedules},
        auth="none",
    ),
    Route(
        "POST",
        BU + "/weeks/{week_id}/schedules",
        "postWorkforcemanagementBusinessunitWeekSchedules",
        "Create a blank schedule for a week",
        "real",
        {200: Schedule},
        NewScheduleBody,
        body_required=False,
    ),
    Route(
        "GET",
        SCHEDULE,
        "getWorkforcemanagementBusinessunitWeekSchedule",
        "A schedule's metadata",
        "real",
        {200: Schedule},
    ),
    Route(
        "POST",
        SCHEDULE + "/update/uploadurl",
        "postWorkforcemanagementBusinessunitWeekScheduleUpdateUploadurl",
        "An upload URL for a schedule update",
        "real",
        {200: UploadUrl},
        UploadUrlBody,
    ),
    Route(
        "POST",
        SCHEDULE + "/update",
        "postWorkforcemanagementBusinessunitWeekScheduleUpdate",
        "Apply an uploaded schedule update (publishes if it says so)",
        "real",
        {200: ScheduleOperation},
        UpdateBody,
    ),
    Route(
        "GET",
        BU + "/operations",
        "getMockWorkforcemanagementOperations",
        "Every schedule update operation of the business unit, with its state",
        "mock-only",
        {200: OperationListing},
    ),
    Route(
        "GET",
        BU + "/operations/{operation_id}",
        "getMockWorkforcemanagementOperation",
        "One operation's state (the platform only announces completion)",
        "mock-only",
        {200: Operation},
    ),
    Route(
        "PUT",
        "/uploads/schedules/{upload_key}",
        "putScheduleUpload",
        "The pre-signed upload target: the key is the credential, the body gzip JSON of the declared length",
        "mock-only",
        {200: NoBody},
        ScheduleUploadBody,
        errors=(409,),
        auth="none",
        payload="bytes",
    ),
)

WEEK_PARAM: dict[str, Any] = {"type": "string", "pattern": WEEK_PATTERN}
