"""The script flow: create the interaction, Set Data the customer's preference, evaluate the branch."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from faker import Faker

from mockgc.flows.effects import Call, Flow, FlowResult, Reply

if TYPE_CHECKING:
    from mockgc.flows.mitigations.base import Mitigation

PREFERENCE_VARIABLE = "preferenceCode"
PERSONALIZED, DEFAULT = "personalized", "default"


@cache
def _faker() -> Faker:
    # Building a Faker is slow; reseeding one instance per session is cheap and deterministic.
    return Faker("en_US")


def preference_code(seed: int, key: str) -> str:
    """The customer's preference code: Faker data derived only from (seed, session key)."""
    faker = _faker()
    faker.seed_instance(f"preference:{seed}:{key}")
    return faker.bothify("PREF-??-####", letters="ABCDEFGHJKLMNPQRSTUVWXYZ")


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


def script_flow(ctx: FlowContext, mitigation: Mitigation) -> Flow:
    expected = preference_code(ctx.seed, ctx.key)
    call = yield Call("create_call", {"userId": ctx.agent_id})
    if not call.ok:
        return FlowResult(ctx.key, expected, None, None, None, False, notes=(f"create_call {call.status}",))
    created = yield Call("create_session", {"userId": ctx.agent_id, "conversationId": call.body["id"]})
    if not created.ok:
        return FlowResult(ctx.key, expected, None, None, None, False, notes=(f"create_session {created.status}",))
    session = SessionRef(created.body["id"], created.body["conversationId"], created.body["participantId"])
    acknowledged = yield from mitigation.set_data(ctx, session, PREFERENCE_VARIABLE, expected)
    evaluation = yield from mitigation.evaluate(ctx, session, PREFERENCE_VARIABLE)
    return FlowResult(
        ctx.key,
        expected,
        evaluation.branch,
        evaluation.value,
        session.session_id,
        acknowledged,
        store_key=mitigation.store_key(ctx, session),
    )
