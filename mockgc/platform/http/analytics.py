"""Analytics: the details, aggregates and observation queries, the async details jobs, and the seed's
bulk script-data update (PUT /api/v2/analytics/script-data, mock-only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.api import analytics as query
from mockgc.platform.domain.analytics import Details
from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.scripts import VariableUpdate
from mockgc.platform.domain.users import PRESENCE_DEFINITIONS
from mockgc.platform.http.body import backend, deliver, json_body
from mockgc.platform.http.fields import require_str, string_map

bp = Blueprint("analytics", __name__, url_prefix="/api/v2/analytics")
# How analytics' system presences map to the org's presence definitions (one each in the mock).
SYSTEM_TO_ORGANIZATION = {name.upper().replace(" ", "_"): [pid] for name, pid in PRESENCE_DEFINITIONS.items()}


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


# -- analytics queries (their parsers are the contract's, mockgc/platform/api/analytics.py) ----------


@bp.post("/users/details/query")
def users_details_query() -> ResponseReturnValue:
    found = backend().analytics.user_details(query.parse_user_details_query(json_body()))
    return jsonify(_details(found, "userDetails", lambda detail: detail.to_api()))


@bp.post("/conversations/details/query")
def conversations_details_query() -> ResponseReturnValue:
    found = backend().analytics.conversation_details(query.parse_conversation_query(json_body()))
    return jsonify(_details(found, "conversations", lambda detail: detail.to_api(attributes=False)))


@bp.post("/conversations/aggregates/query")
def conversations_aggregates_query() -> ResponseReturnValue:
    groups = backend().analytics.conversation_aggregates(query.parse_aggregate_query(json_body()))
    return jsonify(results=[group.to_api() for group in groups])


@bp.post("/users/aggregates/query")
def users_aggregates_query() -> ResponseReturnValue:
    groups = backend().analytics.user_aggregates(query.parse_aggregate_query(json_body()))
    return jsonify(results=[group.to_api() for group in groups], systemToOrganizationMappings=SYSTEM_TO_ORGANIZATION)


@bp.post("/queues/observations/query")
def queues_observations_query() -> ResponseReturnValue:
    found = backend().analytics.queue_observations(query.parse_observation_query(json_body()))
    return jsonify(results=[o.to_api() for o in found], systemToOrganizationMappings=SYSTEM_TO_ORGANIZATION)


def _details(found: Details, key: str, render: Callable[[Any], dict[str, object]]) -> dict[str, object]:
    """A details answer: the page (left out when empty, as the platform does), totalHits, the roll-ups."""
    body: dict[str, object] = {}
    if found.items:
        body[key] = [render(item) for item in found.items]
    if found.aggregations:
        body["aggregations"] = [aggregation.to_api() for aggregation in found.aggregations]
    body["totalHits"] = found.total
    return body


# -- async details jobs ------------------------------------------------------------------------

JOB_PARSERS = {"conversations": query.parse_conversation_job, "users": query.parse_user_details_job}


def submit_job(kind: str) -> ResponseReturnValue:
    details, limit = JOB_PARSERS[kind](json_body())
    return jsonify(jobId=backend().analytics.submit_job(kind, details, limit)), 202


def jobs_availability(kind: str) -> ResponseReturnValue:
    return jsonify(dataAvailabilityDate=iso(backend().clock.now()))


def job_status(kind: str, job_id: str) -> ResponseReturnValue:
    return jsonify(backend().analytics.job_status(kind, job_id))


def delete_job(kind: str, job_id: str) -> ResponseReturnValue:
    backend().analytics.delete_job(kind, job_id)
    return "", 204


def job_results(kind: str, job_id: str) -> ResponseReturnValue:
    cursor, size = query.parse_job_page(request.args)
    page = backend().analytics.job_results(kind, job_id, cursor, size)
    key = "conversations" if kind == "conversations" else "userDetails"
    items = [item.to_api(attributes=True) if kind == "conversations" else item.to_api() for item in page.items]
    body: dict[str, object] = {key: items}
    if page.cursor is not None:
        body["cursor"] = page.cursor
    body["dataAvailabilityDate"] = iso(page.available)
    return jsonify(body)


# Both kinds of job have the same five routes (one rule each, as the contract's table lists them); the
# job's path parameter is named apart per kind (JOB_PARAMS), so a test can give each kind its own job.
def _by_job(view: Callable[..., ResponseReturnValue], param: str) -> Callable[..., ResponseReturnValue]:
    def routed(kind: str, **path: str) -> ResponseReturnValue:
        return view(kind, path[param])

    return routed


for _kind, _param in query.JOB_PARAMS.items():
    _jobs, _job = f"/{_kind}/details/jobs", f"/{_kind}/details/jobs/<{_param}>"
    for _rule, _view, _method in (
        (_jobs, submit_job, "POST"),
        (_jobs + "/availability", jobs_availability, "GET"),
        (_job, _by_job(job_status, _param), "GET"),
        (_job, _by_job(delete_job, _param), "DELETE"),
        (_job + "/results", _by_job(job_results, _param), "GET"),
    ):
        _name = f"{_method.lower()}_{_rule.count('/')}_{_rule.rsplit('/', 1)[-1].strip('<>')}_{_kind}"
        bp.add_url_rule(_rule, _name, _view, methods=[_method], defaults={"kind": _kind})
