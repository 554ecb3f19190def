"""The groups area: the org's groups, seeded from the agents, and who belongs to which."""

from __future__ import annotations

from dataclasses import dataclass

from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.context import OrgContext, id_from, operation
from mockgc.platform.domain.errors import NotFound
from mockgc.platform.domain.paging import Page, PageRequest, paginate
from mockgc.platform.domain.users import GroupTag, Users

GROUP_NAMES = ("Tier 1", "Tier 2", "Night Shift", "Team Leads")
SECOND_GROUP_SHARE = 0.25  # agents who belong to a second group


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    description: str
    modified: float
    member_ids: tuple[str, ...] = ()

    def to_api(self) -> dict[str, object]:
        """The SDK's Group (the fields the mock models)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "dateModified": iso(self.modified),
            "memberCount": len(self.member_ids),
            "state": "active",
            "version": 1,
            "type": "official",
            "rulesVisible": True,
            "visibility": "public",
            "rolesEnabled": False,
            "callsEnabled": False,
            "selfUri": f"/api/v2/groups/{self.id}",
        }


class Groups:
    def __init__(self, ctx: OrgContext, users: Users) -> None:
        self.ctx = ctx
        self.users = users
        self.groups: dict[str, Group] = {}

    def seed(self) -> None:
        """Each agent in one group in turn, some in a second; the agent carries its groups."""
        ids, draw = self.ctx.stream("group-ids"), self.ctx.stream("groups")
        now = self.ctx.clock.now()
        agents = list(self.users.agents.values())
        count = min(len(GROUP_NAMES), max(1, len(agents)))
        tags = [GroupTag(id_from(ids), name) for name in GROUP_NAMES[:count]]
        members: dict[GroupTag, list[str]] = {tag: [] for tag in tags}
        for index, agent in enumerate(agents):
            mine = [tags[index % count]]
            if count > 1 and draw.random() < SECOND_GROUP_SHARE:
                mine.append(tags[(index + 1 + draw.randrange(count - 1)) % count])
            agent.groups = tuple(mine)
            for tag in mine:
                members[tag].append(agent.id)
        for tag in tags:
            self.groups[tag.id] = Group(tag.id, tag.name, f"{tag.name} agents", now, tuple(members[tag]))

    @operation
    def list_groups(self, page: PageRequest, ids: list[str] | None = None, *, descending: bool = False) -> Page[Group]:
        groups = list(self.groups.values())
        if ids is not None:
            wanted = set(ids)
            groups = [g for g in groups if g.id in wanted]
        if descending:
            groups.reverse()
        return paginate(groups, page)

    @operation
    def group(self, group_id: str) -> Group:
        group = self.groups.get(group_id)
        if group is None:
            raise NotFound(f"Group {group_id} not found", details=[{"entityId": group_id, "entityName": "group"}])
        return group
