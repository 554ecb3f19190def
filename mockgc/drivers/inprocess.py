"""The in-process transport: a flow's Call straight into the platform domain, answered as the HTTP layer would."""

from __future__ import annotations

from typing import Any

from mockgc.flows.effects import Reply
from mockgc.platform.api.validate import check_body
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import PlatformError
from mockgc.platform.domain.publish_lock import Waited
from mockgc.platform.http import analytics, conversations, scripts, wfm
from mockgc.platform.http.errors import error_body


def _body(params: dict[str, Any], *path: str) -> dict[str, Any]:
    """The JSON body of a call: its params without the ones the route takes from the path."""
    return {k: v for k, v in params.items() if k not in path}


SESSION = "/api/v2/scripts/sessions/<session_id>"


def _checked(method: str, rule: str, body: Any) -> Any:
    """The body, once it fits its route's request model (mockgc/platform/api), as the HTTP layer checks it."""
    check_body(method, rule, body)
    return body


class InProcessTransport:
    """Calls the domain directly, through the HTTP layer's own parsers and serializers: its replies
    (a PlatformError's included) are the ones the HTTP layer would give."""

    def __init__(self, platform: Platform) -> None:
        p = platform
        self._handlers: dict[str, Any] = {
            "create_call": lambda a: p.conversations.create_call(
                conversations.parse_call(_checked("POST", "/api/v2/conversations/calls", {"callUserId": a["userId"]}))
            ).reference_to_api(),
            "create_session": lambda a: p.scripts.create(
                *scripts.parse_new_session(_checked("POST", "/api/v2/scripts/sessions", a))
            ).to_api(),
            "set_data": lambda a: p.scripts.set_variable(
                a["sessionId"],
                *scripts.parse_write(
                    a["name"], _checked("PUT", SESSION + "/variables/<name>", _body(a, "sessionId", "name"))
                ),
            ),
            "read_session": lambda a: p.scripts.get(a["sessionId"]),
            "evaluate": lambda a: p.scripts.evaluate(
                a["sessionId"], scripts.parse_evaluate(_checked("POST", SESSION + "/evaluate", _body(a, "sessionId")))
            ),
            "attach": lambda a: p.scripts.attach(a["sessionId"]).to_api(),
            "patch_attributes": lambda a: p.conversations.patch_attributes(
                a["conversationId"],
                a["participantId"],
                conversations.parse_attributes(
                    _checked(
                        "PATCH",
                        "/api/v2/conversations/<conversation_id>/participants/<participant_id>/attributes",
                        _body(a, "conversationId", "participantId"),
                    )
                ),
            ),
            "list_operations": lambda a: wfm.operations_to_api(p.wfm.list_operations(a["businessUnitId"])),
            "script_data": lambda a: p.scripts.update_many(
                analytics.parse_script_data(
                    _checked("PUT", "/api/v2/analytics/script-data", a), p.settings.script_data_chunk_limit
                )
            ),
        }
        self._statuses = {"create_session": 201, "patch_attributes": 202}

    def register(self, op: str, handler: Any, status: int = 200) -> None:
        """Add an operation served in process (e.g. a simulated worker or store service)."""
        self._handlers[op] = handler
        self._statuses[op] = status

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        try:
            result = self._handlers[op](params)
        except PlatformError as error:
            return Reply(error.status, error_body(error, ""), retry_after=error.retry_after)
        if isinstance(result, Waited):
            return Reply(200, result.value.to_api(), ready_at=result.ready_at)
        return Reply(self._statuses.get(op, 200), result)
