"""The contract: the route table, the Flask app and the OpenAPI document agree, and bodies are validated from it."""

from __future__ import annotations

import importlib.machinery
import json
import re
import types
from pathlib import Path

import pytest
import schemathesis
from click.testing import CliRunner
from flask.testing import FlaskClient

from mockgc.cli import main
from mockgc.platform.api import BY_RULE, DOCS_PATH, ROUTES, sdkpaths
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


def _enums(node: object) -> list[list[object]]:
    if isinstance(node, dict):
        found = [node["enum"]] if isinstance(node.get("enum"), list) else []
        return found + [e for value in node.values() for e in _enums(value)]
    if isinstance(node, list):
        return [e for item in node for e in _enums(item)]
    return []


def test_the_document_is_what_generators_take() -> None:
    """No enum with values differing only in case; timestamps with their format; `id` lists as arrays;
    sortOrder as the SDK spells it; required only what the SDK requires (so real answers are accepted)."""
    doc = document()
    for enum in _enums(doc):
        texts = [str(value).lower() for value in enum]
        assert len(set(texts)) == len(texts), enum
    schemas = doc["components"]["schemas"]
    assert schemas["RoutingStatus"]["properties"]["startTime"]["format"] == "date-time"
    assert schemas["Participant"]["properties"]["connectedTime"]["format"] == "date-time"
    assert "required" not in schemas["Queue"] and "required" not in schemas["Participant"]
    assert schemas["User"]["required"] == ["version"]
    assert {"UserEntityListing", "CreateCallResponse", "ParticipantAttributes"} <= set(schemas)
    users = {p["name"]: p["schema"] for p in doc["paths"]["/api/v2/users"]["get"]["parameters"]}
    assert users["id"]["type"] == "array" and users["sortOrder"]["enum"] == ["ascending", "descending"]
    queues = {p["name"]: p["schema"] for p in doc["paths"]["/api/v2/routing/queues"]["get"]["parameters"]}
    assert queues["sortOrder"]["enum"] == ["asc", "desc"]


# -- what the mock does not model (README "Not modelled", docs/not-modelled.md) ------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_the_not_modelled_table_and_list_are_true() -> None:
    """Regenerated from sdk_operations.txt and the route table, the README's table and the list match."""
    readme = (ROOT / "README.md").read_text()
    assert sdkpaths.with_readme_table(readme) == readme, "stale: run scripts/sdk-operations"
    assert (ROOT / "docs" / "not-modelled.md").read_text() == sdkpaths.not_modelled_document(), (
        "stale: run scripts/sdk-operations"
    )
    listed = (ROOT / "docs" / "not-modelled.md").read_text()
    assert "`POST /api/v2/users/search`" not in listed and "`GET /api/v2/routing/wrapupcodes`" in listed


def test_every_route_the_mock_calls_real_is_one_the_sdk_calls() -> None:
    real = {(route.method, sdkpaths.template(route.path)) for route in ROUTES if route.origin == "real"}
    assert real - sdkpaths.operations() == {("POST", "/oauth/token")}  # OAuth is outside the SDK's API classes


def test_sdk_operations_is_the_installed_sdks_list() -> None:
    """When the installed SDK is the one the list was taken from, the list is exactly what it calls."""
    loader = importlib.machinery.SourceFileLoader("sdk_operations_script", str(ROOT / "scripts" / "sdk-operations"))
    script = types.ModuleType(loader.name)
    script.__file__ = loader.path
    loader.exec_module(script)
    installed = f"purecloudplatformclientv2 {script._version()}"
    if installed != sdkpaths.sdk_version():
        pytest.skip(f"{installed} installed, the list is of {sdkpaths.sdk_version()}: run scripts/sdk-operations")
    assert [f"{m} {p}" for m, p in sdkpaths.listed()] == script.sdk_operations()


@pytest.mark.parametrize(
    ("method", "path", "status", "modelled"),
    [
        ("GET", "/api/v2/routing/wrapupcodes", 404, False),  # the platform's, not the mock's
        ("GET", "/api/v2/users/{user}/greetings", 404, False),
        ("PUT", "/api/v2/users/search", 405, True),  # the platform has GET and POST there
        ("DELETE", "/api/v2/users/{user}/routingstatus", 405, True),
        ("GET", "/api/v2/no/such/path", 404, True),
        ("DELETE", "/api/v2/scripts/sessions/{session}", 405, True),  # the mock's own path, not this method
    ],
)
def test_a_path_or_method_the_mock_lacks(
    client: FlaskClient, auth: dict[str, str], org: dict[str, str], method: str, path: str, status: int, modelled: bool
) -> None:
    url = path.format(user=org["user"], session=org["session"])
    response = client.open(url, method=method, headers=auth)
    assert response.status_code == status, response.json
    assert response.json["status"] == status and response.json["contextId"]
    said = [d.get("errorCode") for d in response.json["details"]] == ["mockgc.not.modelled"]
    assert said != modelled
