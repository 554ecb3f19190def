"""Workforce management: business units, management units, schedules and publish operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockgc.platform.domain.clocktext import iso


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


@dataclass(slots=True)
class UploadSlot:
    """An upload URL handed out by `update/uploadurl`; the body arrives later by PUT."""

    key: str
    schedule_id: str
    content_length: int
    body: dict[str, Any] | None = None


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
