"""The contract: the route table, the Flask app and the OpenAPI document agree, and bodies are validated from it."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from click.testing import CliRunner
from flask.testing import FlaskClient

from mockgc.cli import main
from mockgc.platform.api import BY_RULE, DOCS_PATH, ROUTES
from mockgc.platform.api.openapi import document
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import Settings

_APP = create_app(Settings(admin_key="probe", client_secret="probe"))


def _declared(methods: set[str]) -> set[str]:
    """The methods a rule was declared with: Flask adds OPTIONS always, and HEAD to every GET."""
    declared = methods - {"OPTIONS"}
    return declared - {"HEAD"} if "GET" in declared else declared


SERVED = sorted(
    (method, rule.rule)
    for rule in _APP.url_map.iter_rules()
    if rule.endpoint != "static"
    for method in _declared(set(rule.methods or ()))
)


def _flask_rule(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", r"<\1>", path)


def test_every_served_route_has_a_row_and_every_row_is_served() -> None:
    table = sorted(BY_RULE)
    missing = [key for key in SERVED if key not in BY_RULE]
    assert missing == [], (
        f"give these routes their models and a row in an area's ROUTES (mockgc/platform/api): {missing}"
    )
    stale = [key for key in table if key not in SERVED]
    assert stale == [], f"rows without a route: {stale}"
    assert len(ROUTES) == len(BY_RULE), "a (method, path) is in the table twice"


def test_the_document_has_exactly_the_served_routes() -> None:
    doc = document()
    documented = sorted((method.upper(), _flask_rule(path)) for path, ops in doc["paths"].items() for method in ops)
    assert documented == SERVED


def test_the_document_is_valid_openapi_and_tags_every_operation_real_or_mock_only() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    loaded = [result.ok() for result in schemathesis.openapi.from_dict(doc).get_all_operations()]
    assert len(loaded) == len(SERVED)  # every operation parses (each result.ok() raised otherwise)
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    assert all(op["x-mockgc-origin"] in ("real", "mock-only") for op in operations)
    assert all(op["x-mockgc-origin"] in op["tags"] for op in operations)
    assert len({op["operationId"] for op in operations}) == len(operations)
    origins = {op["operationId"]: op["x-mockgc-origin"] for op in operations}
    assert origins["putScriptsSessionVariable"] == "mock-only" and origins["getUserRoutingstatus"] == "real"


def test_the_mock_serves_its_document_without_a_token(client: FlaskClient) -> None:
    response = client.get(DOCS_PATH)
    assert response.status_code == 200
    assert response.json == json.loads(json.dumps(document()))


def test_mockgc_openapi_writes_the_served_document(tmp_path: pytest.TempPathFactory) -> None:
    target = tmp_path / "openapi.json"  # type: ignore[operator]
    result = CliRunner().invoke(main, ["openapi", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text()) == json.loads(json.dumps(document()))
    printed = CliRunner().invoke(main, ["openapi"])
    assert json.loads(printed.output)["openapi"].startswith("3.")


def test_mockgc_openapi_into_a_missing_folder_is_one_line(tmp_path: pytest.TempPathFactory) -> None:
    result = CliRunner().invoke(main, ["openapi", "-o", str(tmp_path / "no" / "such.json")])  # type: ignore[operator]
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "cannot write" in result.output


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v2/users/{user}/routingstatus", {"status": "ASLEEP"}, "status"),
        ("/api/v2/scripts/sessions", {"userId": 5, "conversationId": "c"}, "userId"),
        ("/api/v2/conversations/calls", {"callUserId": "u", "phoneNumber": ["+1"]}, "phoneNumber"),
    ],
)
def test_a_body_that_misses_its_model_is_the_platforms_400_naming_the_field(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str], path: str, body: dict[str, object], field: str
) -> None:
    method = "PUT" if path.endswith("routingstatus") else "POST"
    response = client.open(path.format(user=org["user"]), method=method, json=body, headers=auth)
    assert response.status_code == 400, response.json
    assert response.json["code"] == "invalid.value"
    assert response.json["details"] == [{"fieldName": field}]
    assert response.json["contextId"] == response.headers["ININ-Correlation-Id"]
