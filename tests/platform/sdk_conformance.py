"""Is an answer of the mock one the official SDK's model describes? A helper any route's test can call.

`sdk_problems(body, "UserPresence")` lists every deviation; `assert_sdk_conforms` fails on any:

- each field the mock sends is an attribute of the SDK's model (recursively, through `swagger_types`
  and `attribute_map`, into lists, maps and nested models);
- each field the model marks required is present. The Python SDK's classes do not say which are:
  its generated docs (`build/docs/<Model>.md` in MyPureCloud/platform-client-sdk-python) mark every
  property but the required ones `[optional]`. REQUIRED is read from there, for the models the
  mock's answers use (a model not listed there has no required property; add one when a new
  answer uses a model with some);
- the SDK deserializes it without loss: `ApiClient`'s own deserializer builds the model, its
  serializer writes it back, and the two JSON documents are equal (timestamps compared as instants,
  so `…00.000Z` and `…00+00:00` are one value). An enum value the SDK does not know comes back as
  "outdated_sdk_version", and that is a loss too.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import PureCloudPlatformClientV2 as sdk
from PureCloudPlatformClientV2.api_client import ApiClient

REQUIRED: dict[str, frozenset[str]] = {
    # Read from the SDK's build/docs/<Model>.md: the properties without "[optional]".
    "User": frozenset({"version"}),
    "Conversation": frozenset({"startTime", "participants"}),
    "BusinessUnitSettingsResponse": frozenset({"startDayOfWeek", "timeZone", "metadata"}),
    "WfmVersionedEntityMetadata": frozenset({"version"}),
    "Group": frozenset({"name", "type", "rulesVisible", "visibility"}),
    "RoutingSkill": frozenset({"name"}),
    "OrganizationPresence": frozenset({"languageLabels"}),
    "OrganizationPresenceDefinition": frozenset({"languageLabels"}),
}
PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
    "date": (str,),
    "object": (object,),
}
_LIST = re.compile(r"^list\[(.*)\]$")
_DICT = re.compile(r"^dict\(([^,]*), (.*)\)$")


def sdk_problems(body: Any, sdk_type: str, where: str = "$") -> list[str]:
    """Every way `body` (parsed JSON) departs from the SDK type (`Model`, `list[Model]`, `dict(str, X)`)."""
    if body is None:
        return []
    listed = _LIST.match(sdk_type)
    if listed:
        if not isinstance(body, list):
            return [f"{where}: a {type(body).__name__}, the SDK expects a list"]
        return [p for i, item in enumerate(body) for p in sdk_problems(item, listed.group(1), f"{where}[{i}]")]
    mapped = _DICT.match(sdk_type)
    if mapped:
        if not isinstance(body, dict):
            return [f"{where}: a {type(body).__name__}, the SDK expects an object"]
        return [p for k, v in body.items() for p in sdk_problems(v, mapped.group(2), f"{where}.{k}")]
    if sdk_type in PRIMITIVES:
        wanted = PRIMITIVES[sdk_type]
        ok = isinstance(body, wanted) and not (isinstance(body, bool) and bool not in wanted)
        problems = [] if ok else [f"{where}: {body!r} is not the SDK's {sdk_type}"]
        if ok and sdk_type in ("datetime", "date") and _instant(body) is None:
            problems.append(f"{where}: {body!r} is not an ISO-8601 {sdk_type}")
        return problems
    model = getattr(sdk, sdk_type, None)
    if model is None:
        return [f"{where}: the SDK has no model {sdk_type}"]
    if not isinstance(body, dict):
        return [f"{where}: a {type(body).__name__}, the SDK's {sdk_type} is an object"]
    instance = model()
    by_json = {json_name: attr for attr, json_name in instance.attribute_map.items()}
    problems = [f"{where}.{key}: not an attribute of the SDK's {sdk_type}" for key in body if key not in by_json]
    problems += [
        f"{where}.{key}: required by the SDK's {sdk_type}, missing"
        for key in sorted(REQUIRED.get(sdk_type, ()))
        if body.get(key) is None
    ]
    for key, value in body.items():
        if key in by_json:
            problems += sdk_problems(value, instance.swagger_types[by_json[key]], f"{where}.{key}")
    return problems


def round_trip(body: Any, sdk_type: str) -> Any:
    """The body as the SDK reads it and writes it back (its ApiClient's deserializer and serializer)."""
    client = ApiClient(host="http://127.0.0.1")
    value = client._ApiClient__deserialize(body, sdk_type)  # what ApiClient.deserialize does after json.loads
    return client.sanitize_for_serialization(value)


def _instant(value: Any) -> datetime | date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None


def _same(sent: Any, back: Any) -> bool:
    if isinstance(sent, dict) and isinstance(back, dict):
        return sent.keys() == back.keys() and all(_same(sent[k], back[k]) for k in sent)
    if isinstance(sent, list) and isinstance(back, list):
        return len(sent) == len(back) and all(_same(a, b) for a, b in zip(sent, back, strict=True))
    if sent == back and type(sent) is type(back):
        return True
    instant = _instant(sent)
    return instant is not None and instant == _instant(back)


def _without_nulls(value: Any) -> Any:
    """The SDK writes no null fields back, so a null the mock sent is not a loss."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def assert_sdk_conforms(body: Any, sdk_type: str) -> None:
    problems = sdk_problems(body, sdk_type)
    assert problems == [], f"the answer departs from the SDK's {sdk_type}:\n" + "\n".join(problems)
    back = round_trip(body, sdk_type)
    assert _same(_without_nulls(body), back), (
        f"the SDK's {sdk_type} does not read the answer back as sent:\n{body}\n{back}"
    )
