"""The in-process transport: a flow's Call straight into the platform domain, answered as the HTTP layer would."""

from __future__ import annotations

from typing import Any

from mockgc.flows.effects import Reply
from mockgc.platform.domain.backend import Platform, Waited
from mockgc.platform.domain.errors import PlatformError


class InProcessTransport:
    """Calls the domain directly; a PlatformError becomes the reply the HTTP layer would give."""

    def __init__(self, platform: Platform) -> None:
        p = platform
        self._handlers: dict[str, Any] = {
            "create_call": lambda a: p.create_call({"callUserId": a["userId"]}),
            "create_session": p.create_script_session,
            "set_data": lambda a: p.set_script_variable(
                a["sessionId"], a["name"], {k: v for k, v in a.items() if k not in ("sessionId", "name")}
            ),
            "read_session": lambda a: p.get_script_session(a["sessionId"]),
            "evaluate": lambda a: p.evaluate_script_branch(a["sessionId"], {"variable": a["variable"]}),
            "attach": lambda a: p.attach_script_session(a["sessionId"]),
            "patch_attributes": lambda a: p.patch_participant_attributes(
                a["conversationId"], a["participantId"], {"attributes": a["attributes"]}
            ),
            "list_operations": lambda a: {"entities": p.list_operations(a["businessUnitId"])},
            "script_data": p.put_script_data,
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
            retry_after = getattr(error, "retry_after", None)
            return Reply(error.status, error.to_body(""), retry_after=retry_after)
        if isinstance(result, Waited):
            return Reply(200, result.body, ready_at=result.ready_at)
        return Reply(self._statuses.get(op, 200), result)
