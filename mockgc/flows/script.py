"""The script flow: create the interaction, Set Data the customer's preference, evaluate the branch."""

from __future__ import annotations

import random

from mockgc.flows.context import PREFERENCE_VARIABLE, FlowContext, SessionRef
from mockgc.flows.effects import Call, Flow, FlowResult
from mockgc.flows.mitigations.base import Mitigation

CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O, which read as digits


def preference_code(seed: int, key: str) -> str:
    """The customer's preference code, derived only from (seed, session key): Faker's
    `bothify("PREF-??-####", letters=CODE_LETTERS)` after `seed_instance(f"preference:{seed}:{key}")`, drawn
    as Faker draws it (the four digits first, `randint(0, 9)` each, then the two letters, `choice` each) from
    the same seeded Random, without reseeding a Faker per session (that was a sixth of a simulation's time).
    tests/flows/test_script.py checks it against Faker itself."""
    rng = random.Random(f"preference:{seed}:{key}")
    digits = f"{rng.randint(0, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    return f"PREF-{rng.choice(CODE_LETTERS)}{rng.choice(CODE_LETTERS)}-{digits}"


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
