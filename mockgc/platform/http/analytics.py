"""The seed's bulk script-data update: PUT /api/v2/analytics/script-data (mock-only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.scripts import VariableUpdate
from mockgc.platform.http.body import backend, deliver, json_body
from mockgc.platform.http.fields import require_str, string_map

bp = Blueprint("analytics", __name__, url_prefix="/api/v2/analytics")


def parse_script_data(body: Any, limit: int) -> list[VariableUpdate]:
    """{"updates": [{"sessionId", "variables"}, ...]}, at most `limit` of them, every item checked."""
    if not isinstance(body, dict) or not isinstance(body.get("updates"), list):
        raise InvalidValue('the body must be {"updates": [...]}', details=[{"fieldName": "updates"}])
    updates = body["updates"]
    if len(updates) > limit:
        raise InvalidValue(f"at most {limit} updates per request", details=[{"fieldName": "updates"}])
    for item in updates:
        if not isinstance(item, dict):
            raise InvalidValue("each update must be an object", details=[{"fieldName": "updates"}])
        require_str(item.get("sessionId"), "sessionId")
        string_map(item.get("variables"), "variables")
    return [VariableUpdate(item["sessionId"], item["variables"]) for item in updates]


@bp.put("/script-data")
def put_script_data() -> ResponseReturnValue:
    platform = backend()
    updates = parse_script_data(json_body(), platform.settings.script_data_chunk_limit)
    return jsonify(deliver(platform.scripts.update_many(updates)).to_api())
