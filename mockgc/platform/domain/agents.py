"""Agents (users) with routing status, presence and the scenario's Available/Reserved status."""

from __future__ import annotations

from dataclasses import dataclass

from mockgc.platform.domain.clocktext import iso

ROUTING_STATUSES = ("OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING")

# The org's system presence definitions; ids are stable so clients can hard-code them.
PRESENCE_DEFINITIONS: dict[str, str] = {
    "Available": "6a3af858-942f-489d-9700-5f9bcdcdae9b",
    "Away": "5e5c5c66-ea97-4e7f-ac41-6424784829f2",
    "Busy": "31fe3bac-dea6-44b7-bed7-47f91660a1a0",
    "Offline": "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5",
    "Idle": "3fd96123-badb-4f69-bc03-1b1ccc6d8014",
    "On Queue": "e08eaf1b-ee47-4fa9-a231-1200e284798f",
    "Meal": "e88f08e8-7b4e-4a5b-9e91-7f4c2d0a1a11",
    "Training": "4a7b5b2c-7f1e-4d3a-9c0e-2b8f6d1e3a22",
    "Meeting": "c7e8a6d1-2f3b-4c5d-8e9f-0a1b2c3d4e33",
    "Break": "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e544",
}
PRESENCE_BY_ID = {v: k for k, v in PRESENCE_DEFINITIONS.items()}

SCENARIO_AVAILABLE = "Available"
SCENARIO_RESERVED = "Reserved"


@dataclass(slots=True)
class Agent:
    id: str
    name: str
    email: str
    business_unit_id: str
    management_unit_id: str
    routing_status: str
    routing_started: float
    system_presence: str
    presence_message: str
    presence_modified: float
    scenario_status: str = SCENARIO_AVAILABLE

    def routing_to_api(self) -> dict[str, object]:
        return {"userId": self.id, "status": self.routing_status, "startTime": iso(self.routing_started)}

    def presence_to_api(self, source_id: str) -> dict[str, object]:
        return {
            "id": source_id,
            "name": self.name,
            "source": "PURECLOUD",
            "sourceId": source_id,
            "primary": True,
            "presenceDefinition": {
                "id": PRESENCE_DEFINITIONS[self.system_presence],
                "systemPresence": self.system_presence,
                "selfUri": f"/api/v2/presencedefinitions/{PRESENCE_DEFINITIONS[self.system_presence]}",
            },
            "message": self.presence_message,
            "modifiedDate": iso(self.presence_modified),
            "selfUri": f"/api/v2/users/{self.id}/presences/{source_id}",
            # Mock-only: the field report's status, kept out of the real enum fields.
            "mockgcScenarioStatus": self.scenario_status,
        }

    def to_api(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "state": "active",
            "selfUri": f"/api/v2/users/{self.id}",
            "mockgcScenarioStatus": self.scenario_status,
            "mockgcBusinessUnitId": self.business_unit_id,
        }
