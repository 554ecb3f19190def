"""An interaction's records: the conversation with its participants, and the script session an agent runs in it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from mockgc.platform.domain.clocktext import iso

# How many distinct (variable, value) answers the evaluate log keeps per session: an honest
# flow needs one, and the bound keeps a session's truth small whatever a client sends.
EVALUATE_LOG_SIZE = 4
# A call in the mock is answered at once and stays up: every participant's call is connected.
CALL_STATE = "connected"
CUSTOMER_NAME = "Customer"
# Call ids are derived from the participant's id rather than drawn from the org's seeded id stream,
# so adding them changed no other id (and no golden run).
_CALL_ID_NAMESPACE = uuid.UUID("0d6b0a39-6f0c-4c07-9f3e-2b5f1a0c7e11")


@dataclass(slots=True)
class Participant:
    id: str
    purpose: str
    user_id: str | None
    attributes: dict[str, str] = field(default_factory=dict)
    name: str = CUSTOMER_NAME

    @property
    def call_id(self) -> str:
        return str(uuid.uuid5(_CALL_ID_NAMESPACE, self.id))

    @property
    def direction(self) -> str:
        return "inbound"

    def _common(self, started: float) -> dict[str, object]:
        """The fields both views of a participant share."""
        return {
            "id": self.id,
            "name": self.name,
            "startTime": iso(started),
            "connectedTime": iso(started),
            "purpose": self.purpose,
            "attributes": dict(self.attributes),
        }

    def to_api(self, started: float) -> dict[str, object]:
        """As a Conversation's Participant: its call (state, direction) is in `calls`."""
        body = self._common(started)
        body["calls"] = [
            {"id": self.call_id, "state": CALL_STATE, "direction": self.direction, "connectedTime": iso(started)}
        ]
        if self.user_id:
            body["userId"] = self.user_id
            body["userUri"] = f"/api/v2/users/{self.user_id}"
        return body

    def call_to_api(self, started: float) -> dict[str, object]:
        """As a CallConversation's CallMediaParticipant: the call's state is the participant's own."""
        body = self._common(started)
        body.update(state=CALL_STATE, direction=self.direction, held=False, muted=False)
        if self.user_id:
            body["user"] = {"id": self.user_id, "name": self.name, "selfUri": f"/api/v2/users/{self.user_id}"}
        return body


@dataclass(slots=True)
class Conversation:
    id: str
    started: float
    participants: list[Participant]
    touched: float = 0.0  # when a request last used it: idle conversations move to the archive
    queue_id: str | None = None  # the queue the call came in on (the agent's first joined one), if any

    def participant(self, participant_id: str) -> Participant | None:
        for p in self.participants:
            if p.id == participant_id:
                return p
        return None

    def customer(self) -> Participant:
        return next(p for p in self.participants if p.purpose == "customer")

    def copy(self) -> Conversation:
        participants = [Participant(p.id, p.purpose, p.user_id, dict(p.attributes), p.name) for p in self.participants]
        return Conversation(self.id, self.started, participants, self.touched, self.queue_id)

    def to_api(self) -> dict[str, object]:
        """The SDK's Conversation."""
        return {
            "id": self.id,
            "startTime": iso(self.started),
            "state": CALL_STATE,
            "participants": [p.to_api(self.started) for p in self.participants],
            "selfUri": f"/api/v2/conversations/{self.id}",
        }

    def call_to_api(self) -> dict[str, object]:
        """The SDK's CallConversation (GET /api/v2/conversations/calls/{id})."""
        return {
            "id": self.id,
            "participants": [p.call_to_api(self.started) for p in self.participants],
            "recordingState": "none",
            "selfUri": f"/api/v2/conversations/calls/{self.id}",
        }

    def call_event_to_api(self) -> dict[str, object]:
        """As v2.users.{id}.conversations.calls carries it (ConversationCallEventTopicCallConversation)."""
        participants = []
        for participant in self.participants:
            body = participant.call_to_api(self.started)
            if participant.user_id:
                body["user"] = {"id": participant.user_id, "name": participant.name}
            participants.append(body)
        return {"id": self.id, "participants": participants, "recordingState": "none"}

    def conversation_event_to_api(self) -> dict[str, object]:
        """As v2.users.{id}.conversations and v2.routing.queues.{id}.conversations carry it (the SDK's
        ConversationEventTopicConversation and QueueConversationEventTopicConversation, one shape)."""
        connected = iso(self.started)
        participants = []
        for p in self.participants:
            body: dict[str, object] = {"id": p.id, "connectedTime": connected, "name": p.name, "purpose": p.purpose}
            if p.user_id:
                body["userId"] = p.user_id
                if self.queue_id:
                    body["queueId"] = self.queue_id
            body["attributes"] = dict(p.attributes)
            call = {"id": p.call_id, "state": CALL_STATE, "direction": p.direction, "held": False, "muted": False}
            body["calls"] = [call | {"connectedTime": connected}]
            participants.append(body)
        return {"id": self.id, "participants": participants, "recordingState": "none"}

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
