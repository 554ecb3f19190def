"""Mock-only script-engine sessions: create, Set Data, read, evaluate the branch, re-attach."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mockgc.platform.http.body import backend, deliver, json_body

bp = Blueprint("scripts", __name__, url_prefix="/api/v2/scripts/sessions")


@bp.post("")
def create_session() -> ResponseReturnValue:
    return jsonify(backend().create_script_session(json_body())), 201


@bp.get("/<session_id>")
def get_session(session_id: str) -> ResponseReturnValue:
    return jsonify(deliver(backend().get_script_session(session_id)))


@bp.put("/<session_id>/variables/<name>")
def set_variable(session_id: str, name: str) -> ResponseReturnValue:
    return jsonify(deliver(backend().set_script_variable(session_id, name, json_body())))


@bp.post("/<session_id>/evaluate")
def evaluate(session_id: str) -> ResponseReturnValue:
    return jsonify(deliver(backend().evaluate_script_branch(session_id, json_body())))


@bp.post("/<session_id>/attach")
def attach(session_id: str) -> ResponseReturnValue:
    return jsonify(backend().attach_script_session(session_id))
