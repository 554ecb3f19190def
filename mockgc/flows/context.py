"""What a flow and its mitigation see: the interaction's context, its script session, the branch it took."""

from __future__ import annotations

import random
from dataclasses import dataclass

from mockgc.flows.effects import DEFAULT, PERSONALIZED, Reply

__all__ = [
    "DEFAULT",
    "PERSONALIZED",
    "PREFERENCE_VARIABLE",
    "Evaluation",
    "FlowContext",
    "SessionRef",
    "evaluation_from",
]

PREFERENCE_VARIABLE = "preferenceCode"


@dataclass(frozen=True, slots=True)
class FlowContext:
    """What one interaction knows before it starts."""

    key: str
    agent_id: str
    business_unit_id: str
    seed: int
    process: str = "p0"

    def rng(self, purpose: str) -> random.Random:
        """A random source private to this interaction, so interleaving never changes it."""
        return random.Random(f"{purpose}:{self.seed}:{self.key}")


@dataclass(frozen=True, slots=True)
class SessionRef:
    session_id: str
    conversation_id: str
    participant_id: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    branch: str | None
    value: str | None


def evaluation_from(reply: Reply) -> Evaluation:
    """An error makes the flow engine take the default branch; no answer at all is unknowable."""
    if reply.ok and isinstance(reply.body, dict):
        return Evaluation(reply.body.get("branch"), reply.body.get("value"))
    if reply.status == 0:
        return Evaluation(None, None)
    return Evaluation(DEFAULT, None)
