"""Groups: the org's groups, listed as the platform pages them, and each group."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.users import MAX_IDS
from mockgc.platform.http.body import backend
from mockgc.platform.http.paging import listing_to_api, parse_descending, parse_list, parse_page

bp = Blueprint("groups", __name__, url_prefix="/api/v2/groups")


@bp.get("")
def list_groups() -> ResponseReturnValue:
    args = request.args
    page, ids = parse_page(args), parse_list(args, "id", most=MAX_IDS)
    descending = parse_descending(args)
    found = backend().groups.list_groups(page, ids, descending=descending)
    return jsonify(listing_to_api(found, lambda group: group.to_api()))


@bp.get("/<group_id>")
def get_group(group_id: str) -> ResponseReturnValue:
    return jsonify(backend().groups.group(group_id).to_api())
