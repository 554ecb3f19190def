"""Conversations and their participants, with participant attributes."""

from __future__ import annotations

from dataclasses import dataclass, field

from mockgc.platform.domain.clocktext import iso


@dataclass(slots=True)
class Participant:
    id: str
    purpose: str
    user_id: str | None
    attributes: dict[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, object]:
        body: dict[str, object] = {"id": self.id, "purpose": self.purpose, "attributes": dict(self.attributes)}
        if self.user_id:
            body["userId"] = self.user_id
        return body


@dataclass(slots=True)
class Conversation:
    id: str
    started: float
    participants: list[Participant]
    touched: float = 0.0  # when a request last used it: idle conversations move to the archive

    def participant(self, participant_id: str) -> Participant | None:
        for p in self.participants:
            if p.id == participant_id:
                return p
        return None

    def customer(self) -> Participant:
        return next(p for p in self.participants if p.purpose == "customer")

    def to_api(self) -> dict[str, object]:
        return {
            "id": self.id,
            "startTime": iso(self.started),
            "participants": [p.to_api() for p in self.participants],
            "selfUri": f"/api/v2/conversations/{self.id}",
        }
