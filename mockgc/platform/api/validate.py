"""Request bodies checked against the route table's models; a mismatch is the platform's 400."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from mockgc.platform.api import BY_RULE
from mockgc.platform.domain.errors import InvalidValue


@cache
def _adapter(method: str, rule: str) -> TypeAdapter[Any] | None:
    route = BY_RULE.get((method, rule))
    if route is None:  # a route served without its row: tests/platform/test_contract.py fails on it too
        raise LookupError(f"{method} {rule} is not in the contract's route table (mockgc/platform/api)")
    if route.body is None or route.payload == "form":
        return None
    return TypeAdapter(route.body)


def check_body(method: str, rule: str, value: Any) -> None:
    """Raise InvalidValue (400, with the field's name) unless `value` fits the route's request model."""
    adapter = _adapter(method, rule)
    if adapter is None:
        return
    try:
        adapter.validate_python(value, strict=True)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        message = f"{field}: {first['msg']}" if field else str(first["msg"])
        raise InvalidValue(message, details=[{"fieldName": field}] if field else []) from None
