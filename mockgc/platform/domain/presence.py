"""The presence catalog: the org's presence definitions (the platform's system ones) and system presences."""

from __future__ import annotations

from dataclasses import dataclass

from mockgc.platform.domain.context import OrgContext, operation
from mockgc.platform.domain.errors import NotFound
from mockgc.platform.domain.paging import Page, PageRequest, paginate
from mockgc.platform.domain.users import PRESENCE_DEFINITIONS

LOCALE = "en_US"
# The newer /api/v2/presence/definitions spells it as the SDK's enum does (OnQueue, no space).
NEW_API_SPELLING = {"On Queue": "OnQueue"}


@dataclass(frozen=True, slots=True)
class PresenceDefinition:
    id: str
    system_presence: str

    def to_api(self) -> dict[str, object]:
        """GET /api/v2/presencedefinitions (the SDK's OrganizationPresence), as the captured answer has it."""
        return {
            "id": self.id,
            "languageLabels": {LOCALE: self.system_presence},
            "systemPresence": self.system_presence,
            "deactivated": False,
            "primary": True,
            "selfUri": f"/api/v2/presencedefinitions/{self.id}",
        }

    def definition_to_api(self) -> dict[str, object]:
        """GET /api/v2/presence/definitions (the SDK's OrganizationPresenceDefinition)."""
        return {
            "id": self.id,
            "type": "System",
            "languageLabels": {LOCALE: self.system_presence},
            "systemPresence": NEW_API_SPELLING.get(self.system_presence, self.system_presence),
            "deactivated": False,
            "selfUri": f"/api/v2/presence/definitions/{self.id}",
        }

    def system_to_api(self) -> dict[str, object]:
        """GET /api/v2/systempresences (the SDK's SystemPresence). No captured answer was found: the
        id is the system presence in the upper-case form the analytics qualifiers use."""
        system_id = self.system_presence.upper().replace(" ", "_")
        return {"id": system_id, "name": self.system_presence, "selfUri": f"/api/v2/systempresences/{system_id}"}


DEFINITIONS = tuple(PresenceDefinition(pid, system) for system, pid in PRESENCE_DEFINITIONS.items())


class PresenceCatalog:
    """Read-only: the mock's org has the platform's system definitions and no custom ones."""

    def __init__(self, ctx: OrgContext) -> None:
        self.ctx = ctx
        self.definitions = {d.id: d for d in DEFINITIONS}

    @operation
    def page(self, page: PageRequest, *, deleted: bool = False) -> Page[PresenceDefinition]:
        return paginate([] if deleted else list(DEFINITIONS), page)

    @operation
    def listing(self, *, deactivated: bool = False) -> list[PresenceDefinition]:
        return [] if deactivated else list(DEFINITIONS)

    @operation
    def definition(self, definition_id: str) -> PresenceDefinition:
        found = self.definitions.get(definition_id)
        if found is None:
            raise NotFound(
                f"Presence definition {definition_id} not found",
                details=[{"entityId": definition_id, "entityName": "presenceDefinition"}],
            )
        return found
