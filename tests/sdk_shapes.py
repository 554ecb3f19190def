"""Checks that an answer is exactly a model of the official SDK: every field one of the model's,
each of the model's type, and a round trip through the SDK's deserializer losing nothing."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2 import models

OUTDATED = "outdated_sdk_version"  # what the SDK turns an enum value it does not know into
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_LIST, _DICT = re.compile(r"^list\[(.*)\]$"), re.compile(r"^dict\(([^,]*), (.*)\)$")
_PRIMITIVES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}


def problems(data: Any, klass: str, path: str = "$") -> list[str]:
    """What in `data` is not `klass` as the SDK declares it (empty when it conforms)."""
    if data is None:
        return []
    if match := _LIST.match(klass):
        if not isinstance(data, list):
            return [f"{path}: {type(data).__name__} where the SDK has a list"]
        return [p for i, item in enumerate(data) for p in problems(item, match.group(1), f"{path}[{i}]")]
    if match := _DICT.match(klass):
        if not isinstance(data, dict):
            return [f"{path}: {type(data).__name__} where the SDK has a map"]
        return [p for key, item in data.items() for p in problems(item, match.group(2), f"{path}.{key}")]
    if klass == "object":
        return []
    if klass in ("datetime", "date"):
        ok = isinstance(data, str) and bool(ISO.match(data) if klass == "datetime" else data)
        return [] if ok else [f"{path}: {data!r} is not a {klass}"]
    if klass in _PRIMITIVES:
        wanted = _PRIMITIVES[klass]
        ok = isinstance(data, wanted) and (klass == "bool" or not isinstance(data, bool))
        return [] if ok else [f"{path}: {data!r} is not a {klass}"]
    model = getattr(models, klass)()
    if not isinstance(data, dict):
        return [f"{path}: {type(data).__name__} where the SDK has {klass}"]
    by_wire = {wire: attr for attr, wire in model.attribute_map.items()}
    found = []
    for key, value in data.items():
        if key not in by_wire:
            found.append(f"{path}.{key}: not a field of {klass}")
        else:
            found += problems(value, model.swagger_types[by_wire[key]], f"{path}.{key}")
    return found


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str) and ISO.match(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def assert_model(data: Any, klass: str) -> Any:
    """`data` (parsed JSON) is exactly the SDK's `klass`; answers the deserialized model."""
    found = problems(data, klass)
    assert not found, found
    api = gc.ApiClient()
    model = api._ApiClient__deserialize(data, klass)  # the SDK's own deserializer, as call_api runs it
    dumped = json.dumps(api.sanitize_for_serialization(model), default=str)
    assert OUTDATED not in dumped, f"an enum value the SDK does not know: {dumped}"
    assert _normal(api.sanitize_for_serialization(model)) == _normal(data), "the round trip lost something"
    return model


def raw(api: Any) -> Any:
    """The JSON of the SDK client's last answer, as the mock sent it."""
    return json.loads(api.last_response.data)
