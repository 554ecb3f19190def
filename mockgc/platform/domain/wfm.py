"""The workforce management area: business units, schedules, the update-upload flow and publish operations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.context import OrgContext, operation
from mockgc.platform.domain.errors import Conflict, InvalidValue, NotFound
from mockgc.platform.domain.faults import Faults
from mockgc.platform.domain.publish_lock import Locks
from mockgc.platform.domain.users import Users

UPLOAD_KEY_BYTES = 32  # 256 bits, as unguessable as a pre-signed URL's signature
SHORTCUT_WEEK = "2026-11-23"  # the week of the in-process drivers' publishes


@dataclass(slots=True)
class ManagementUnit:
    id: str
    name: str
    business_unit_id: str


@dataclass(slots=True)
class BusinessUnit:
    id: str
    name: str
    management_units: list[ManagementUnit]

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "division": {"id": "home", "name": "Home"},
            "selfUri": f"/api/v2/workforcemanagement/businessunits/{self.id}",
        }

    def detail_to_api(self) -> dict[str, Any]:
        body = self.to_api()
        body["settings"] = {"startDayOfWeek": "Monday", "timeZone": "America/Chicago"}
        body["managementUnits"] = [{"id": mu.id, "name": mu.name} for mu in self.management_units]
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
            "selfUri": (
                f"/api/v2/workforcemanagement/businessunits/{self.business_unit_id}"
                f"/weeks/{self.week_date}/schedules/{self.id}"
            ),
        }


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
    agents_held: int = 0
    batches: list[tuple[float, float]] = field(default_factory=list)

    def to_api(self, schedule: Schedule | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status,
            "operationId": self.id,
            "mockgc": {
                "businessUnitId": self.business_unit_id,
                "scheduleId": self.schedule_id,
                "startedEpochMs": int(self.started * 1000),
                "completesEpochMs": int(self.completes_at * 1000),
                "publishes": self.publishes,
                "agentsHeld": self.agents_held,
                "batchWindowsEpochMs": [[int(a * 1000), int(b * 1000)] for a, b in self.batches],
            },
        }
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
        if slot.upload.version != schedule.version:
            raise Conflict(
                f"Schedule {schedule_id} is at version {schedule.version}; "
                f"the upload was made against {slot.upload.version}"
            )
        del self.uploads[upload_key]
        return self._start_update(schedule, publishes=slot.upload.published).copy()

    @operation
    def publish_now(self, bu_id: str | None = None) -> PublishOperation:
        """A shortcut for in-process drivers: create a schedule and publish it at once (the live operation)."""
        bu = self._business_unit(bu_id) if bu_id else next(iter(self.business_units.values()))
        schedule = Schedule(self.ctx.new_id(), bu.id, SHORTCUT_WEEK, 1, "in-process publish", self.ctx.clock.now())
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

    def _start_update(self, schedule: Schedule, *, publishes: bool) -> PublishOperation:
        lock = self.faults.profile.publish
        t0 = self.ctx.clock.now() + lock.start_delay_ms / 1000
        op = PublishOperation(self.ctx.new_id(), schedule.business_unit_id, schedule.id, t0, t0, publishes)
        self.operations[op.id] = op
        if publishes:
            members = [agent.id for agent in self.users.members(schedule.business_unit_id)]
            op.batches = self.locks.plan(op.id, op.started, members, lock)
            op.completes_at = max([op.completes_at, *(end for _, end in op.batches)])
            op.agents_held = len(members)
        self.ctx.timeline.schedule(op.completes_at, partial(self._complete_update, op))
        return op

    def _complete_update(self, op: PublishOperation, at: float) -> None:
        schedule = self.schedules[op.schedule_id]
        op.status = "Complete"
        schedule.version += 1
        if op.publishes:
            schedule.published = True
        self.ctx.events.emit(
            at,
            f"v2.workforcemanagement.businessunits.{op.business_unit_id}.schedules",
            {"status": "Complete", "operationId": op.id, "eventType": "Update", "result": schedule.to_api()},
        )
