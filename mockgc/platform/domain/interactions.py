"""An interaction's records: the conversation with its participants, and the script session an agent runs in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockgc.platform.domain.clocktext import iso

# How many distinct (variable, value) answers the evaluate log keeps per session: an honest
# flow needs one, and the bound keeps a session's truth small whatever a client sends.
EVALUATE_LOG_SIZE = 4


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

    def copy(self) -> Conversation:
        participants = [Participant(p.id, p.purpose, p.user_id, dict(p.attributes)) for p in self.participants]
        return Conversation(self.id, self.started, participants, self.touched)

    def to_api(self) -> dict[str, object]:
        return {
            "id": self.id,
            "startTime": iso(self.started),
            "participants": [p.to_api() for p in self.participants],
            "selfUri": f"/api/v2/conversations/{self.id}",
        }

    def reference_to_api(self) -> dict[str, object]:
        return {"id": self.id, "selfUri": f"/api/v2/conversations/{self.id}"}


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
    # The mock's own log of the (variable, value) answers its evaluate gave `personalized`, latest
    # last: the checker confirms a history's evaluate evidence against it (a flow cannot write it).
    personalized_answers: tuple[tuple[str, str], ...] = ()
    touched: float = 0.0  # when a request last used it: idle sessions move to the archive

    def log_personalized_answer(self, variable: str, value: str) -> None:
        log, answer = self.personalized_answers, (variable, value)
        if not log or log[-1] != answer:
            self.personalized_answers = (*(a for a in log if a != answer), answer)[-EVALUATE_LOG_SIZE:]

    def evaluate_log(self) -> dict[str, list[str]]:
        """The evaluate log as the truth shows it: variable -> values answered `personalized`."""
        return self.log_as_truth(self.personalized_answers)

    @staticmethod
    def log_as_truth(answers: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
        log: dict[str, list[str]] = {}
        for variable, value in answers:
            log.setdefault(variable, []).append(value)
        return log

    def copy(self) -> ScriptSession:
        return ScriptSession(
            self.id,
            self.agent_id,
            self.conversation_id,
            self.participant_id,
            self.created,
            dict(self.variables),
            self.version,
            self.attached,
            self.personalized_answers,
            self.touched,
        )

    def truth(self) -> dict[str, Any]:
        return truth_entry(
            self.agent_id, self.conversation_id, dict(self.variables), self.version, self.attached, self.evaluate_log()
        )

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


def truth_entry(
    agent_id: str,
    conversation_id: str,
    variables: dict[str, str],
    version: int,
    attached: bool,
    evaluated_personalized: dict[str, list[str]],
) -> dict[str, Any]:
    """One session in the ground truth (GET /mock/truth), the checker's input, from memory or the archive."""
    return {
        "userId": agent_id,
        "conversationId": conversation_id,
        "variables": variables,
        "version": version,
        "attached": attached,
        "evaluatedPersonalized": evaluated_personalized,
    }
