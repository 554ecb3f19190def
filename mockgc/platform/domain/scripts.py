"""Script-engine sessions (mock-only): per-interaction variables with a version."""

from __future__ import annotations

from dataclasses import dataclass, field

PERSONALIZED = "personalized"
DEFAULT = "default"


@dataclass(slots=True)
class ScriptSession:
    """One interaction's script state, owned by an agent; `attached` is False after invalidation."""

    id: str
    agent_id: str
    conversation_id: str
    participant_id: str
    created: float
    variables: dict[str, str] = field(default_factory=dict)
    version: int = 0
    attached: bool = True
    touched: float = 0.0  # when a request last used it: idle sessions move to the archive

    def to_api(self) -> dict[str, object]:
        visible = self.variables if self.attached else {}
        return {
            "id": self.id,
            "userId": self.agent_id,
            "conversationId": self.conversation_id,
            "participantId": self.participant_id,
            "variables": dict(visible),
            "version": self.version,
            "attached": self.attached,
            "selfUri": f"/api/v2/scripts/sessions/{self.id}",
        }
