"""Script-engine sessions (mock-only): per-interaction variables with a version."""

from __future__ import annotations

from dataclasses import dataclass, field

PERSONALIZED = "personalized"
DEFAULT = "default"
# How many distinct (variable, value) answers the evaluate log keeps per session: an honest
# flow needs one, and the bound keeps a session's truth small whatever a client sends.
EVALUATE_LOG_SIZE = 4


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
