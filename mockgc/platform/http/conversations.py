"""Conversations: create a call, read it, and patch participant attributes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.http.body import backend, json_body
from mockgc.platform.http.fields import require_str, string_map

bp = Blueprint("conversations", __name__, url_prefix="/api/v2/conversations")


# -- parsing -----------------------------------------------------------------------------


def parse_call(body: Any) -> str:
    """The agent a call is made to (callUserId); the customer's number is checked, not kept."""
    if not isinstance(body, dict):
        raise InvalidValue("the body must be an object")
    user_id = require_str(body.get("callUserId"), "callUserId")
    require_str(body.get("phoneNumber", "+13125550100"), "phoneNumber", max_length=64)
    return user_id


def parse_attributes(body: Any) -> dict[str, str]:
    if not isinstance(body, dict) or "attributes" not in body:
        raise InvalidValue('the body must be {"attributes": {...}}', details=[{"fieldName": "attributes"}])
    return string_map(body["attributes"], "attributes")


# -- routes ------------------------------------------------------------------------------


@bp.post("/calls")
def create_call() -> ResponseReturnValue:
    user_id = parse_call(json_body())
    return jsonify(backend().conversations.create_call(user_id).reference_to_api()), 200


@bp.get("/calls/<conversation_id>")
def get_call(conversation_id: str) -> ResponseReturnValue:
    return jsonify(backend().conversations.get(conversation_id).call_to_api())


@bp.patch("/calls/<conversation_id>/participants/<participant_id>/attributes")
def patch_call_participant_attributes(conversation_id: str, participant_id: str) -> ResponseReturnValue:
    """The call-specific route answers the participant's attributes (the SDK's ParticipantAttributes)."""
    attributes = parse_attributes(json_body())
    merged = backend().conversations.patch_call_attributes(conversation_id, participant_id, attributes)
    return jsonify(attributes=merged)


@bp.get("/<conversation_id>")
def get_conversation(conversation_id: str) -> ResponseReturnValue:
    return jsonify(backend().conversations.get(conversation_id).to_api())


@bp.patch("/<conversation_id>/participants/<participant_id>/attributes")
def patch_participant_attributes(conversation_id: str, participant_id: str) -> ResponseReturnValue:
    attributes = parse_attributes(json_body())
    backend().conversations.patch_attributes(conversation_id, participant_id, attributes)
    return "", 202
