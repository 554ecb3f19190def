"""Workforce management: business units, schedules, and the update-upload publish flow."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import BadRequest
from mockgc.platform.http.body import backend, gunzip, json_body, parse_json
from mockgc.settings import MAX_BODY_BYTES

bp = Blueprint("wfm", __name__, url_prefix="/api/v2/workforcemanagement/businessunits")
uploads = Blueprint("uploads", __name__)

SCHEDULE = "/<bu_id>/weeks/<week_id>/schedules/<schedule_id>"


@bp.get("")
def list_business_units() -> ResponseReturnValue:
    return jsonify(entities=backend().list_business_units())


@bp.get("/<bu_id>")
def get_business_unit(bu_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_business_unit(bu_id))


@bp.post("/<bu_id>/weeks/<week_id>/schedules")
def create_schedule(bu_id: str, week_id: str) -> ResponseReturnValue:
    return jsonify(backend().create_schedule(bu_id, week_id, json_body({})))


@bp.get(SCHEDULE)
def get_schedule(bu_id: str, week_id: str, schedule_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_schedule(bu_id, week_id, schedule_id))


@bp.post(SCHEDULE + "/update/uploadurl")
def create_upload_url(bu_id: str, week_id: str, schedule_id: str) -> ResponseReturnValue:
    slot = backend().create_schedule_upload(bu_id, week_id, schedule_id, json_body())
    return jsonify(
        uploadKey=slot.key,
        url=url_for("uploads.receive", upload_key=slot.key, _external=True),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )


@bp.post(SCHEDULE + "/update")
def process_update(bu_id: str, week_id: str, schedule_id: str) -> ResponseReturnValue:
    return jsonify(backend().process_schedule_update(bu_id, week_id, schedule_id, json_body()))


@bp.get("/<bu_id>/operations")
def list_operations(bu_id: str) -> ResponseReturnValue:
    """Mock-only: every schedule update operation of the business unit, with its state."""
    return jsonify(entities=backend().list_operations(bu_id))


@bp.get("/<bu_id>/operations/<operation_id>")
def get_operation(bu_id: str, operation_id: str) -> ResponseReturnValue:
    """Mock-only: one operation's state (the real platform only announces completion)."""
    return jsonify(backend().get_operation(operation_id, bu_id))


@uploads.put("/uploads/schedules/<upload_key>")
def receive(upload_key: str) -> ResponseReturnValue:
    """The pre-signed upload target: no bearer token, the key is the credential.

    Nothing is read, let alone inflated, before the key is known to be live; the body must be
    the contentLengthBytes the URL was issued for, as a signed upload URL's is.
    """
    platform = backend()
    declared = platform.upload_length(upload_key)
    if request.content_length is not None and request.content_length != declared:
        raise BadRequest(_length_mismatch(request.content_length, declared))
    raw = request.get_data(cache=False)
    if len(raw) != declared:
        raise BadRequest(_length_mismatch(len(raw), declared))
    if request.headers.get("Content-Encoding", "").lower() == "gzip" or raw[:2] == b"\x1f\x8b":
        raw = gunzip(raw, MAX_BODY_BYTES)
    try:
        document = parse_json(raw)
    except BadRequest:
        raise BadRequest("The upload is not valid JSON.") from None
    platform.receive_upload(upload_key, document)
    return "", 200


def _length_mismatch(length: int, declared: int) -> str:
    return f"The upload is {length} bytes; its URL was issued for contentLengthBytes {declared}."
