"""GET /api/v2/docs/openapi.json: the mock's OpenAPI document, generated from mockgc/platform/api."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mockgc.platform.api import DOCS_PATH
from mockgc.platform.api.openapi import document

bp = Blueprint("docs", __name__)


@bp.get(DOCS_PATH)
def openapi_document() -> ResponseReturnValue:
    return jsonify(document())
