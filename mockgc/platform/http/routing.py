"""Routing: skills, queues (listing, one queue) and their members, whose changes fire the queue's users topic."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.routing import MAX_MEMBERS_PAGE_SIZE, MAX_MEMBERS_PER_CHANGE
from mockgc.platform.domain.users import MAX_IDS, USER_EXPANDS
from mockgc.platform.http.body import backend, json_body
from mockgc.platform.http.fields import require_str
from mockgc.platform.http.paging import (
    listing_to_api,
    parse_bool,
    parse_descending,
    parse_expand,
    parse_list,
    parse_page,
)

bp = Blueprint("routing", __name__, url_prefix="/api/v2/routing")


# -- parsing -----------------------------------------------------------------------------


def _entries(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not body:
        raise InvalidValue("the body must be a non-empty list of members")
    if len(body) > MAX_MEMBERS_PER_CHANGE:
        raise InvalidValue(f"at most {MAX_MEMBERS_PER_CHANGE} members may be changed at once")
    for item in body:
        if not isinstance(item, dict):
            raise InvalidValue("each member must be an object with the user's id", details=[{"fieldName": "id"}])
        require_str(item.get("id"), "id", max_length=128)
    return body


def parse_member_ids(body: Any) -> list[str]:
    """POST .../members: a list of WritableEntity, [{"id": userId}, ...]."""
    return [item["id"] for item in _entries(body)]


def parse_member_joins(body: Any) -> list[tuple[str, bool]]:
    """PATCH .../members: a list of QueueMember, [{"id": userId, "joined": bool}, ...]."""
    changes = []
    for item in _entries(body):
        joined = item.get("joined")
        if not isinstance(joined, bool):
            raise InvalidValue("joined must be a boolean", details=[{"fieldName": "joined"}])
        changes.append((item["id"], joined))
    return changes


def parse_name(args: Any) -> str | None:
    name = args.get("name")
    return None if name is None else require_str(name, "name", max_length=256)


# -- routes ------------------------------------------------------------------------------


@bp.get("/skills")
def list_skills() -> ResponseReturnValue:
    args = request.args
    page, name, ids = parse_page(args), parse_name(args), parse_list(args, "id", most=MAX_IDS)
    return jsonify(listing_to_api(backend().routing.list_skills(page, name, ids), lambda skill: skill.to_api()))


@bp.get("/skills/<skill_id>")
def get_skill(skill_id: str) -> ResponseReturnValue:
    return jsonify(backend().routing.skill(skill_id).to_api())


@bp.get("/queues")
def list_queues() -> ResponseReturnValue:
    args = request.args
    page, name, ids = parse_page(args), parse_name(args), parse_list(args, "id", most=MAX_IDS)
    found = backend().routing.list_queues(page, name, ids, descending=parse_descending(args))
    return jsonify(listing_to_api(found, lambda queue: queue.to_api()))


@bp.get("/queues/<queue_id>")
def get_queue(queue_id: str) -> ResponseReturnValue:
    return jsonify(backend().routing.queue(queue_id).to_api())


@bp.get("/queues/<queue_id>/members")
@bp.get("/queues/<queue_id>/users")
def list_queue_members(queue_id: str) -> ResponseReturnValue:
    """Both spellings; /members answers QueueMemberEntityListing, which has no totals, /users the V1 with them."""
    args = request.args
    page, expand = parse_page(args, max_size=MAX_MEMBERS_PAGE_SIZE), parse_expand(args, USER_EXPANDS)
    joined, name = parse_bool(args, "joined"), parse_name(args)
    found = backend().routing.members(queue_id, page, joined=joined, name=name)
    counted = request.path.endswith("/users")
    return jsonify(listing_to_api(found, lambda member: member.to_api(expand), counted=counted))


@bp.post("/queues/<queue_id>/members")
@bp.post("/queues/<queue_id>/users")
def post_queue_members(queue_id: str) -> ResponseReturnValue:
    """Add the users as members, or with delete=true remove them; 204 either way, as the platform does."""
    delete = bool(parse_bool(request.args, "delete"))
    user_ids = parse_member_ids(json_body())
    routing = backend().routing
    if delete:
        routing.remove_members(queue_id, user_ids)
    else:
        routing.add_members(queue_id, user_ids)
    return "", 204


@bp.patch("/queues/<queue_id>/members")
@bp.patch("/queues/<queue_id>/users")
def patch_queue_members(queue_id: str) -> ResponseReturnValue:
    """Join or unjoin members; the answer lists the members as they now are."""
    members = backend().routing.set_joined(queue_id, parse_member_joins(json_body()))
    return jsonify(entities=[member.to_api() for member in members], pageSize=len(members), pageNumber=1)
