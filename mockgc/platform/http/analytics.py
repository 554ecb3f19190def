"""The seed's bulk script-data update: PUT /api/v2/analytics/script-data (mock-only)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mockgc.platform.http.body import backend, deliver, json_body

bp = Blueprint("analytics", __name__, url_prefix="/api/v2/analytics")


@bp.put("/script-data")
def put_script_data() -> ResponseReturnValue:
    return jsonify(deliver(backend().put_script_data(json_body())))
