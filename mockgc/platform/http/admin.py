"""Mock-only admin API under /mock: reset, faults, virtual clock, journal and ground truth."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.clock import VirtualClock
from mockgc.faults import PROFILES, FaultProfile, Toxic, get_profile
from mockgc.platform.domain.errors import AuthenticationRequired, BadCredentials, InvalidValue
from mockgc.platform.http.body import backend, json_body

bp = Blueprint("admin", __name__, url_prefix="/mock")

MAX_EPOCH_MS = 32_503_680_000_000  # 3000-01-01T00:00:00Z
MAX_RESET_AGENTS = 100_000


@bp.before_request
def require_admin() -> None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise AuthenticationRequired("The admin API needs 'Authorization: Bearer <admin key>'.")
    # Compare bytes: compare_digest raises TypeError on non-ASCII str.
    given, expected = header[7:].strip().encode(), current_app.extensions["mockgc"].server.admin_key.encode()
    if not secrets.compare_digest(given, expected):
        raise BadCredentials("That is not the admin key.")


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidValue(f"{name} must be an integer", details=[{"fieldName": name}]) from None
    # The upper bound keeps a 4000-digit integer from overflowing float arithmetic downstream.
    if not 0 <= value <= MAX_EPOCH_MS:
        raise InvalidValue(f"{name} must be between 0 and {MAX_EPOCH_MS}", details=[{"fieldName": name}])
    return value


def _profile_from(body: Any) -> FaultProfile:
    try:
        if isinstance(body, dict) and set(body) == {"name"}:
            return get_profile(str(body["name"]))
        return FaultProfile.from_dict(body)
    except ValueError as error:
        raise InvalidValue(str(error)) from None


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    """Rebuild the org from its settings; the body may change seed, agents or profile."""
    body = json_body({})
    if not isinstance(body, dict):
        raise InvalidValue("the body must be an object")
    changes = {k: body[k] for k in ("seed", "agents") if k in body}
    for key, value in changes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < (1 if key == "agents" else 0):
            raise InvalidValue(f"{key} must be a non-negative integer", details=[{"fieldName": key}])
    if changes.get("agents", 0) > MAX_RESET_AGENTS:
        # Seeding is linear in agents: a huge count would hang the server, not fail.
        raise InvalidValue(f"agents must be at most {MAX_RESET_AGENTS}", details=[{"fieldName": "agents"}])
    profile = (
        _profile_from(body["profile"] if isinstance(body.get("profile"), dict) else {"name": body["profile"]})
        if "profile" in body
        else None
    )
    current_app.extensions["mockgc"].reset(profile=profile, **changes)
    return jsonify(info_body())


def info_body() -> dict[str, Any]:
    platform = backend()
    return {
        "seed": platform.settings.seed,
        "profile": platform.profile.to_dict(),
        "clock": {
            "kind": "virtual" if isinstance(platform.clock, VirtualClock) else "system",
            "nowEpochMs": int(platform.clock.now() * 1000),
        },
        "businessUnits": [bu.to_api() for bu in platform.wfm.list_business_units()],
        "users": [agent.admin_to_api() for agent in platform.users.list_agents()],
        "memory": platform.memory_counts().to_api(),
    }


@bp.get("/info")
def info() -> ResponseReturnValue:
    return jsonify(info_body())


@bp.get("/profiles")
def profiles() -> ResponseReturnValue:
    return jsonify(entities=[p.to_dict() for p in PROFILES.values()])


@bp.get("/faults")
def faults() -> ResponseReturnValue:
    platform = backend()
    return jsonify(profile=platform.profile.to_dict(), toxics=[t.__dict__ for t in platform.faults.toxics.values()])


@bp.put("/faults/profile")
def set_profile() -> ResponseReturnValue:
    profile = _profile_from(json_body())
    backend().faults.set_profile(profile)
    return jsonify(profile.to_dict())


@bp.post("/faults/toxics")
def add_toxic() -> ResponseReturnValue:
    try:
        toxic = Toxic.from_dict(json_body())
    except ValueError as error:
        raise InvalidValue(str(error)) from None
    backend().faults.set_toxic(toxic)
    return jsonify(toxic.__dict__), 201


@bp.delete("/faults/toxics/<name>")
def remove_toxic(name: str) -> ResponseReturnValue:
    backend().faults.remove_toxic(name)
    return "", 204


@bp.post("/faults/reset")
def reset_faults() -> ResponseReturnValue:
    """Back to the profile the server started with (Toxiproxy's POST /reset)."""
    profile = get_profile(current_app.extensions["mockgc"].org.profile)
    backend().faults.set_profile(profile)
    return jsonify(profile.to_dict())


@bp.get("/clock")
def get_clock() -> ResponseReturnValue:
    return jsonify(info_body()["clock"])


@bp.post("/clock")
def move_clock() -> ResponseReturnValue:
    clock = backend().clock
    if not isinstance(clock, VirtualClock):
        raise InvalidValue("this server runs on the system clock; start it with clock=virtual to control time")
    body = json_body()
    if not isinstance(body, dict) or len(set(body) & {"advanceMs", "setEpochMs"}) != 1:
        raise InvalidValue("give exactly one of advanceMs or setEpochMs")
    value = body.get("advanceMs", body.get("setEpochMs"))
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidValue("the clock value must be a number of milliseconds")
    # Past year 3000 the platform's ISO timestamps (and float ms) stop making sense.
    in_range = -MAX_EPOCH_MS <= value <= MAX_EPOCH_MS  # compared before any int->float conversion
    if not in_range or not (clock.now() * 1000 + value if "advanceMs" in body else value) <= MAX_EPOCH_MS:
        raise InvalidValue(f"the clock cannot move past epoch ms {MAX_EPOCH_MS}")
    try:
        if "advanceMs" in body:
            clock.advance(value / 1000)
        else:
            clock.set(value / 1000)
    except ValueError as error:
        raise InvalidValue(str(error)) from None
    backend().settle()
    return jsonify(info_body()["clock"])


@bp.get("/journal")
def journal() -> ResponseReturnValue:
    log = current_app.extensions["mockgc"].journal
    return jsonify(entries=log.since(_int_arg("since", 0), _int_arg("limit", 1000)), dropped=log.dropped)


@bp.get("/truth")
def truth() -> ResponseReturnValue:
    """Every session's stored variables, streamed: a long run's truth is never built in memory."""
    return Response(stream_json({"sessions": backend().truth_entries()}), mimetype="application/json")


def stream_json(fields: dict[str, Any], batch: int = 1000) -> Iterator[str]:
    """A JSON object written piece by piece: an iterator of (key, value) pairs becomes an object."""
    yield "{"
    for index, (name, value) in enumerate(fields.items()):
        yield ("," if index else "") + json.dumps(name) + ":"
        if not isinstance(value, Iterator):
            yield json.dumps(value)
            continue
        yield "{"
        chunk: list[str] = []
        for count, (key, item) in enumerate(value):
            chunk.append(("," if count else "") + json.dumps(key) + ":" + json.dumps(item))
            if len(chunk) >= batch:
                yield "".join(chunk)
                chunk = []
        yield "".join(chunk) + "}"
    yield "}"


@bp.get("/windows")
def windows() -> ResponseReturnValue:
    return jsonify(operations=backend().lock_windows())


@bp.get("/events")
def events() -> ResponseReturnValue:
    since = _int_arg("sinceEpochMs", 0) / 1000
    log = list(backend().events.log)
    return jsonify(
        entities=[
            {"atEpochMs": int(e.at * 1000), "topicName": e.topic, "eventBody": e.body} for e in log if e.at >= since
        ]
    )


@bp.post("/oauth/clients")
def add_client() -> ResponseReturnValue:
    """Register a client; rateLimitPerMinute null turns the rate limit off for its tokens."""
    body = json_body()
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("clientId"), str)
        or not isinstance(body.get("clientSecret"), str)
    ):
        raise InvalidValue("give clientId and clientSecret as strings")
    limit = body.get("rateLimitPerMinute", 300)
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise InvalidValue("rateLimitPerMinute must be an integer or null")
    client = backend().auth.add_client(body["clientId"], body["clientSecret"], limit)
    return jsonify(clientId=client.client_id, rateLimitPerMinute=client.rate_limit_per_minute), 201
