"""The workforce management area: business units, schedules, the update-upload flow and publish operations."""

from __future__ import annotations

import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.context import OrgContext, operation
from mockgc.platform.domain.errors import Conflict, InvalidValue, NotFound
from mockgc.platform.domain.faults import Faults
from mockgc.platform.domain.publish_lock import Locks
from mockgc.platform.domain.users import Users

UPLOAD_KEY_BYTES = 32  # 256 bits, as unguessable as a pre-signed URL's signature
# The week every publish mockgc makes schedules (the in-process drivers', the nemesis's); the simulator's
# clock starts on its Monday morning (mockgc/spec/simconfig.py), written here once.
PUBLISH_WEEK = "2026-11-23"
TIME_ZONE = "America/Chicago"
RECENT_WEEKS = 26  # weekId=recent: schedules starting up to 26 weeks either side of today
QUERY_SECONDS = 1.0  # an asynchronous agent schedules query is ready this long after it is asked
MAX_DOWNLOADS = 100  # query results kept for their download URLs; the oldest go first
# Derived ids (activity codes, shifts) come from uuid5 under this namespace, not from the org's
# seeded id stream: adding them moved no id an existing run draws.
_DERIVED_IDS = uuid.UUID("7c1f4e2a-93b5-4d0e-8a6f-5b2d9e0c4f17")
# The business unit's activity codes: (name, category, paid, counts as work time).
ACTIVITY_CODES: tuple[tuple[str, str, bool, bool], ...] = (
    ("On Queue Work", "OnQueueWork", True, True),
    ("Break", "Break", True, False),
    ("Meal", "Meal", False, False),
    ("Meeting", "Meeting", True, True),
    ("Training", "Training", True, True),
    ("Off Queue Work", "OffQueueWork", True, True),
    ("Time Off", "TimeOff", True, False),
    ("Unavailable", "Unavailable", False, False),
)
# Every agent's weekday shift (09:00 to 17:00 in the unit's standard time, UTC-6), as
# (minutes from the shift's start, length in minutes, activity code name).
SHIFT_START_UTC = timedelta(hours=15)
SHIFT_ACTIVITIES: tuple[tuple[int, int, str], ...] = (
    (0, 120, "On Queue Work"),
    (120, 15, "Break"),
    (135, 105, "On Queue Work"),
    (240, 60, "Meal"),
    (300, 180, "On Queue Work"),
)
SHIFT_MINUTES = 480


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_DERIVED_IDS, ":".join(parts)))


@dataclass(slots=True)
class ManagementUnit:
    id: str
    name: str
    business_unit_id: str

    def to_api(self) -> dict[str, Any]:
        """The SDK's ManagementUnit."""
        return {
            "id": self.id,
            "name": self.name,
            "businessUnit": {
                "id": self.business_unit_id,
                "selfUri": f"/api/v2/workforcemanagement/businessunits/{self.business_unit_id}",
            },
            "startDayOfWeek": "Monday",
            "timeZone": TIME_ZONE,
            "division": {"id": "home", "selfUri": "/api/v2/authorization/divisions/home"},
            "selfUri": f"/api/v2/workforcemanagement/managementunits/{self.id}",
        }


@dataclass(frozen=True, slots=True)
class ActivityCode:
    id: str
    name: str
    category: str
    paid: bool
    work: bool
    business_unit_id: str

    def to_api(self) -> dict[str, Any]:
        """The SDK's BusinessUnitActivityCode."""
        return {
            "id": self.id,
            "name": self.name,
            "active": True,
            "defaultCode": True,
            "category": self.category,
            "countsAsPaidTime": self.paid,
            "countsAsWorkTime": self.work,
            "selfUri": f"/api/v2/workforcemanagement/businessunits/{self.business_unit_id}/activitycodes/{self.id}",
        }


@dataclass(slots=True)
class BusinessUnit:
    id: str
    name: str
    management_units: list[ManagementUnit]

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "division": {"id": "home", "selfUri": "/api/v2/authorization/divisions/home"},
            "selfUri": f"/api/v2/workforcemanagement/businessunits/{self.id}",
        }

    def activity_codes(self) -> list[ActivityCode]:
        return [
            ActivityCode(derived_id(self.id, "activitycode", name), name, category, paid, work, self.id)
            for name, category, paid, work in ACTIVITY_CODES
        ]

    def detail_to_api(self) -> dict[str, Any]:
        body = self.to_api()
        # Its management units are their own route on the platform, not part of this answer.
        body["settings"] = {"startDayOfWeek": "Monday", "timeZone": TIME_ZONE, "metadata": {"version": 1}}
        return body


@dataclass(slots=True)
class Schedule:
    id: str
    business_unit_id: str
    week_date: str
    week_count: int
    description: str
    created: float
    published: bool = False
    version: int = 1

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "weekDate": self.week_date,
            "weekCount": self.week_count,
            "description": self.description,
            "published": self.published,
            "metadata": {"version": self.version, "dateModified": iso(self.created)},
            "selfUri": self.self_uri,
        }

    @property
    def self_uri(self) -> str:
        return (
            f"/api/v2/workforcemanagement/businessunits/{self.business_unit_id}"
            f"/weeks/{self.week_date}/schedules/{self.id}"
        )

    def event_to_api(self) -> dict[str, Any]:
        """As the schedules topic carries it (the SDK's WfmBuScheduleTopicBuScheduleMetadata: no selfUri)."""
        body = self.to_api()
        del body["selfUri"]
        return body

    def spans(self, week: date) -> bool:
        start = date.fromisoformat(self.week_date)
        return start <= week < start + timedelta(weeks=self.week_count)

    def upload_schema_to_api(self) -> dict[str, Any]:
        """The document an update upload takes, filled in with this schedule (the SDK's UpdateScheduleUploadSchema)."""
        return {
            "description": self.description,
            "published": self.published,
            "agentSchedules": [],
            "metadata": {"version": self.version},
        }


@dataclass(frozen=True, slots=True)
class WeekQuery:
    """Which schedules GET .../weeks/{weekId}/schedules lists: those spanning `week`, or with weekId=recent
    (`week` None) those starting between `earliest` and `latest` (by default 26 weeks either side of today)."""

    week: date | None
    earliest: date | None = None
    latest: date | None = None
    only_published: bool = False


@dataclass(frozen=True, slots=True)
class AgentSchedulesQuery:
    """A BuQueryAgentSchedulesRequest: whose shifts (None: everyone in the schedule), and how they come back."""

    management_unit_id: str | None
    user_ids: tuple[str, ...] | None
    force_async: bool = False
    force_download: bool = False


@dataclass(frozen=True, slots=True)
class AgentSchedules:
    """The shifts of some agents in one schedule (the SDK's BuAgentSchedulesQueryResponse)."""

    schedule: Schedule
    user_ids: tuple[str, ...]
    activity_code_ids: dict[str, str]

    def to_api(self) -> dict[str, Any]:
        return {
            "agentSchedules": [self._agent_to_api(user_id) for user_id in self.user_ids],
            "businessUnitTimeZone": TIME_ZONE,
        }

    def _agent_to_api(self, user_id: str) -> dict[str, Any]:
        start = date.fromisoformat(self.schedule.week_date)
        days = [start + timedelta(days=n) for n in range(7 * self.schedule.week_count)]
        return {
            "user": {"id": user_id, "selfUri": f"/api/v2/users/{user_id}"},
            "shifts": [self._shift_to_api(user_id, day) for day in days if day.weekday() < 5],
            "fullDayTimeOffMarkers": [],
            "metadata": {"version": self.schedule.version, "dateModified": iso(self.schedule.created)},
        }

    def _shift_to_api(self, user_id: str, day: date) -> dict[str, Any]:
        begins = datetime(day.year, day.month, day.day, tzinfo=UTC) + SHIFT_START_UTC
        return {
            "id": derived_id(self.schedule.id, user_id, day.isoformat()),
            "startDate": iso(begins.timestamp()),
            "lengthMinutes": SHIFT_MINUTES,
            "activities": [
                {
                    "startDate": iso((begins + timedelta(minutes=offset)).timestamp()),
                    "lengthMinutes": length,
                    "description": name,
                    "activityCodeId": self.activity_code_ids[name],
                    "paid": name != "Meal",
                }
                for offset, length, name in SHIFT_ACTIVITIES
            ],
            "manuallyEdited": False,
            "schedule": {
                "id": self.schedule.id,
                "weekDate": self.schedule.week_date,
                "selfUri": self.schedule.self_uri,
            },
        }


@dataclass(frozen=True, slots=True)
class AgentSchedulesAnswer:
    """The SDK's BuAsyncAgentSchedulesQueryResponse: the result inline, a download URL, or Processing
    (the download URL then comes on the business unit's schedules.query topic)."""

    status: str
    operation_id: str
    result: AgentSchedules | None = None
    download_url: str | None = None

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "operationId": self.operation_id}
        if self.result is not None:
            body["result"] = self.result.to_api()
        if self.download_url is not None:
            body["downloadUrl"] = self.download_url
        return body


@dataclass(frozen=True, slots=True)
class ScheduleUpload:
    """What the mock reads of an uploaded schedule document."""

    published: bool
    version: int


@dataclass(slots=True)
class UploadSlot:
    """An upload URL handed out by `update/uploadurl`; the document arrives later by PUT."""

    key: str
    schedule_id: str
    content_length: int
    upload: ScheduleUpload | None = None


@dataclass(slots=True)
class PublishOperation:
    """An asynchronous schedule update; when it publishes, it holds agents in batches."""

    id: str
    business_unit_id: str
    schedule_id: str
    started: float
    completes_at: float
    publishes: bool
    status: str = "Processing"
    # Why an accepted update will fail (a stale version): reported by its state and notification.
    error: str | None = None
    agents_held: int = 0
    batches: list[tuple[float, float]] = field(default_factory=list)

    def to_api(self, schedule: Schedule | None = None, *, plan: bool = True) -> dict[str, Any]:
        """The platform's BuAsyncScheduleResponse; with `plan`, the mock-only "mockgc" plan of the publish
        (the operations routes, which only the mock has, show it; the real update answer does not)."""
        body: dict[str, Any] = {"status": self.status, "operationId": self.id}
        if plan:
            body["mockgc"] = {
                "businessUnitId": self.business_unit_id,
                "scheduleId": self.schedule_id,
                "startedEpochMs": int(self.started * 1000),
                "completesEpochMs": int(self.completes_at * 1000),
                "publishes": self.publishes,
                "agentsHeld": self.agents_held,
                "batchWindowsEpochMs": [[int(a * 1000), int(b * 1000)] for a, b in self.batches],
            }
            if self.error is not None:
                body["mockgc"]["error"] = self.error
        if self.status == "Complete" and schedule is not None:
            body["result"] = schedule.to_api()
        return body

    def window_to_api(self) -> dict[str, Any]:
        """The publish's lock window, as GET /mock/windows (and the checker) read it."""
        return {
            "operationId": self.id,
            "startedEpochMs": int(self.started * 1000),
            "completesEpochMs": int(self.completes_at * 1000),
            "status": self.status,
            "batches": [[int(a * 1000), int(b * 1000)] for a, b in self.batches],
        }

    def copy(self) -> PublishOperation:
        return replace(self, batches=list(self.batches))


@dataclass(frozen=True, slots=True)
class OperationStatus:
    """An operation with its schedule, which it shows once complete."""

    operation: PublishOperation
    schedule: Schedule | None

    def to_api(self) -> dict[str, Any]:
        return self.operation.to_api(self.schedule)


class Wfm:
    """A schedule update runs asynchronously: it completes after its holds (if it publishes), bumps
    the schedule's version and announces itself on the business unit's schedules topic."""

    def __init__(self, ctx: OrgContext, users: Users, locks: Locks, faults: Faults) -> None:
        self.ctx = ctx
        self.users = users
        self.locks = locks
        self.faults = faults
        self.business_units: dict[str, BusinessUnit] = {}
        self.schedules: dict[str, Schedule] = {}
        self.uploads: dict[str, UploadSlot] = {}
        self.operations: dict[str, PublishOperation] = {}
        self.downloads: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def seed(self) -> BusinessUnit:
        """The org's one business unit and its two management units (before the agents: ids in order)."""
        bu = BusinessUnit(self.ctx.new_id(), "Chicago Contact Center", [])
        bu.management_units = [ManagementUnit(self.ctx.new_id(), f"MU {n}", bu.id) for n in ("North", "South")]
        self.business_units[bu.id] = bu
        return bu

    # -- business units and schedules ----------------------------------------------------

    def _business_unit(self, bu_id: str) -> BusinessUnit:
        bu = self.business_units.get(bu_id)
        if bu is None:
            raise NotFound(f"Business unit {bu_id} not found")
        return bu

    def has_management_unit(self, mu_id: str) -> bool:
        return any(mu.id == mu_id for bu in self.business_units.values() for mu in bu.management_units)

    @operation
    def list_business_units(self) -> list[BusinessUnit]:
        return list(self.business_units.values())

    @operation
    def get_business_unit(self, bu_id: str) -> BusinessUnit:
        return self._business_unit(bu_id)

    @operation
    def create_schedule(self, bu_id: str, week_id: str, description: str, week_count: int) -> Schedule:
        self._business_unit(bu_id)
        schedule = Schedule(self.ctx.new_id(), bu_id, week_id, week_count, description, self.ctx.clock.now())
        self.schedules[schedule.id] = schedule
        return replace(schedule)

    def _schedule(self, bu_id: str, week_id: str, schedule_id: str) -> Schedule:
        self._business_unit(bu_id)
        schedule = self.schedules.get(schedule_id)
        if schedule is None or schedule.business_unit_id != bu_id or schedule.week_date != week_id:
            raise NotFound(f"Schedule {schedule_id} not found")
        return schedule

    @operation
    def get_schedule(self, bu_id: str, week_id: str, schedule_id: str) -> Schedule:
        return replace(self._schedule(bu_id, week_id, schedule_id))

    @operation
    def list_schedules(self, bu_id: str, query: WeekQuery) -> list[Schedule]:
        self._business_unit(bu_id)
        if query.week is not None:
            wanted = [s for s in self.schedules.values() if s.business_unit_id == bu_id and s.spans(query.week)]
        else:
            today = datetime.fromtimestamp(self.ctx.clock.now(), UTC).date()
            earliest = query.earliest or today - timedelta(weeks=RECENT_WEEKS)
            latest = query.latest or today + timedelta(weeks=RECENT_WEEKS)
            wanted = [
                s
                for s in self.schedules.values()
                if s.business_unit_id == bu_id and earliest <= date.fromisoformat(s.week_date) <= latest
            ]
        if query.only_published:
            wanted = [s for s in wanted if s.published]
        return [replace(s) for s in sorted(wanted, key=lambda s: (s.week_date, s.created))]

    @operation
    def list_management_units(self, bu_id: str) -> list[ManagementUnit]:
        return [replace(mu) for mu in self._business_unit(bu_id).management_units]

    @operation
    def list_activity_codes(self, bu_id: str) -> list[ActivityCode]:
        return self._business_unit(bu_id).activity_codes()

    # -- agent schedules ------------------------------------------------------------------

    @operation
    def query_agent_schedules(
        self, bu_id: str, week_id: str, schedule_id: str, query: AgentSchedulesQuery, download_prefix: str
    ) -> AgentSchedulesAnswer:
        """The agents' shifts in the schedule: inline, or behind a download URL (`download_prefix` + a secret
        key), or asynchronously: Processing now, the URL on the schedules.query topic QUERY_SECONDS later."""
        schedule = self._schedule(bu_id, week_id, schedule_id)
        bu = self._business_unit(bu_id)
        if query.management_unit_id is not None and not any(
            mu.id == query.management_unit_id for mu in bu.management_units
        ):
            raise InvalidValue(
                f"managementUnitId {query.management_unit_id} is not a management unit of business unit {bu_id}",
                details=[{"fieldName": "managementUnitId"}],
            )
        members = [
            agent
            for agent in self.users.members(bu_id)
            if query.management_unit_id in (None, agent.management_unit_id)
            and (query.user_ids is None or agent.id in query.user_ids)
        ]
        codes = {code.name: code.id for code in bu.activity_codes()}
        result = AgentSchedules(replace(schedule), tuple(agent.id for agent in members), codes)
        operation_id = self.ctx.new_id()
        if query.force_async:
            ready = self.ctx.clock.now() + QUERY_SECONDS
            self.ctx.timeline.schedule(ready, partial(self._finish_query, bu_id, operation_id, result, download_prefix))
            return AgentSchedulesAnswer("Processing", operation_id)
        if query.force_download:
            return AgentSchedulesAnswer("Complete", operation_id, download_url=self._keep(result, download_prefix))
        return AgentSchedulesAnswer("Complete", operation_id, result=result)

    def _keep(self, result: AgentSchedules, download_prefix: str) -> str:
        key = secrets.token_urlsafe(UPLOAD_KEY_BYTES)  # the download URL's only credential
        self.downloads[key] = result.to_api()
        while len(self.downloads) > MAX_DOWNLOADS:
            self.downloads.popitem(last=False)
        return download_prefix + key

    def _finish_query(
        self, bu_id: str, operation_id: str, result: AgentSchedules, download_prefix: str, at: float
    ) -> None:
        self.ctx.events.emit(
            at,
            f"v2.workforcemanagement.businessunits.{bu_id}.schedules.query",
            {"operationId": operation_id, "businessUnitId": bu_id, "downloadUrl": self._keep(result, download_prefix)},
        )

    @operation
    def download(self, key: str) -> dict[str, Any]:
        body = self.downloads.get(key)
        if body is None:
            raise NotFound("Download not found")
        return body

    # -- the update-upload flow ------------------------------------------------------------

    @operation
    def create_upload(self, bu_id: str, week_id: str, schedule_id: str, content_length: int) -> UploadSlot:
        schedule = self._schedule(bu_id, week_id, schedule_id)
        # The key is the upload URL's only credential: a secret, never an id the seed would predict.
        slot = UploadSlot(secrets.token_urlsafe(UPLOAD_KEY_BYTES), schedule.id, content_length)
        self.uploads[slot.key] = slot
        return replace(slot)

    def _open_upload(self, upload_key: str) -> UploadSlot:
        """A live upload slot: issued, not yet uploaded to (a key takes one upload), not yet used."""
        slot = self.uploads.get(upload_key)
        if slot is None:
            raise NotFound("Upload not found")
        if slot.upload is not None:
            raise Conflict("This upload URL was already uploaded to: an upload key takes one upload")
        return slot

    @operation
    def upload_length(self, upload_key: str) -> int:
        """The contentLengthBytes a live upload was issued for; checked before its body is read."""
        return self._open_upload(upload_key).content_length

    @operation
    def receive_upload(self, upload_key: str, upload: ScheduleUpload) -> None:
        self._open_upload(upload_key).upload = upload

    @operation
    def process_update(self, bu_id: str, week_id: str, schedule_id: str, upload_key: str) -> PublishOperation:
        schedule = self._schedule(bu_id, week_id, schedule_id)
        slot = self.uploads.get(upload_key)
        if slot is None or slot.schedule_id != schedule.id:
            raise InvalidValue(
                f"uploadKey {upload_key} does not belong to schedule {schedule_id}",
                details=[{"fieldName": "uploadKey"}],
            )
        if slot.upload is None:
            raise InvalidValue("nothing was uploaded for this uploadKey", details=[{"fieldName": "uploadKey"}])
        del self.uploads[upload_key]
        if slot.upload.version != schedule.version:
            # Accepted, as the platform accepts it: the failure is the operation's state and notification.
            error = (
                f"Schedule {schedule_id} is at version {schedule.version}; "
                f"the upload was made against {slot.upload.version}"
            )
            return self._start_update(schedule, publishes=False, error=error).copy()
        return self._start_update(schedule, publishes=slot.upload.published).copy()

    @operation
    def publish_now(self, bu_id: str | None = None) -> PublishOperation:
        """A shortcut for in-process drivers: create a schedule and publish it at once (the live operation)."""
        bu = self._business_unit(bu_id) if bu_id else next(iter(self.business_units.values()))
        schedule = Schedule(self.ctx.new_id(), bu.id, PUBLISH_WEEK, 1, "in-process publish", self.ctx.clock.now())
        self.schedules[schedule.id] = schedule
        return self._start_update(schedule, publishes=True)

    # -- publish operations ----------------------------------------------------------------

    @operation
    def get_operation(self, operation_id: str, bu_id: str | None = None) -> OperationStatus:
        if bu_id is not None:
            self._business_unit(bu_id)
        op = self.operations.get(operation_id)
        if op is None or (bu_id is not None and op.business_unit_id != bu_id):
            raise NotFound(f"Operation {operation_id} not found")
        schedule = self.schedules.get(op.schedule_id)
        return OperationStatus(op.copy(), replace(schedule) if schedule else None)

    @operation
    def list_operations(self, bu_id: str) -> list[PublishOperation]:
        self._business_unit(bu_id)
        return [op.copy() for op in self.operations.values() if op.business_unit_id == bu_id]

    def _start_update(self, schedule: Schedule, *, publishes: bool, error: str | None = None) -> PublishOperation:
        lock = self.faults.profile.publish
        t0 = self.ctx.clock.now() + lock.start_delay_ms / 1000
        op = PublishOperation(self.ctx.new_id(), schedule.business_unit_id, schedule.id, t0, t0, publishes, error=error)
        self.operations[op.id] = op
        if publishes:
            members = [agent.id for agent in self.users.members(schedule.business_unit_id)]
            op.batches = self.locks.plan(op.id, op.started, members, lock)
            op.completes_at = max([op.completes_at, *(end for _, end in op.batches)])
            op.agents_held = len(members)
        self.ctx.timeline.schedule(op.completes_at, partial(self._complete_update, op))
        return op

    def _complete_update(self, op: PublishOperation, at: float) -> None:
        topic = f"v2.workforcemanagement.businessunits.{op.business_unit_id}.schedules"
        if op.error is not None:
            op.status = "Error"
            self.ctx.events.emit(at, topic, {"status": "Error", "operationId": op.id, "eventType": "Update"})
            return
        schedule = self.schedules[op.schedule_id]
        op.status = "Complete"
        schedule.version += 1
        if op.publishes:
            schedule.published = True
        self.ctx.events.emit(
            at,
            topic,
            {"status": "Complete", "operationId": op.id, "eventType": "Update", "result": schedule.event_to_api()},
        )
