"""The users area: agents, their presence and routing status, and the scenario's Available/Reserved status."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from faker.providers.person.en_US import Provider as PersonNames

from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.context import OrgContext, id_from, operation
from mockgc.platform.domain.errors import Conflict, InvalidValue, NotFound
from mockgc.platform.domain.paging import Page, PageRequest, paginate
from mockgc.platform.domain.statuslog import PRESENCE, ROUTING, StatusInterval, StatusLog
from mockgc.platform.domain.usersearch import Criterion, matches

ROUTING_STATUSES = ("OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING")
OFF_QUEUE, IDLE = "OFF_QUEUE", "IDLE"
ON_QUEUE = "On Queue"

# The platform's system presence definitions: the same ids in every org, so clients hard-code them.
# Taken from a real GET /api/v2/presencedefinitions answer captured from an org, published in
# MyPureCloud/terraform-provider-genesyscloud, genesyscloud/organization_presence_definition/
# data_source_genesyscloud_organization_presence_definition_unit_test.go (its `apiPayload`).
# The keys are the systemPresence values that answer spells ("On Queue" with its space).
PRESENCE_DEFINITIONS: dict[str, str] = {
    "Available": "6a3af858-942f-489d-9700-5f9bcdcdae9b",
    "Away": "5e5c5c66-ea97-4e7f-ac41-6424784829f2",
    "Busy": "31fe3bac-dea6-44b7-bed7-47f91660a1a0",
    "Offline": "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5",
    "Idle": "7ffa01cd-7866-4ad7-8faa-31e11b42f51f",
    "On Queue": "e08eaf1b-ee47-4fa9-a231-1200e284798f",
    "Meal": "3fd96123-badb-4f69-bc03-1b1ccc6d8014",
    "Training": "d2390a99-8546-bad9-8f0a-219548e8aeb0",
    "Meeting": "bbdff279-7ae1-48ea-bade-7831d7234c64",
    "Break": "227b37e2-f1d0-4dd0-8f50-badd7cf6d158",
}
PRESENCE_BY_ID = {v: k for k, v in PRESENCE_DEFINITIONS.items()}
MAX_IDS = 100  # ids one listing or bulk read may name
PRESENCE_SOURCE = "purecloud"  # the only presence source, as a path spells it (any case)
PRESENCE_SOURCE_ID = "PURECLOUD"  # and as the platform answers it

SCENARIO_AVAILABLE = "Available"
SCENARIO_RESERVED = "Reserved"

# What GET /api/v2/users and /users/{id} may expand (the SDK's list); the mock fills the ones below
# that it models and accepts the others with nothing to add, as an org without that data answers.
USER_EXPANDS = frozenset(
    [
        "routingStatus",
        "presence",
        "integrationPresence",
        "conversationSummary",
        "outOfOffice",
        "geolocation",
        "station",
        "authorization",
        "lasttokenissued",
        "dateLastLogin",
        "dateWelcomeSent",
        "authorization.unusedRoles",
        "team",
        "workPlanBidRanks",
        "profileSkills",
        "certifications",
        "locations",
        "groups",
        "skills",
        "languages",
        "languagePreference",
        "employerInfo",
        "biography",
    ]
)
# The seeded mix of presence and routing status: (system presence, routing status) and its share.
SEEDED_MIX: dict[tuple[str, str], float] = {
    (ON_QUEUE, IDLE): 0.35,
    (ON_QUEUE, "INTERACTING"): 0.15,
    ("Available", OFF_QUEUE): 0.15,
    ("Away", OFF_QUEUE): 0.07,
    ("Busy", OFF_QUEUE): 0.05,
    ("Break", OFF_QUEUE): 0.05,
    ("Meal", OFF_QUEUE): 0.03,
    ("Offline", OFF_QUEUE): 0.15,
}
SEEDED_STATUSES = list(SEEDED_MIX)
SEEDED_WEIGHTS = [sum(list(SEEDED_MIX.values())[: i + 1]) for i in range(len(SEEDED_MIX))]
NEVER_LOGGED_IN_SHARE = 0.05  # agents who never logged in: offline, no dateLastLogin
PHONE_SHARE = 0.8  # agents with a work phone in their addresses
INACTIVE_EVERY, MAX_INACTIVE = 25, 10  # one inactive user per 25 agents (and one more), at most 10
LOGIN_SPREAD_SECONDS = 3 * 86_400.0  # seeded agents last logged in within the three days before the org began


@dataclass(frozen=True, slots=True)
class SkillGrant:
    """A routing skill an agent holds, at a proficiency of 0 to 5."""

    id: str
    name: str
    proficiency: float

    def to_api(self) -> dict[str, object]:
        uri = f"/api/v2/routing/skills/{self.id}"
        return {
            "id": self.id,
            "name": self.name,
            "proficiency": self.proficiency,
            "state": "active",
            "skillUri": uri,
            "selfUri": uri,
        }


@dataclass(frozen=True, slots=True)
class GroupTag:
    """A group an agent belongs to, as the user's `expand=groups` shows it (the SDK's Group, whose
    name, type, rulesVisible and visibility are required)."""

    id: str
    name: str

    def to_api(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "type": "official",
            "rulesVisible": True,
            "visibility": "public",
            "selfUri": f"/api/v2/groups/{self.id}",
        }


@dataclass(frozen=True, slots=True)
class Division:
    id: str
    name: str = "Home"

    def to_api(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "selfUri": f"/api/v2/authorization/divisions/{self.id}"}


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
    division: Division = Division("")
    version: int = 1
    date_last_login: float | None = None
    skills: tuple[SkillGrant, ...] = ()
    groups: tuple[GroupTag, ...] = ()
    # Queue id -> joined; the routing area owns the queues, the agent carries their membership.
    queues: dict[str, bool] = field(default_factory=dict)
    queues_changed: float = 0.0
    state: str = "active"
    phone: str | None = None  # a work phone, in E.164
    presence_since: float = 0.0  # when the system presence began (a message changes presence_modified only)
    department: str = ""
    title: str = ""

    @property
    def on_queue(self) -> bool:
        return self.system_presence == ON_QUEUE

    def active_queue_ids(self) -> list[str]:
        return [queue_id for queue_id, joined in self.queues.items() if joined]

    def activity_to_api(self) -> dict[str, object]:
        """The v2.users.{id}.activity body (the SDK's AgentActivityChangedTopicAgentActivity)."""
        return {
            "id": self.id,
            "routingStatus": {"status": self.routing_status, "startTime": iso(self.routing_started)},
            "presence": {
                "presenceDefinition": {
                    "id": PRESENCE_DEFINITIONS[self.system_presence],
                    "systemPresence": self.system_presence,
                },
                "presenceMessage": self.presence_message,
                "modifiedDate": iso(self.presence_modified),
            },
            "outOfOffice": {"active": False, "modifiedDate": iso(self.presence_modified)},
            "activeQueueIds": self.active_queue_ids(),
            "dateActiveQueuesChanged": iso(self.queues_changed),
        }

    def reference_to_api(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "selfUri": f"/api/v2/users/{self.id}"}

    def uc_presence_to_api(self) -> dict[str, object]:
        """One entry of GET /api/v2/users/presences/purecloud/bulk (the SDK's UcUserPresence)."""
        presence = self.presence_to_api()
        return {
            "userId": self.id,
            "source": presence["source"],
            "sourceId": presence["sourceId"],
            "presenceDefinition": presence["presenceDefinition"],
            "message": presence["message"],
            "modifiedDate": presence["modifiedDate"],
        }

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

    def to_api(self, expand: Iterable[str] = ()) -> dict[str, object]:
        """The SDK's User: only its fields, the expanded ones when asked for."""
        wanted = frozenset(expand)
        api: dict[str, object] = {
            "id": self.id,
            "name": self.name,
            "division": self.division.to_api(),
            "email": self.email,
            "primaryContactInfo": [{"address": self.email, "mediaType": "EMAIL", "type": "PRIMARY"}],
            "addresses": [] if self.phone is None else [phone_contact(self.phone)],
            "state": self.state,
            "username": self.email,
            "version": self.version,
            "acdAutoAnswer": False,
        }
        if self.department:
            api["department"] = self.department
        if self.title:
            api["title"] = self.title
        if "routingStatus" in wanted:
            api["routingStatus"] = self.routing_to_api()
        if "presence" in wanted:
            api["presence"] = self.presence_to_api()
        if "groups" in wanted:
            api["groups"] = [group.to_api() for group in self.groups]
        if "skills" in wanted:
            api["skills"] = [skill.to_api() for skill in self.skills]
        if "dateLastLogin" in wanted and self.date_last_login is not None:
            api["dateLastLogin"] = iso(self.date_last_login)
        api["selfUri"] = f"/api/v2/users/{self.id}"
        return api

    def search_fields(self) -> dict[str, list[str]]:
        """What the user search matches against, by field name (usersearch.SEARCH_FIELDS)."""
        return {
            "id": [self.id],
            "name": [self.name],
            "email": [self.email],
            "username": [self.email],
            "state": [self.state],
            "department": [self.department] if self.department else [],
            "title": [self.title] if self.title else [],
            "addresses": [self.phone] if self.phone else [],
            "primaryContactInfo.address": [self.email],
            "division.id": [self.division.id],
            "groups.id": [group.id for group in self.groups],
            "skills.id": [skill.id for skill in self.skills],
            "presence.presenceDefinition.systemPresence": [self.system_presence],
            "routingStatus.status": [self.routing_status],
        }

    def admin_to_api(self) -> dict[str, object]:
        """Mock-only (GET /mock/info): the user with the scenario's status and business unit."""
        return self.to_api() | {
            "mockgcScenarioStatus": self.scenario_status,
            "mockgcBusinessUnitId": self.business_unit_id,
        }


def queue_member_event(user_id: str, queue_id: str, joined: bool) -> dict[str, object]:
    """The v2.routing.queues.{id}.users body (the SDK's QueueUserEventTopicQueueMember)."""
    return {"id": user_id, "user": {"id": user_id}, "queueId": queue_id, "joined": joined}


@dataclass(frozen=True, slots=True)
class NewUser:
    """POST /api/v2/users (the SDK's CreateUser): who, and what state it starts in."""

    name: str
    email: str
    division_id: str | None = None
    department: str = ""
    title: str = ""
    phone: str | None = None
    state: str = "active"


@dataclass(frozen=True, slots=True)
class UserChange:
    """PATCH /api/v2/users/{id} (the SDK's UpdateUser): the fields to change (None leaves one as it is)."""

    version: int
    name: str | None = None
    email: str | None = None
    department: str | None = None
    title: str | None = None
    phone: str | None = None
    state: str | None = None
    acd_auto_answer: bool | None = None


@dataclass(frozen=True, slots=True)
class UserSearch:
    """POST /api/v2/users/search: criteria, sorting (field and descending) and a page."""

    criteria: tuple[Criterion, ...]
    sort_by: str = "name"
    descending: bool = False
    page: PageRequest = field(default_factory=PageRequest)


@dataclass(slots=True)
class VoicemailPolicy:
    """A user's voicemail policy (the SDK's VoicemailUserPolicy; its pin is write-only)."""

    enabled: bool = True
    alert_timeout_seconds: int = 30
    send_email_notifications: bool = True
    pin: str | None = None
    modified: float = 0.0

    def to_api(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "alertTimeoutSeconds": self.alert_timeout_seconds,
            "sendEmailNotifications": self.send_email_notifications,
            "modifiedDate": iso(self.modified),
        }


def phone_contact(number: str) -> dict[str, str]:
    """A work phone as the SDK's Contact: E.164 address, a display form, its country."""
    display = f"+1 {number[2:5]}-{number[5:8]}-{number[8:]}" if number.startswith("+1") else number
    return {"address": number, "display": display, "mediaType": "PHONE", "type": "WORK", "countryCode": "US"}


def _weighted(table: dict[str, float]) -> tuple[list[str], list[float]]:
    names, total, cumulative = list(table), 0.0, []
    for weight in table.values():
        total += weight
        cumulative.append(total)
    return names, cumulative


# Faker's own first and last names with their US frequencies, drawn in bulk: Faker().name() per agent
# made a 100,000-agent reset take 15 s (its weighted choice rebuilds its tables on every call).
FIRST_NAMES, FIRST_WEIGHTS = _weighted({**PersonNames.first_names_female, **PersonNames.first_names_male})
LAST_NAMES, LAST_WEIGHTS = _weighted(PersonNames.last_names)


def seeded_names(stream: random.Random, count: int) -> list[str]:
    """`count` "First Last" names, as frequent as in the US, the same for the same stream."""
    firsts = stream.choices(FIRST_NAMES, cum_weights=FIRST_WEIGHTS, k=count)
    lasts = stream.choices(LAST_NAMES, cum_weights=LAST_WEIGHTS, k=count)
    return [f"{first} {last}" for first, last in zip(firsts, lasts, strict=True)]


def email_handle(name: str) -> str:
    """A valid local part from a display name: words joined by single dots ("Mr. Ray O'Neil" -> "mr.ray.oneil")."""
    return ".".join(re.findall(r"[a-z0-9]+", name.lower().replace("'", "")))


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
        self.deleted: dict[str, Agent] = {}  # deleted users: listed with state=deleted, found by nothing else
        self.voicemail: dict[str, VoicemailPolicy] = {}
        self._created_ids = ctx.stream("created-users")  # never the org's id stream: flows' ids stay put
        self.status_log = StatusLog()
        # Drawn from a stream of its own, so the ids the flows see stay what they were.
        self.division = Division(id_from(ctx.stream("division")))

    def seed(self, count: int, business_unit_id: str, management_unit_ids: list[str]) -> None:
        """Seeded names (Faker's en_US tables) and ids, spread over the management units in turn; each
        agent's presence and routing status, phone and last login from streams of their own (so the
        ids and names the flows see stay what they were)."""
        names = seeded_names(self.ctx.stream("names"), count)
        logins, mix = self.ctx.stream("logins"), self.ctx.stream("presence-mix")
        now = self.ctx.clock.now()
        for index, name in enumerate(names):
            email = f"{email_handle(name)}.{index}@example.com"
            unit = management_unit_ids[index % len(management_unit_ids)]
            presence, routing = mix.choices(SEEDED_STATUSES, cum_weights=SEEDED_WEIGHTS)[0]
            agent = Agent(self.ctx.new_id(), name, email, business_unit_id, unit, routing, now, presence, "", now)
            agent.presence_since = now
            agent.division = self.division
            last_login = round(now - logins.uniform(0, LOGIN_SPREAD_SECONDS), 3)
            if mix.random() < NEVER_LOGGED_IN_SHARE:
                agent.system_presence, agent.routing_status = "Offline", OFF_QUEUE
            else:
                agent.date_last_login = last_login
            if mix.random() < PHONE_SHARE:
                agent.phone = f"+1312555{mix.randrange(10_000):04d}"
            agent.queues_changed = now
            self.agents[agent.id] = agent

    def seed_inactive(self) -> None:
        """A few inactive users besides the agents (no business unit, queue or group; offline), on
        streams of their own: GET /api/v2/users shows them only with state=inactive or any."""
        count = min(MAX_INACTIVE, len(self.agents) // INACTIVE_EVERY + 1)
        ids, now = self.ctx.stream("inactive-users"), self.ctx.clock.now()
        for index, name in enumerate(seeded_names(self.ctx.stream("inactive-names"), count)):
            email = f"{email_handle(name)}.inactive{index}@example.com"
            agent = Agent(id_from(ids), name, email, "", "", OFF_QUEUE, now, "Offline", "", now, state="inactive")
            agent.division, agent.presence_since, agent.queues_changed = self.division, now, now
            self.agents[agent.id] = agent

    # -- for the other areas (called inside their operations) ---------------------------

    def agent(self, user_id: str) -> Agent:
        agent = self.agents.get(user_id)
        if agent is None:
            raise NotFound(f"User {user_id} not found", details=[{"entityId": user_id, "entityName": "user"}])
        return agent

    def deleted_user(self, user_id: str) -> Agent | None:
        return self.deleted.get(user_id)

    def members(self, business_unit_id: str) -> list[Agent]:
        return [a for a in self.agents.values() if a.business_unit_id == business_unit_id]

    def reserve(self, agent_id: str) -> None:
        """The scenario's status flip when a publish lets go of the agent."""
        self.agents[agent_id].scenario_status = SCENARIO_RESERVED

    def emit_activity(self, agent: Agent) -> None:
        """v2.users.{id}.activity: the agent's routing status, presence or active queues changed."""
        self.ctx.events.emit(self.ctx.clock.now(), f"v2.users.{agent.id}.activity", agent.activity_to_api())

    @staticmethod
    def copy(agent: Agent) -> Agent:
        """A detached copy (its queue memberships too), safe to serialize outside the lock."""
        return replace(agent, queues=dict(agent.queues))

    # -- operations (each answers a detached copy, safe to serialize outside the lock) ---

    @operation
    def list_agents(self) -> list[Agent]:
        """The business units' agents (GET /mock/info): every user but the inactive ones outside them."""
        return [self.copy(agent) for agent in self.agents.values() if agent.business_unit_id]

    @operation
    def page_users(
        self, page: PageRequest, ids: list[str] | None = None, *, state: str = "active", descending: bool = False
    ) -> Page[Agent]:
        """GET /api/v2/users: the users in `state` (active, inactive, deleted, or any)."""
        everyone = self.agents | self.deleted
        agents = list(everyone.values()) if ids is None else [everyone[i] for i in dict.fromkeys(ids) if i in everyone]
        if state != "any":
            agents = [agent for agent in agents if agent.state == state]
        if descending:
            agents.reverse()
        found = paginate(agents, page)
        return replace(found, entities=[self.copy(agent) for agent in found.entities])

    @operation
    def user(self, user_id: str) -> Agent:
        return self.copy(self.agent(user_id))

    @operation
    def create_user(self, new: NewUser) -> Agent:
        """A user outside every business unit and queue, offline; its email must be new to the org."""
        self._check_email(new.email)
        if new.division_id is not None and new.division_id != self.division.id:
            raise InvalidValue(f"Division {new.division_id} not found", details=[{"fieldName": "divisionId"}])
        now = self.ctx.clock.now()
        agent = Agent(id_from(self._created_ids), new.name, new.email, "", "", OFF_QUEUE, now, "Offline", "", now)
        agent.division, agent.presence_since, agent.queues_changed = self.division, now, now
        agent.state, agent.phone, agent.department, agent.title = new.state, new.phone, new.department, new.title
        self.agents[agent.id] = agent
        return self.copy(agent)

    @operation
    def update_user(self, user_id: str, change: UserChange) -> Agent:
        """PATCH with the user's current `version` (else 409, as the platform answers a stale one)."""
        agent = self.agent(user_id)
        if change.version != agent.version:
            raise Conflict(
                f"The user's version is {agent.version}, not {change.version}: read it again and retry",
                details=[{"fieldName": "version"}],
            )
        if change.email is not None and change.email.lower() != agent.email.lower():
            self._check_email(change.email)
        for name in ("name", "email", "department", "title", "phone", "state"):
            value = getattr(change, name)
            if value is not None:
                setattr(agent, name, value)
        agent.version += 1
        return self.copy(agent)

    @operation
    def delete_user(self, user_id: str) -> None:
        """The user leaves its queues (announced on each queue's users topic), goes offline, and is listed
        only with state=deleted from now on."""
        agent = self.agent(user_id)
        self._change(agent, presence="Offline", routing=OFF_QUEUE)
        now = self.ctx.clock.now()
        for queue_id in list(agent.queues):
            del agent.queues[queue_id]
            self.ctx.events.emit(
                now, f"v2.routing.queues.{queue_id}.users", queue_member_event(agent.id, queue_id, False)
            )
        agent.state, agent.queues_changed, agent.version = "deleted", now, agent.version + 1
        self.deleted[user_id] = self.agents.pop(user_id)
        self.voicemail.pop(user_id, None)

    @operation
    def search(self, query: UserSearch) -> Page[Agent]:
        """The users (active and inactive) the criteria match, sorted by a field, one page."""
        found = [a for a in self.agents.values() if matches(query.criteria, a.search_fields())]
        found.sort(key=lambda a: ([t.lower() for t in a.search_fields().get(query.sort_by, ())], a.id))
        if query.descending:
            found.reverse()
        page = paginate(found, query.page)
        return replace(page, entities=[self.copy(agent) for agent in page.entities])

    @operation
    def voicemail_policy(self, user_id: str) -> VoicemailPolicy:
        self.agent(user_id)
        return replace(self.voicemail.get(user_id) or VoicemailPolicy(modified=self.ctx.clock.now()))

    @operation
    def set_voicemail_policy(self, user_id: str, changes: dict[str, object]) -> VoicemailPolicy:
        """PATCH: the fields given (enabled, alertTimeoutSeconds, sendEmailNotifications, pin) change."""
        self.agent(user_id)
        policy = self.voicemail.setdefault(user_id, VoicemailPolicy())
        for name, value in changes.items():
            setattr(policy, name, value)
        policy.modified = self.ctx.clock.now()
        return replace(policy)

    def _check_email(self, email: str) -> None:
        taken = email.lower()
        if any(a.email.lower() == taken for a in (*self.agents.values(), *self.deleted.values())):
            raise Conflict(f"A user with email {email} already exists", details=[{"fieldName": "email"}])

    @operation
    def presences(self, source_id: str, user_ids: list[str]) -> list[Agent]:
        """The bulk presence read: the named users that exist, in the order named."""
        self._check_source(source_id)
        return [self.copy(self.agents[i]) for i in dict.fromkeys(user_ids) if i in self.agents]

    @operation
    def routing_status(self, user_id: str) -> Agent:
        return replace(self.agent(user_id))

    @operation
    def set_routing_status(self, user_id: str, status: str) -> Agent:
        """As the platform couples them: leaving the queue (OFF_QUEUE) makes the agent Available, and
        any other routing status is only held On Queue, so setting one puts the agent On Queue."""
        agent = self.agent(user_id)
        if status == OFF_QUEUE:
            presence = "Available" if agent.on_queue else None
            self._change(agent, presence=presence, routing=OFF_QUEUE, restart_routing=True)
        else:
            self._change(agent, presence=ON_QUEUE, routing=status, restart_routing=True)
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
        self._change(agent, presence=change.system_presence, message=change.message, touch_presence=True)
        return replace(agent)

    def _change(
        self,
        agent: Agent,
        *,
        presence: str | None = None,
        routing: str | None = None,
        message: str | None = None,
        touch_presence: bool = False,
        restart_routing: bool = False,
    ) -> None:
        """Apply a presence and/or routing change as the platform couples them, record what ended in
        the status log, and announce it: going On Queue makes the agent IDLE, leaving On Queue makes it
        OFF_QUEUE. `touch_presence` (a presence PATCH) and `restart_routing` (a routing PUT) restart the
        modified date or start time even when the value stays."""
        now = self.ctx.clock.now()
        if presence is not None and presence != agent.system_presence:
            if routing is None and (presence == ON_QUEUE) != agent.on_queue:
                routing = IDLE if presence == ON_QUEUE else OFF_QUEUE
            self.status_log.ended(agent.id, PRESENCE, agent.presence_since, now, agent.system_presence)
            agent.system_presence, agent.presence_since = presence, now
            touch_presence = True
            if presence in ("Available", ON_QUEUE):
                # An agent who makes themselves available by hand is no longer reserved.
                agent.scenario_status = SCENARIO_AVAILABLE
        if message is not None:
            agent.presence_message = message
        if touch_presence:
            agent.presence_modified = now
            self.ctx.events.emit(now, f"v2.users.{agent.id}.presence", agent.presence_event_to_api())
        if routing is not None and (routing != agent.routing_status or restart_routing):
            self.status_log.ended(agent.id, ROUTING, agent.routing_started, now, agent.routing_status)
            agent.routing_status, agent.routing_started = routing, now
            self.ctx.events.emit(now, f"v2.users.{agent.id}.routingStatus", agent.routing_event_to_api())
        self.emit_activity(agent)

    def status_intervals(self, agent: Agent, kind: str, start: float, end: float) -> list[StatusInterval]:
        """The agent's presence or routing-status intervals that meet [start, end): the ended ones from
        the log, then the current one (no end)."""
        found = list(self.status_log.intervals(agent.id, kind, start, end))
        since, value = (
            (agent.presence_since, agent.system_presence)
            if kind == PRESENCE
            else (agent.routing_started, agent.routing_status)
        )
        if since < end:
            found.append(StatusInterval(since, None, value))
        return found
