"""Presence definitions and system presences: what a client reads to learn the org's presence ids."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.http.body import backend
from mockgc.platform.http.paging import listing_to_api, parse_bool, parse_choice, parse_page

bp = Blueprint("presence", __name__, url_prefix="/api/v2")
DELETED = ("true", "false", "all", "TRUE", "FALSE", "ALL")  # the SDK documents TRUE, FALSE or ALL


@bp.get("/presencedefinitions")
def list_presencedefinitions() -> ResponseReturnValue:
    args = request.args
    page = parse_page(args)
    deleted = parse_choice(args, "deleted", DELETED, "false").lower() == "true"
    found = backend().presence.page(page, deleted=deleted)
    return jsonify(listing_to_api(found, lambda definition: definition.to_api()))


@bp.get("/presencedefinitions/<presence_id>")
def get_presencedefinition(presence_id: str) -> ResponseReturnValue:
    return jsonify(backend().presence.definition(presence_id).to_api())


@bp.get("/presence/definitions")
def list_presence_definitions() -> ResponseReturnValue:
    deactivated = bool(parse_bool(request.args, "deactivated"))
    definitions = [d.definition_to_api() for d in backend().presence.listing(deactivated=deactivated)]
    return jsonify(total=len(definitions), entities=definitions, selfUri=request.full_path.rstrip("?"))


@bp.get("/presence/definitions/<definition_id>")
def get_presence_definition(definition_id: str) -> ResponseReturnValue:
    return jsonify(backend().presence.definition(definition_id).definition_to_api())


@bp.get("/systempresences")
def list_systempresences() -> ResponseReturnValue:
    return jsonify([d.system_to_api() for d in backend().presence.listing()])
