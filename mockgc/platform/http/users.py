"""Users: the listing and each user, routing status and presence (manual changes, which never take the publish lock)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.api import users as contract
from mockgc.platform.api.validate import check_body
from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.users import (
    MAX_IDS,
    PRESENCE_BY_ID,
    PRESENCE_DEFINITIONS,
    PRESENCE_SOURCE,
    ROUTING_STATUSES,
    USER_EXPANDS,
    PresenceChange,
)
from mockgc.platform.http.body import backend, json_body
from mockgc.platform.http.fields import require_str
from mockgc.platform.http.paging import (
    listing_to_api,
    parse_bool,
    parse_choice,
    parse_descending,
    parse_expand,
    parse_list,
    parse_page,
)

bp = Blueprint("users", __name__, url_prefix="/api/v2/users")
voicemail = Blueprint("voicemail", __name__, url_prefix="/api/v2/voicemail")

MAX_BULK_PRESENCES = 50


# -- parsing -----------------------------------------------------------------------------


def parse_routing_status(body: Any) -> str:
    if not isinstance(body, dict):
        raise InvalidValue("the body must be a RoutingStatus object")
    status = body.get("status")
    if status not in ROUTING_STATUSES:
        raise InvalidValue(f"status must be one of {', '.join(ROUTING_STATUSES)}", details=[{"fieldName": "status"}])
    return str(status)


def parse_presence(body: Any) -> PresenceChange:
    """A presence body: a definition (by id or system presence), a message, or both."""
    if not isinstance(body, dict):
        raise InvalidValue("the presence must be an object")
    definition, system = body.get("presenceDefinition"), None
    if definition is not None:
        if not isinstance(definition, dict):
            raise InvalidValue("presenceDefinition must be an object", details=[{"fieldName": "presenceDefinition"}])
        # Only strings can name a presence; anything else (a list, say) is unhashable.
        presence_id, system = definition.get("id"), definition.get("systemPresence")
        if isinstance(presence_id, str):
            system = PRESENCE_BY_ID.get(presence_id)
        if not isinstance(system, str) or system not in PRESENCE_DEFINITIONS:
            raise InvalidValue(
                "presenceDefinition does not name a known presence", details=[{"fieldName": "presenceDefinition.id"}]
            )
    message = body.get("message")
    if message is not None:
        require_str(message, "message", max_length=1024, allow_empty=True)
    # The purecloud source is every user's only one, so it stays primary whatever the body says.
    primary = body.get("primary")
    if primary is not None and not isinstance(primary, bool):
        raise InvalidValue("primary must be a boolean", details=[{"fieldName": "primary"}])
    if definition is None and message is None and primary is None:
        raise InvalidValue("nothing to change: give presenceDefinition, message or primary")
    return PresenceChange(system, message)


def parse_bulk_presences(body: Any) -> list[tuple[str, PresenceChange]]:
    if not isinstance(body, list):
        raise InvalidValue("the body must be a list of user presences")
    if len(body) > MAX_BULK_PRESENCES:
        raise InvalidValue(f"at most {MAX_BULK_PRESENCES} user presences may be updated at once")
    changes = []
    for item in body:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise InvalidValue("each entry needs the user's id", details=[{"fieldName": "id"}])
        changes.append((item["id"], parse_presence(item)))
    return changes


def parse_joined(item: Any) -> bool:
    joined = item.get("joined") if isinstance(item, dict) else None
    if not isinstance(joined, bool):
        raise InvalidValue("joined must be a boolean", details=[{"fieldName": "joined"}])
    return joined


def parse_user_queues(body: Any) -> list[tuple[str, bool]]:
    """PATCH /users/{id}/queues: a list of UserQueue, [{"id": queueId, "joined": bool}, ...]."""
    if not isinstance(body, list) or not body:
        raise InvalidValue("the body must be a non-empty list of queues")
    changes = []
    for item in body:
        queue_id = require_str(item.get("id") if isinstance(item, dict) else None, "id", max_length=128)
        changes.append((queue_id, parse_joined(item)))
    return changes


# -- routes ------------------------------------------------------------------------------


@bp.get("")
def list_users() -> ResponseReturnValue:
    args = request.args
    page, expand = parse_page(args), parse_expand(args, USER_EXPANDS)
    ids = parse_list(args, "id", most=MAX_IDS)
    state = parse_choice(args, "state", ("active", "inactive", "deleted", "any"), "active")
    descending = parse_descending(args)
    found = backend().users.page_users(page, ids, state=state, descending=descending)
    return jsonify(listing_to_api(found, lambda agent: agent.to_api(expand)))


@bp.post("")
def create_user() -> ResponseReturnValue:
    return jsonify(backend().users.create_user(contract.parse_new_user(json_body())).to_api())


@bp.post("/search")
def search_users() -> ResponseReturnValue:
    return _search(json_body())


@bp.get("/search")
def search_users_again() -> ResponseReturnValue:
    """A page a search's answer pointed to (its q64); `expand` here adds to the encoded one."""
    body = contract.parse_q64(request.args.get("q64", ""))
    check_body("POST", "/api/v2/users/search", body)
    expand = sorted(parse_expand(request.args, USER_EXPANDS) | set(body.get("expand") or ()))
    return _search(body | ({"expand": expand} if expand else {}))


def _search(body: dict[str, Any]) -> ResponseReturnValue:
    search, expand = contract.parse_user_search(body)
    found = backend().users.search(search)
    answer: dict[str, Any] = {
        "total": found.total,
        "pageCount": found.count,
        "pageSize": found.size,
        "pageNumber": found.number,
    }
    if found.number > 1:
        answer["previousPage"] = contract.search_q64(body, min(found.number - 1, max(1, found.count)))
    answer["currentPage"] = contract.search_q64(body, found.number)
    if found.number < found.count:
        answer["nextPage"] = contract.search_q64(body, found.number + 1)
    answer |= {"types": ["users"], "results": [agent.to_api(expand) for agent in found.entities]}
    return jsonify(answer)


@bp.patch("/<user_id>")
def patch_user(user_id: str) -> ResponseReturnValue:
    return jsonify(backend().users.update_user(user_id, contract.parse_user_change(json_body())).to_api())


@bp.delete("/<user_id>")
def delete_user(user_id: str) -> ResponseReturnValue:
    backend().users.delete_user(user_id)
    return jsonify({})


@voicemail.get("/userpolicies/<user_id>")
def get_voicemail_policy(user_id: str) -> ResponseReturnValue:
    return jsonify(backend().users.voicemail_policy(user_id).to_api())


@voicemail.patch("/userpolicies/<user_id>")
def patch_voicemail_policy(user_id: str) -> ResponseReturnValue:
    changes = contract.parse_voicemail_policy(json_body())
    return jsonify(backend().users.set_voicemail_policy(user_id, changes).to_api())


@bp.get("/<user_id>")
def get_user(user_id: str) -> ResponseReturnValue:
    expand = parse_expand(request.args, USER_EXPANDS)
    return jsonify(backend().users.user(user_id).to_api(expand))


@bp.get("/<user_id>/queues")
def get_user_queues(user_id: str) -> ResponseReturnValue:
    args = request.args
    found = backend().routing.user_queues(user_id, parse_page(args), joined=parse_bool(args, "joined"))
    return jsonify(listing_to_api(found, lambda queue: queue.to_api()))


@bp.patch("/<user_id>/queues")
def patch_user_queues(user_id: str) -> ResponseReturnValue:
    queues = backend().routing.set_user_joined(user_id, parse_user_queues(json_body()))
    return jsonify(entities=[q.to_api() for q in queues], pageSize=len(queues), pageNumber=1, total=len(queues))


@bp.patch("/<user_id>/queues/<queue_id>")
def patch_user_queue(user_id: str, queue_id: str) -> ResponseReturnValue:
    [queue] = backend().routing.set_user_joined(user_id, [(queue_id, parse_joined(json_body()))])
    return jsonify(queue.to_api())


@bp.get("/<user_id>/routingstatus")
def get_routing_status(user_id: str) -> ResponseReturnValue:
    return jsonify(backend().users.routing_status(user_id).routing_to_api())


@bp.put("/<user_id>/routingstatus")
def put_routing_status(user_id: str) -> ResponseReturnValue:
    status = parse_routing_status(json_body())
    return jsonify(backend().users.set_routing_status(user_id, status).routing_to_api())


@bp.get("/<user_id>/presences/<source_id>")
def get_presence(user_id: str, source_id: str) -> ResponseReturnValue:
    return jsonify(backend().users.presence(user_id, source_id).presence_to_api())


@bp.patch("/<user_id>/presences/<source_id>")
def patch_presence(user_id: str, source_id: str) -> ResponseReturnValue:
    change = parse_presence(json_body())
    return jsonify(backend().users.set_presence(user_id, source_id, change).presence_to_api())


@bp.put("/presences/bulk")
def put_presences_bulk() -> ResponseReturnValue:
    changes = parse_bulk_presences(json_body())
    return jsonify([agent.presence_to_api() for agent in backend().users.set_presences(PRESENCE_SOURCE, changes)])


@bp.get("/presences/<source_id>/bulk")
def get_presences_bulk(source_id: str) -> ResponseReturnValue:
    # The SDK marks `id` optional: naming nobody reads nobody.
    agents = backend().users.presences(source_id, parse_list(request.args, "id", most=MAX_IDS) or [])
    return jsonify([agent.uc_presence_to_api() for agent in agents])
