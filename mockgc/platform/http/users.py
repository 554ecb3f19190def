"""Users: routing status and presence (manual changes, which never take the publish lock)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.http.body import backend, json_body

bp = Blueprint("users", __name__, url_prefix="/api/v2/users")


@bp.get("")
def list_users() -> ResponseReturnValue:
    users = [agent.to_api() for agent in backend().list_users()]
    return jsonify(entities=users, pageSize=len(users), pageNumber=1, total=len(users), pageCount=1)


@bp.get("/<user_id>/routingstatus")
def get_routing_status(user_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_routing_status(user_id))


@bp.put("/<user_id>/routingstatus")
def put_routing_status(user_id: str) -> ResponseReturnValue:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidValue("the body must be a RoutingStatus object")
    return jsonify(backend().put_routing_status(user_id, body.get("status")))


@bp.get("/<user_id>/presences/<source_id>")
def get_presence(user_id: str, source_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_presence(user_id, source_id))


@bp.patch("/<user_id>/presences/<source_id>")
def patch_presence(user_id: str, source_id: str) -> ResponseReturnValue:
    return jsonify(backend().patch_presence(user_id, source_id, json_body()))


@bp.put("/presences/bulk")
@bp.put("/presences/<source_id>/bulk")
def put_presences_bulk(source_id: str = "purecloud") -> ResponseReturnValue:
    return jsonify(backend().put_presences_bulk(json_body(), source_id))
