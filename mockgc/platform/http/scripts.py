"""Mock-only script-engine sessions: create, Set Data, read, evaluate the branch, re-attach."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.http.body import backend, deliver, json_body
from mockgc.platform.http.fields import MAX_VARIABLE_NAME, MAX_VARIABLE_VALUE, is_int, require_str

bp = Blueprint("scripts", __name__, url_prefix="/api/v2/scripts/sessions")


# -- parsing -----------------------------------------------------------------------------


def parse_new_session(body: Any) -> tuple[str, str]:
    """(userId, conversationId) of a session to create."""
    if not isinstance(body, dict):
        raise InvalidValue("the body must be an object")
    return require_str(body.get("userId"), "userId"), require_str(body.get("conversationId"), "conversationId")


def parse_write(name: str, body: Any) -> tuple[str, str, int | None]:
    """(name, value, expectedVersion) of a Set Data; the variable's name is the path's."""
    require_str(name, "name", max_length=MAX_VARIABLE_NAME)
    if not isinstance(body, dict):
        raise InvalidValue('the body must be {"value": "..."}')
    value = require_str(body.get("value"), "value", max_length=MAX_VARIABLE_VALUE, allow_empty=True)
    expected = body.get("expectedVersion")
    if expected is not None and not is_int(expected):
        raise InvalidValue("expectedVersion must be an integer", details=[{"fieldName": "expectedVersion"}])
    return name, value, expected


def parse_evaluate(body: Any) -> str:
    """The variable whose branch to evaluate."""
    if not isinstance(body, dict):
        raise InvalidValue('the body must be {"variable": "..."}')
    return require_str(body.get("variable"), "variable", max_length=MAX_VARIABLE_NAME)


# -- routes ------------------------------------------------------------------------------


@bp.post("")
def create_session() -> ResponseReturnValue:
    user_id, conversation_id = parse_new_session(json_body())
    return jsonify(backend().scripts.create(user_id, conversation_id).to_api()), 201


@bp.get("/<session_id>")
def get_session(session_id: str) -> ResponseReturnValue:
    return jsonify(deliver(backend().scripts.get(session_id)).to_api())


@bp.put("/<session_id>/variables/<name>")
def set_variable(session_id: str, name: str) -> ResponseReturnValue:
    write = parse_write(name, json_body())
    return jsonify(deliver(backend().scripts.set_variable(session_id, *write)).to_api())


@bp.post("/<session_id>/evaluate")
def evaluate(session_id: str) -> ResponseReturnValue:
    variable = parse_evaluate(json_body())
    return jsonify(deliver(backend().scripts.evaluate(session_id, variable)).to_api())


@bp.post("/<session_id>/attach")
def attach(session_id: str) -> ResponseReturnValue:
    return jsonify(backend().scripts.attach(session_id).to_api())
