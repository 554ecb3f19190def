"""Checks of the wire's values that every area's parsers share; each failure is the platform's 400."""

from __future__ import annotations

from typing import Any

from mockgc.platform.api.base import MAX_VARIABLE_NAME, MAX_VARIABLE_VALUE
from mockgc.platform.domain.errors import InvalidValue

__all__ = ["MAX_VARIABLE_NAME", "MAX_VARIABLE_VALUE", "is_int", "require_str", "string_map"]


def require_str(value: Any, field: str, *, max_length: int = 1024, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"{field} must be a string", details=[{"fieldName": field}])
    if not allow_empty and not value:
        raise InvalidValue(f"{field} must not be empty", details=[{"fieldName": field}])
    if len(value) > max_length:
        raise InvalidValue(f"{field} is longer than {max_length} characters", details=[{"fieldName": field}])
    return value


def string_map(value: Any, field: str) -> dict[str, str]:
    """An object of variable names to string values, within the script engine's bounds."""
    if not isinstance(value, dict):
        raise InvalidValue(f"{field} must be an object of strings", details=[{"fieldName": field}])
    for key, item in value.items():
        require_str(key, f"{field} key", max_length=MAX_VARIABLE_NAME)
        require_str(item, f"{field}.{key}", max_length=MAX_VARIABLE_VALUE, allow_empty=True)
    return value


def is_int(value: Any) -> bool:
    """A JSON integer (true and false are not)."""
    return isinstance(value, int) and not isinstance(value, bool)
