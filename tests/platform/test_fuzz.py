"""Schemathesis fuzzes the mock from its own OpenAPI document, in process over WSGI.

Every operation, valid and invalid data, with a token and without: no 5xx, no hang, every refusal
in the platform's error body, every answer as the document says. `make test` runs a bounded number
of examples per operation; `make fuzz` sets MOCKGC_FUZZ_EXAMPLES higher and prints the figures.
"""

from __future__ import annotations

import copy
import os
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from mockgc.platform.api import ROUTES
from mockgc.platform.api.openapi import document
from mockgc.platform.domain.errors import PlatformError
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import Settings
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET, AutoClock, basic
from tests.platform.test_http_bad_bodies import build_world

EXAMPLES = int(os.environ.get("MOCKGC_FUZZ_EXAMPLES", "6"))
SLOW_SECONDS = 10.0  # an answer slower than this is a hang (the clock is virtual: nothing here waits)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
ORIGIN = {route.name: route for route in ROUTES}
SCHEMA = schemathesis.openapi.from_dict(document())
# The platform ignores query parameters it does not know (as the real one does): not a schema violation here.
SCHEMA.config.generation.update(allow_extra_parameters=False)
# A negative case may make the body or the request target longer than the platform's limits (a long
# list, a long name): refused with 413 or 414, a rejection like any 4xx (schemathesis lists neither).
SCHEMA.config.checks.negative_data_rejection.expected_statuses.extend(["413", "414"])
OPERATIONS = {op.ok().definition.raw["operationId"]: op.ok() for op in SCHEMA.get_all_operations()}
FIGURES: Counter[str] = Counter()


class Fuzzed:
    """The app under fuzz and the credentials each case is sent with."""

    def __init__(self) -> None:
        settings_ = Settings(
            seed=7,
            agents=20,
            profile="fast",
            admin_key=ADMIN_KEY,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            rate_limit_per_minute=0,  # a fuzzer's burst is not what is under test
        )
        self.app: Flask = create_app(settings_, clock=AutoClock())
        self.token = ""
        self.renew_token()
        # Real ids for path parameters (a call, a session, a schedule with an operation, a channel...),
        # so that cases reach the success answers and not only "not found".
        _, world = build_world(self.app)
        self.ids = {**world, "name": world["toxic"]}

    def renew_token(self) -> None:
        client = self.app.test_client()
        reply = client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic()}
        )
        self.token = reply.json["access_token"]

    def credentials(self, auth: str) -> dict[str, str]:
        return {
            "bearer": {"Authorization": f"Bearer {self.token}"},
            "admin": {"Authorization": f"Bearer {ADMIN_KEY}"},
            "basic": {"Authorization": basic()},
        }.get(auth, {})

    def tidy(self) -> None:
        """Undo what a case may have done to the fuzzer's own footing: an injected outage, a revoked token."""
        platform = self.app.extensions["mockgc"].platform
        for name in list(platform.faults.toxics):
            platform.faults.remove_toxic(name)
        # A fuzzed DELETE of the world's user: bring it back, so later operations still reach a real one.
        deleted = platform.users.deleted.pop(self.ids["user_id"], None)
        if deleted is not None:
            deleted.state = "active"
            platform.users.agents[deleted.id] = deleted
        try:
            platform.auth.oauth.authenticate(self.token, platform.clock.now())
        except PlatformError:
            self.renew_token()


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Fuzzed]:
    target = Fuzzed()
    yield target
    runtime = target.app.extensions.get("mockgc.events")
    if runtime is not None:
        runtime.stop()
    if os.environ.get("MOCKGC_FUZZ_EXAMPLES"):
        server_errors = sum(v for k, v in FIGURES.items() if k.endswith("5xx"))
        print(
            f"\nfuzz figures: {len(OPERATIONS)} operations, {EXAMPLES} examples each; "
            + ", ".join(f"{key} {value}" for key, value in sorted(FIGURES.items()))
            + f"; 5xx {server_errors}"
        )


def _send(fuzzed: Fuzzed, case: schemathesis.Case, headers: dict[str, str], label: str) -> None:
    # A form's values are strings on the wire whatever was generated, so "invalid" form data is not.
    checks = CHECKS if ORIGIN[case.operation.definition.raw["operationId"]].payload != "form" else CHECKS[:-1]
    started = time.monotonic()
    response = case.call_and_validate(app=fuzzed.app, headers=headers, checks=checks)
    elapsed = time.monotonic() - started
    assert elapsed < SLOW_SECONDS, f"{case.method} {case.formatted_path} took {elapsed:.1f} s"
    FIGURES["cases"] += 1
    FIGURES[f"{label} {response.status_code // 100}xx"] += 1
    if response.status_code >= 400 and case.path != "/oauth/token" and case.method != "HEAD":
        body = response.json()
        assert {"message", "code", "status", "contextId", "details", "errors"} <= set(body), body
        assert body["status"] == response.status_code


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_fuzz_operation(fuzzed: Fuzzed, operation_id: str) -> None:
    operation = OPERATIONS[operation_id]
    route = ORIGIN[operation_id]
    # Path parameters the world has a real id for (a new route's new kind of id: add it to build_world).
    known = {name: fuzzed.ids[name] for name in route.path_params if name in fuzzed.ids}
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        *([operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known)] if known else []),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("MOCKGC_FUZZ_EXAMPLES"),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: schemathesis.Case) -> None:
        try:
            _send(fuzzed, case, fuzzed.credentials(route.auth), "authenticated")
            if route.auth in ("bearer", "admin"):
                _send(fuzzed, case, {}, "unauthenticated")
        finally:
            fuzzed.tidy()

    fuzz()


def test_every_operation_is_fuzzed() -> None:
    assert sorted(OPERATIONS) == sorted(ORIGIN)


def test_the_fuzzers_schema_check_catches_a_field_the_document_lacks(fuzzed: Fuzzed) -> None:
    """The check can fail: with `email` taken out of the document's User, a real answer breaks it."""
    doc = copy.deepcopy(document())
    user = doc["components"]["schemas"]["User"]
    del user["properties"]["email"]
    assert "email" not in user.get("required", [])  # the SDK does not require it, nor does the document
    [operation] = [
        result.ok()
        for result in schemathesis.openapi.from_dict(doc).get_all_operations()
        if result.ok().definition.raw["operationId"] == "getUsers"
    ]
    with pytest.raises(FailureGroup, match="'email' was unexpected"):
        operation.Case().call_and_validate(
            app=fuzzed.app, headers=fuzzed.credentials("bearer"), checks=[response_schema_conformance]
        )
