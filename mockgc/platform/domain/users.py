"""The users area: agents, their presence and routing status, and the scenario's Available/Reserved status."""

from __future__ import annotations

from dataclasses import dataclass, replace

from faker import Faker

from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.context import OrgContext, operation
from mockgc.platform.domain.errors import NotFound

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
PRESENCE_SOURCE = "purecloud"  # the only presence source, as a path spells it (any case)
PRESENCE_SOURCE_ID = "PURECLOUD"  # and as the platform answers it

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

    def presence_to_api(self) -> dict[str, object]:
        definition_id = PRESENCE_DEFINITIONS[self.system_presence]
        return {
            "id": PRESENCE_SOURCE_ID,
            "name": self.name,
            "source": "PURECLOUD",
            "sourceId": PRESENCE_SOURCE_ID,
            "primary": True,
            "presenceDefinition": {
                "id": definition_id,
                "systemPresence": self.system_presence,
                "selfUri": f"/api/v2/presencedefinitions/{definition_id}",
            },
            "message": self.presence_message,
            "modifiedDate": iso(self.presence_modified),
            "selfUri": f"/api/v2/users/{self.id}/presences/{PRESENCE_SOURCE_ID}",
        }

    def routing_event_to_api(self) -> dict[str, object]:
        """The routingStatus topic's body (the SDK's UserRoutingStatusUserRoutingStatus)."""
        return {"id": self.id, "routingStatus": {"status": self.routing_status, "startTime": iso(self.routing_started)}}

    def presence_event_to_api(self) -> dict[str, object]:
        """The presence topic's body (the SDK's PresenceEventUserPresence), not a full UserPresence."""
        return {
            "source": "PURECLOUD",
            "presenceDefinition": {
                "id": PRESENCE_DEFINITIONS[self.system_presence],
                "systemPresence": self.system_presence,
            },
            "primary": True,
            "message": self.presence_message,
            "modifiedDate": iso(self.presence_modified),
        }

    def to_api(self) -> dict[str, object]:
        """The platform's User: only fields the SDK's model has (tests/test_sdk_models.py)."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "state": "active",
            "version": 1,
            "selfUri": f"/api/v2/users/{self.id}",
        }

    def admin_to_api(self) -> dict[str, object]:
        """The User with what only the mock knows (GET /mock/info): the field report's status, kept
        out of the platform's answers, and the agent's business unit."""
        return {
            **self.to_api(),
            "mockgcScenarioStatus": self.scenario_status,
            "mockgcBusinessUnitId": self.business_unit_id,
        }


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """A manual presence change: a system presence, a message, or both (None leaves it as it is)."""

    system_presence: str | None = None
    message: str | None = None


class Users:
    """The org's agents. Manual status changes never take the publish lock; a hold's end flips the
    scenario status to Reserved (`reserve`)."""

    def __init__(self, ctx: OrgContext) -> None:
        self.ctx = ctx
        self.agents: dict[str, Agent] = {}

    def seed(self, count: int, business_unit_id: str, management_unit_ids: list[str]) -> None:
        """Seeded names (Faker) and ids, spread over the management units in turn."""
        faker = Faker("en_US")
        faker.seed_instance(self.ctx.settings.seed)
        now = self.ctx.clock.now()
        for index in range(count):
            name = faker.name()
            handle = name.lower().replace(" ", ".").replace("'", "")
            email = f"{handle}.{index}@example.com"
            unit = management_unit_ids[index % len(management_unit_ids)]
            agent = Agent(self.ctx.new_id(), name, email, business_unit_id, unit, "IDLE", now, "Available", "", now)
            self.agents[agent.id] = agent

    # -- for the other areas (called inside their operations) ---------------------------

    def agent(self, user_id: str) -> Agent:
        agent = self.agents.get(user_id)
        if agent is None:
            raise NotFound(f"User {user_id} not found", details=[{"entityId": user_id, "entityName": "user"}])
        return agent

    def members(self, business_unit_id: str) -> list[Agent]:
        return [a for a in self.agents.values() if a.business_unit_id == business_unit_id]

    def reserve(self, agent_id: str) -> None:
        """The scenario's status flip when a publish lets go of the agent."""
        self.agents[agent_id].scenario_status = SCENARIO_RESERVED

    # -- operations (each answers a detached copy, safe to serialize outside the lock) ---

    @operation
    def list_users(self) -> list[Agent]:
        return [replace(agent) for agent in self.agents.values()]

    @operation
    def routing_status(self, user_id: str) -> Agent:
        return replace(self.agent(user_id))

    @operation
    def set_routing_status(self, user_id: str, status: str) -> Agent:
        agent = self.agent(user_id)
        now = self.ctx.clock.now()
        agent.routing_status, agent.routing_started = status, now
        self.ctx.events.emit(now, f"v2.users.{user_id}.routingStatus", agent.routing_event_to_api())
        return replace(agent)

    @operation
    def presence(self, user_id: str, source_id: str) -> Agent:
        self._check_source(source_id)
        return replace(self.agent(user_id))

    @operation
    def set_presence(self, user_id: str, source_id: str, change: PresenceChange) -> Agent:
        self._check_source(source_id)
        return self._apply(self.agent(user_id), change)

    @operation
    def set_presences(self, source_id: str, changes: list[tuple[str, PresenceChange]]) -> list[Agent]:
        """Every user must exist before any change applies, so a bad entry never leaves half a batch."""
        self._check_source(source_id)
        agents = [self.agent(user_id) for user_id, _ in changes]
        return [self._apply(agent, change) for agent, (_, change) in zip(agents, changes, strict=True)]

    def _check_source(self, source_id: str) -> None:
        if source_id.lower() != PRESENCE_SOURCE:
            raise NotFound(f"Presence source {source_id} not found")

    def _apply(self, agent: Agent, change: PresenceChange) -> Agent:
        if change.system_presence is not None:
            agent.system_presence = change.system_presence
            if change.system_presence in ("Available", "On Queue"):
                # An agent who makes themselves available by hand is no longer reserved.
                agent.scenario_status = SCENARIO_AVAILABLE
        if change.message is not None:
            agent.presence_message = change.message
        agent.presence_modified = self.ctx.clock.now()
        self.ctx.events.emit(agent.presence_modified, f"v2.users.{agent.id}.presence", agent.presence_event_to_api())
        return replace(agent)
