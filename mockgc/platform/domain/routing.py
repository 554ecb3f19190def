"""The routing area: skills and queues, seeded and tied to the agents, and queue membership."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.context import OrgContext, id_from, operation
from mockgc.platform.domain.errors import InvalidValue, NotFound
from mockgc.platform.domain.paging import Page, PageRequest, paginate
from mockgc.platform.domain.users import Agent, Division, SkillGrant, Users, queue_member_event

SKILL_NAMES = ("Billing", "English", "Sales", "Spanish", "Technical", "Retention")
QUEUE_NAMES = ("Support", "Sales", "Billing", "Support Escalations", "Retention", "Spanish Support")
AGENTS_PER_QUEUE = 8  # about how many agents each seeded queue gets, so small orgs have few queues
SECOND_QUEUE_SHARE = 0.3  # agents who are also members of a second queue
UNJOINED_SHARE = 0.2  # second memberships the agent has not joined (off that queue)
MAX_MEMBERS_PER_CHANGE = 100  # users one POST or PATCH of a queue's members may name
MAX_MEMBERS_PAGE_SIZE = 100  # a queue's members page at most 100 at a time (the SDK's words)


@dataclass(frozen=True, slots=True)
class Skill:
    id: str
    name: str
    division: Division
    modified: float

    def to_api(self) -> dict[str, object]:
        """The SDK's RoutingSkill."""
        return {
            "id": self.id,
            "name": self.name,
            "division": self.division.to_api(),
            "dateModified": iso(self.modified),
            "state": "active",
            "version": "1",
            "selfUri": f"/api/v2/routing/skills/{self.id}",
        }


@dataclass(frozen=True, slots=True)
class Queue:
    """A queue and its member counts at the moment it was read."""

    id: str
    name: str
    description: str
    division: Division
    created: float
    member_count: int = 0
    joined_count: int = 0

    def to_api(self) -> dict[str, object]:
        """The SDK's Queue (the fields the mock models)."""
        return {
            "id": self.id,
            "name": self.name,
            "division": self.division.to_api(),
            "description": self.description,
            "dateCreated": iso(self.created),
            "dateModified": iso(self.created),
            "memberCount": self.member_count,
            "userMemberCount": self.member_count,
            "joinedMemberCount": self.joined_count,
            "skillEvaluationMethod": "BEST",
            "autoAnswerOnly": False,
            "enableTranscription": False,
            "enableManualAssignment": False,
            "selfUri": f"/api/v2/routing/queues/{self.id}",
        }


@dataclass(frozen=True, slots=True)
class UserQueue:
    """A queue as one of a user's queues (the SDK's UserQueue: the Queue and whether the user joined it)."""

    queue: Queue
    joined: bool

    def to_api(self) -> dict[str, object]:
        api = self.queue.to_api()
        del api["autoAnswerOnly"]  # a Queue field the SDK's UserQueue does not have
        self_uri = api.pop("selfUri")
        return api | {"joined": self.joined, "selfUri": self_uri}


@dataclass(frozen=True, slots=True)
class QueueMember:
    """An agent as a member of one queue."""

    agent: Agent
    queue_id: str
    joined: bool

    def to_api(self, expand: frozenset[str] = frozenset()) -> dict[str, object]:
        """The SDK's QueueMember; `expand` reaches the user (routingStatus, presence, skills...)."""
        api: dict[str, object] = {
            "id": self.agent.id,
            "name": self.agent.name,
            "user": self.agent.to_api(expand),
            "ringNumber": 1,
            "joined": self.joined,
            "memberBy": "user",
        }
        if "routingStatus" in expand:
            api["routingStatus"] = self.agent.routing_to_api()
        api["selfUri"] = f"/api/v2/users/{self.agent.id}"
        return api

    def event_to_api(self) -> dict[str, object]:
        """The v2.routing.queues.{id}.users body (the SDK's QueueUserEventTopicQueueMember)."""
        return queue_member_event(self.agent.id, self.queue_id, self.joined)


def name_matches(pattern: str, name: str) -> bool:
    """The platform's name filter: exact, or with a leading and/or trailing `*` (case-insensitive)."""
    pattern, name = pattern.lower(), name.lower()
    core = pattern.strip("*")
    if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 1:
        return core in name
    if pattern.endswith("*"):
        return name.startswith(core)
    if pattern.startswith("*"):
        return name.endswith(core)
    return name == pattern


class Routing:
    """Skills and queues. Membership lives on each agent (`Agent.queues`), so a user's activity
    event can say which queues it is active on; this area changes it and announces it."""

    def __init__(self, ctx: OrgContext, users: Users) -> None:
        self.ctx = ctx
        self.users = users
        self.skills: dict[str, Skill] = {}
        self.queues: dict[str, Queue] = {}

    def seed(self) -> None:
        """Skills, queues and memberships from their own seeded streams: every agent is a member
        (and joined) of at least one queue, some of a second."""
        ids, draw = self.ctx.stream("routing-ids"), self.ctx.stream("routing")
        now = self.ctx.clock.now()
        for name in SKILL_NAMES:
            skill = Skill(id_from(ids), name, self.users.division, now)
            self.skills[skill.id] = skill
        agents = list(self.users.agents.values())
        count = max(1, min(len(QUEUE_NAMES), -(-len(agents) // AGENTS_PER_QUEUE)))
        for name in QUEUE_NAMES[:count]:
            queue = Queue(id_from(ids), name, f"{name} queue", self.users.division, now)
            self.queues[queue.id] = queue
        queue_ids, skills = list(self.queues), list(self.skills.values())
        for index, agent in enumerate(agents):
            agent.queues[queue_ids[index % count]] = True
            if count > 1 and draw.random() < SECOND_QUEUE_SHARE:
                other = queue_ids[(index + 1 + draw.randrange(count - 1)) % count]
                agent.queues[other] = draw.random() >= UNJOINED_SHARE
            held = draw.sample(skills, draw.randint(1, 3))
            agent.skills = tuple(SkillGrant(s.id, s.name, float(draw.randint(1, 5))) for s in held)

    def _queue(self, queue_id: str) -> Queue:
        queue = self.queues.get(queue_id)
        if queue is None:
            raise NotFound(f"Queue {queue_id} not found", details=[{"entityId": queue_id, "entityName": "queue"}])
        members = [a.queues[queue_id] for a in self.users.agents.values() if queue_id in a.queues]
        return replace(queue, member_count=len(members), joined_count=sum(members))

    def _members(self, queue_id: str) -> list[Agent]:
        return [agent for agent in self.users.agents.values() if queue_id in agent.queues]

    # -- operations --------------------------------------------------------------------

    @operation
    def list_skills(self, page: PageRequest, name: str | None = None, ids: list[str] | None = None) -> Page[Skill]:
        """The skills by name; `name` keeps those that start with it (the SDK's words)."""
        skills = sorted(self.skills.values(), key=lambda s: s.name.lower())
        if ids is not None:
            wanted = set(ids)
            skills = [s for s in skills if s.id in wanted]
        if name is not None:
            skills = [s for s in skills if s.name.lower().startswith(name.lower())]
        return paginate(skills, page)

    @operation
    def skill(self, skill_id: str) -> Skill:
        skill = self.skills.get(skill_id)
        if skill is None:
            raise NotFound(f"Skill {skill_id} not found", details=[{"entityId": skill_id, "entityName": "skill"}])
        return skill

    @operation
    def list_queues(
        self, page: PageRequest, name: str | None = None, ids: list[str] | None = None, *, descending: bool = False
    ) -> Page[Queue]:
        """The queues sorted by name, as the platform sorts them (`descending` reverses it)."""
        queues = sorted((self._queue(queue_id) for queue_id in self.queues), key=lambda q: q.name.lower())
        if descending:
            queues.reverse()
        if ids is not None:
            wanted = set(ids)
            queues = [q for q in queues if q.id in wanted]
        if name is not None:
            queues = [q for q in queues if name_matches(name, q.name)]
        return paginate(queues, page)

    @operation
    def queue(self, queue_id: str) -> Queue:
        return self._queue(queue_id)

    @operation
    def members(
        self, queue_id: str, page: PageRequest, *, joined: bool | None = None, name: str | None = None
    ) -> Page[QueueMember]:
        """The members sorted by name; `name` keeps those whose name contains it (the SDK's words)."""
        self._queue(queue_id)
        agents = sorted(self._members(queue_id), key=lambda a: a.name.lower())
        members = [QueueMember(Users.copy(a), queue_id, a.queues[queue_id]) for a in agents]
        if joined is not None:
            members = [m for m in members if m.joined == joined]
        if name is not None:
            members = [m for m in members if name.lower() in m.agent.name.lower()]
        return paginate(members, page)

    @operation
    def add_members(self, queue_id: str, user_ids: list[str]) -> None:
        """POST .../members: the users join the queue's membership (joined); members already in stay as they are."""
        self._queue(queue_id)
        agents = self._existing(user_ids)
        for agent in agents:
            if queue_id not in agent.queues:
                self._set(agent, queue_id, True)

    @operation
    def remove_members(self, queue_id: str, user_ids: list[str]) -> None:
        """POST .../members?delete=true: the users leave the queue (its event says joined false)."""
        self._queue(queue_id)
        for agent in self._existing(user_ids):
            if queue_id in agent.queues:
                del agent.queues[queue_id]
                self._announce(agent, queue_id, False)

    @operation
    def set_joined(self, queue_id: str, changes: list[tuple[str, bool]]) -> list[QueueMember]:
        """PATCH .../members: join or leave the queue for members; every user must be a member first."""
        self._queue(queue_id)
        agents = self._existing([user_id for user_id, _ in changes])
        for agent in agents:
            if queue_id not in agent.queues:
                raise InvalidValue(
                    f"User {agent.id} is not a member of queue {queue_id}",
                    details=[{"entityId": agent.id, "fieldName": "id"}],
                )
        changed = []
        for agent, (_, joined) in zip(agents, changes, strict=True):
            if agent.queues[queue_id] != joined:
                self._set(agent, queue_id, joined)
            changed.append(QueueMember(Users.copy(agent), queue_id, joined))
        return changed

    @operation
    def user_queues(self, user_id: str, page: PageRequest, *, joined: bool | None = None) -> Page[UserQueue]:
        """GET /api/v2/users/{id}/queues: the queues the user is a member of."""
        agent = self.users.agent(user_id)
        mine = [UserQueue(self._queue(queue_id), on) for queue_id, on in agent.queues.items()]
        if joined is not None:
            mine = [q for q in mine if q.joined == joined]
        return paginate(mine, page)

    @operation
    def set_user_joined(self, user_id: str, changes: list[tuple[str, bool]]) -> list[UserQueue]:
        """PATCH /api/v2/users/{id}/queues[/{queueId}]: the user joins or leaves queues it is a member of."""
        agent = self.users.agent(user_id)
        if len(changes) > MAX_MEMBERS_PER_CHANGE:
            raise InvalidValue(f"at most {MAX_MEMBERS_PER_CHANGE} queues may be changed at once")
        for queue_id, _ in changes:
            self._queue(queue_id)
            if queue_id not in agent.queues:
                raise InvalidValue(
                    f"User {user_id} is not a member of queue {queue_id}",
                    details=[{"entityId": queue_id, "fieldName": "id"}],
                )
        for queue_id, joined in changes:
            if agent.queues[queue_id] != joined:
                self._set(agent, queue_id, joined)
        return [UserQueue(self._queue(queue_id), joined) for queue_id, joined in changes]

    def _existing(self, user_ids: list[str]) -> list[Agent]:
        """Every user must exist before any change applies, so a bad entry never leaves half a batch."""
        if len(user_ids) > MAX_MEMBERS_PER_CHANGE:
            raise InvalidValue(f"at most {MAX_MEMBERS_PER_CHANGE} members may be changed at once")
        return [self.users.agent(user_id) for user_id in user_ids]

    def _set(self, agent: Agent, queue_id: str, joined: bool) -> None:
        agent.queues[queue_id] = joined
        self._announce(agent, queue_id, joined)

    def _announce(self, agent: Agent, queue_id: str, joined: bool) -> None:
        now = self.ctx.clock.now()
        agent.queues_changed = now
        member = QueueMember(agent, queue_id, joined)
        self.ctx.events.emit(now, f"v2.routing.queues.{queue_id}.users", member.event_to_api())
        self.users.emit_activity(agent)
