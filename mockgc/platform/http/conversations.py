"""Conversations: create a call, read it, and patch participant attributes."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mockgc.platform.http.body import backend, json_body

bp = Blueprint("conversations", __name__, url_prefix="/api/v2/conversations")


@bp.post("/calls")
def create_call() -> ResponseReturnValue:
    return jsonify(backend().create_call(json_body())), 200


@bp.get("/<conversation_id>")
def get_conversation(conversation_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_conversation(conversation_id))


@bp.patch("/<conversation_id>/participants/<participant_id>/attributes")
def patch_participant_attributes(conversation_id: str, participant_id: str) -> ResponseReturnValue:
    backend().patch_participant_attributes(conversation_id, participant_id, json_body())
    return "", 202
