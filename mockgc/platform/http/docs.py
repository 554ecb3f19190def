"""GET /api/v2/docs/openapi.json: the mock's OpenAPI document, generated from mockgc/platform/api."""

from __future__ import annotations

import json
from functools import cache

from flask import Blueprint, Response

from mockgc.platform.api import DOCS_PATH
from mockgc.platform.api.openapi import document

bp = Blueprint("docs", __name__)


@cache
def _serialized() -> bytes:
    # Served without a token: encoding its ~150 KB once keeps every anonymous request to a copy.
    return json.dumps(document()).encode()


@bp.get(DOCS_PATH)
def openapi_document() -> Response:
    return Response(_serialized(), mimetype="application/json")
