"""Workforce management: business units, schedules, and the update-upload publish flow."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from mockgc.platform.api.validate import check_body
from mockgc.platform.domain.errors import BadRequest, InvalidValue
from mockgc.platform.domain.wfm import AgentSchedulesQuery, PublishOperation, ScheduleUpload, WeekQuery
from mockgc.platform.http.body import backend, gunzip, json_body, parse_json
from mockgc.platform.http.fields import is_int, require_str
from mockgc.platform.settings import MAX_BODY_BYTES

bp = Blueprint("wfm", __name__, url_prefix="/api/v2/workforcemanagement/businessunits")
uploads = Blueprint("uploads", __name__)

SCHEDULE = "/<bu_id>/weeks/<week_id>/schedules/<schedule_id>"
WEEK_ID = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_UPLOAD_BYTES = 100_000_000
GZIP_MAGIC = b"\x1f\x8b"
RECENT = "recent"


# -- parsing -----------------------------------------------------------------------------


def parse_week(week_id: str) -> str:
    """A week is a date in yyyy-MM-dd form (the path's); any real date may get a schedule."""
    if not WEEK_ID.match(week_id):
        raise InvalidValue("weekId must be a date in yyyy-MM-dd form", details=[{"fieldName": "weekId"}])
    try:
        date.fromisoformat(week_id)
    except ValueError:
        raise InvalidValue(f"weekId {week_id} is not a real date", details=[{"fieldName": "weekId"}]) from None
    return week_id


def parse_week_query(week_id: str, args: Mapping[str, str]) -> WeekQuery:
    """weekId (a date, or `recent` with its optional earliestWeekDate/latestWeekDate) and includeOnlyPublished."""
    only_published = parse_flag(args, "includeOnlyPublished")
    if week_id != RECENT:
        return WeekQuery(date.fromisoformat(parse_week(week_id)), only_published=only_published)
    earliest, latest = (args.get(name) for name in ("earliestWeekDate", "latestWeekDate"))
    return WeekQuery(
        None,
        date.fromisoformat(parse_date(earliest, "earliestWeekDate")) if earliest else None,
        date.fromisoformat(parse_date(latest, "latestWeekDate")) if latest else None,
        only_published,
    )


def parse_date(value: str, field: str) -> str:
    try:
        return parse_week(value)
    except InvalidValue:
        raise InvalidValue(f"{field} must be a date in yyyy-MM-dd form", details=[{"fieldName": field}]) from None


def parse_flag(args: Mapping[str, str], name: str) -> bool:
    value = args.get(name, "false").lower()
    if value not in ("true", "false"):
        raise InvalidValue(f"{name} must be true or false", details=[{"fieldName": name}])
    return value == "true"


def parse_agent_schedules_query(body: Any, args: Mapping[str, str]) -> AgentSchedulesQuery:
    """A BuQueryAgentSchedulesRequest ({managementUnitId?, userIds?, teamIds?}) and forceAsync/forceDownloadService."""
    if not isinstance(body, dict):
        raise InvalidValue("the body must be an object")
    unit = body.get("managementUnitId")
    if unit is not None:
        unit = require_str(unit, "managementUnitId")
    user_ids = body.get("userIds")
    if user_ids is not None and (not isinstance(user_ids, list) or not all(isinstance(u, str) and u for u in user_ids)):
        raise InvalidValue("userIds must be a list of user ids", details=[{"fieldName": "userIds"}])
    team_ids = body.get("teamIds")
    if team_ids:  # the mock has no teams: a query naming one could only be answered wrongly
        raise InvalidValue("this org has no teams", details=[{"fieldName": "teamIds"}])
    return AgentSchedulesQuery(
        unit,
        tuple(user_ids) if user_ids is not None else None,
        force_async=parse_flag(args, "forceAsync"),
        force_download=parse_flag(args, "forceDownloadService"),
    )


def parse_new_schedule(body: Any) -> tuple[str, int]:
    """(description, weekCount) of a schedule to create."""
    if not isinstance(body, dict):
        raise InvalidValue("the body must be an object")
    description = require_str(body.get("description", ""), "description", allow_empty=True)
    week_count = body.get("weekCount", 1)
    if not is_int(week_count) or not 1 <= week_count <= 6:
        raise InvalidValue("weekCount must be an integer from 1 to 6", details=[{"fieldName": "weekCount"}])
    return description, week_count


def parse_upload_request(body: Any) -> int:
    """The contentLengthBytes an upload URL is issued for."""
    length = body.get("contentLengthBytes") if isinstance(body, dict) else None
    if not is_int(length) or not 0 < length <= MAX_UPLOAD_BYTES:
        raise InvalidValue(
            "contentLengthBytes must be a positive integer", details=[{"fieldName": "contentLengthBytes"}]
        )
    return int(length)


def parse_schedule_upload(document: Any) -> ScheduleUpload:
    """The uploaded schedule: {published?, metadata: {version}}, the rest not read."""
    if not isinstance(document, dict):
        raise InvalidValue("the uploaded schedule must be a JSON object")
    published = document.get("published", False)
    if not isinstance(published, bool):
        raise InvalidValue("published must be a boolean", details=[{"fieldName": "published"}])
    metadata = document.get("metadata")
    version = metadata.get("version") if isinstance(metadata, dict) else None
    if not is_int(version):
        raise InvalidValue("metadata.version is required", details=[{"fieldName": "metadata.version"}])
    return ScheduleUpload(published, version)


def parse_update(body: Any) -> str:
    """The uploadKey of the document to apply."""
    return require_str(body.get("uploadKey") if isinstance(body, dict) else None, "uploadKey")


def operations_to_api(operations: list[PublishOperation]) -> dict[str, Any]:
    return {"entities": [op.to_api() for op in operations]}


# -- routes ------------------------------------------------------------------------------


@bp.get("")
def list_business_units() -> ResponseReturnValue:
    return jsonify(entities=[bu.to_api() for bu in backend().wfm.list_business_units()])


@bp.get("/<bu_id>")
def get_business_unit(bu_id: str) -> ResponseReturnValue:
    return jsonify(backend().wfm.get_business_unit(bu_id).detail_to_api())


@bp.get("/<bu_id>/managementunits")
def list_management_units(bu_id: str) -> ResponseReturnValue:
    units = backend().wfm.list_management_units(bu_id)
    return jsonify(entities=[mu.to_api() for mu in units])


@bp.get("/<bu_id>/activitycodes")
def list_activity_codes(bu_id: str) -> ResponseReturnValue:
    return jsonify(entities=[code.to_api() for code in backend().wfm.list_activity_codes(bu_id)])


@bp.get("/<bu_id>/weeks/<week_id>/schedules")
def list_schedules(bu_id: str, week_id: str) -> ResponseReturnValue:
    query = parse_week_query(week_id, request.args)
    return jsonify(entities=[s.to_api() for s in backend().wfm.list_schedules(bu_id, query)])


@bp.post("/<bu_id>/weeks/<week_id>/schedules")
def create_schedule(bu_id: str, week_id: str) -> ResponseReturnValue:
    body = json_body({})
    week = parse_week(week_id)
    description, week_count = parse_new_schedule(body)
    return jsonify(backend().wfm.create_schedule(bu_id, week, description, week_count).to_api())


@bp.get(SCHEDULE)
def get_schedule(bu_id: str, week_id: str, schedule_id: str) -> ResponseReturnValue:
    return jsonify(backend().wfm.get_schedule(bu_id, parse_week(week_id), schedule_id).to_api())


@bp.post(SCHEDULE + "/update/uploadurl")
def create_upload_url(bu_id: str, week_id: str, schedule_id: str) -> ResponseReturnValue:
    body = json_body()
    week = parse_week(week_id)
    length = parse_upload_request(body)
    slot = backend().wfm.create_upload(bu_id, week, schedule_id, length)
    schedule = backend().wfm.get_schedule(bu_id, week, schedule_id)
    return jsonify(
        uploadKey=slot.key,
        url=public_url("uploads.receive", upload_key=slot.key),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        uploadBodySchema=schedule.upload_schema_to_api(),
    )


@bp.post(SCHEDULE + "/agentschedules/query")
def query_agent_schedules(bu_id: str, week_id: str, schedule_id: str) -> ResponseReturnValue:
    body = json_body()
    week = parse_week(week_id)
    query = parse_agent_schedules_query(body, request.args)
    prefix = public_url("uploads.download", download_key="k")[: -len("k")]
    return jsonify(backend().wfm.query_agent_schedules(bu_id, week, schedule_id, query, prefix).to_api())


@bp.post(SCHEDULE + "/update")
def process_update(bu_id: str, week_id: str, schedule_id: str) -> ResponseReturnValue:
    body = json_body()
    week = parse_week(week_id)
    upload_key = parse_update(body)
    return jsonify(backend().wfm.process_update(bu_id, week, schedule_id, upload_key).to_api(plan=False))


@bp.get("/<bu_id>/operations")
def list_operations(bu_id: str) -> ResponseReturnValue:
    """Mock-only: every schedule update operation of the business unit, with its state."""
    return jsonify(operations_to_api(backend().wfm.list_operations(bu_id)))


@bp.get("/<bu_id>/operations/<operation_id>")
def get_operation(bu_id: str, operation_id: str) -> ResponseReturnValue:
    """Mock-only: one operation's state (the real platform only announces completion)."""
    return jsonify(backend().wfm.get_operation(operation_id, bu_id).to_api())


@uploads.put("/uploads/schedules/<upload_key>")
def receive(upload_key: str) -> ResponseReturnValue:
    """The pre-signed upload target: no bearer token, the key is the credential.

    Nothing is read, let alone inflated, before the key is known to be live; the body must be
    the contentLengthBytes the URL was issued for, as a signed upload URL's is.
    """
    wfm = backend().wfm
    declared = wfm.upload_length(upload_key)
    if request.content_length is not None and request.content_length != declared:
        raise BadRequest(_length_mismatch(request.content_length, declared))
    raw = request.get_data(cache=False)
    if len(raw) != declared:
        raise BadRequest(_length_mismatch(len(raw), declared))
    if raw[:2] != GZIP_MAGIC:
        raise BadRequest("The upload must be gzip-compressed JSON, as the upload URL's headers say.")
    raw = gunzip(raw, MAX_BODY_BYTES)
    try:
        document = parse_json(raw)
    except BadRequest:
        raise BadRequest("The upload is not valid JSON.") from None
    check_body(request.method, "/uploads/schedules/<upload_key>", document)
    wfm.receive_upload(upload_key, parse_schedule_upload(document))
    return "", 200


@uploads.get("/downloads/agentschedules/<download_key>")
def download(download_key: str) -> ResponseReturnValue:
    """A query result's download URL: no bearer token, the key is the credential (a pre-signed URL)."""
    return jsonify(backend().wfm.download(download_key))


def public_url(endpoint: str, **values: str) -> str:
    """A pre-signed URL: the configured base URL and the route's path, never the caller's Host header."""
    return current_app.extensions["mockgc"].base_url + url_for(endpoint, **values)


def _length_mismatch(length: int, declared: int) -> str:
    return f"The upload is {length} bytes; its URL was issued for contentLengthBytes {declared}."
