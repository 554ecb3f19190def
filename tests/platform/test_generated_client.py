"""A client generated from the mock's OpenAPI document works against the mock: openapi-python-client at its
default settings (Python), and openapi-typescript where node and the package are there (TypeScript)."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mockgc.platform.api.openapi import document
from mockgc.platform.serve.server import ServerThread
from tests.conftest import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.timeout(240)
PACKAGE = "mockgc_the_mock_genesys_cloud_platform_client"
ROOT = Path(__file__).resolve().parents[2]


def generate(tmp_path: Path) -> Path:
    """`openapi-python-client generate` on the served document, in a temporary directory, no options."""
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document()))
    tool = Path(sys.executable).with_name("openapi-python-client")
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(tool), "generate", "--path", str(spec)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The generator says "Warning(s) encountered" when it dropped a model or an answer it could not build.
    assert "Unable to process schema" not in done.stdout and "Cannot parse response" not in done.stdout, done.stdout
    [project] = [p for p in tmp_path.iterdir() if p.is_dir()]
    return project


def test_a_generated_python_client_gets_a_token_users_a_call_set_data_and_evaluate(
    tmp_path: Path, live_server: ServerThread
) -> None:
    project = generate(tmp_path)
    sys.path.insert(0, str(project))
    try:
        client_module = importlib.import_module(PACKAGE)
        api = lambda name: importlib.import_module(f"{PACKAGE}.api.{name}")  # noqa: E731
        models = importlib.import_module(f"{PACKAGE}.models")

        anonymous = client_module.Client(base_url=live_server.url, httpx_args={"auth": (CLIENT_ID, CLIENT_SECRET)})
        token = api("oauth.post_oauth_token").sync(
            client=anonymous, body=models.TokenForm(grant_type="client_credentials")
        )
        assert isinstance(token, models.Token), token
        client: Any = client_module.AuthenticatedClient(base_url=live_server.url, token=token.access_token)

        users = api("users.get_users").sync(client=client, page_size=5)
        assert isinstance(users, models.UserEntityListing) and len(users.entities) == 5
        user = users.entities[0]
        assert user.version == 1 and user.email

        call = api("conversations.post_conversations_calls").sync(
            client=client, body=models.CreateCallBody(call_user_id=user.id)
        )
        assert isinstance(call, models.CreateCallResponse), call
        conversation = api("conversations.get_conversation").sync(call.id, client=client)
        assert isinstance(conversation, models.Conversation), conversation  # dropped once: a model name clash
        assert conversation.start_time.year >= 2024  # a datetime, as the SDK reads it

        session = api("scripts.post_scripts_session").sync(
            client=client, body=models.NewSessionBody(user_id=user.id, conversation_id=call.id)
        )
        written = api("scripts.put_scripts_session_variable").sync(
            session.id, "pref", client=client, body=models.WriteBody(value="A17")
        )
        assert isinstance(written, models.Write), written
        decided = api("scripts.post_scripts_session_evaluate").sync(
            session.id, client=client, body=models.EvaluateBody(variable="pref")
        )
        assert (decided.branch, decided.value) == ("personalized", "A17")
    finally:
        sys.path.remove(str(project))
        for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
            del sys.modules[name]


def test_openapi_typescript_generates_types_without_error(tmp_path: Path) -> None:
    """Where node is present and `make openapi-typescript` installed the package (into .cache/, ignored)."""
    cli = ROOT / ".cache" / "openapi-typescript" / "node_modules" / ".bin" / "openapi-typescript"
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the TypeScript generator is not checked here")
    if not cli.exists():
        pytest.skip("openapi-typescript is not installed: run `make openapi-typescript` to check it")
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document()))
    out = tmp_path / "schema.d.ts"
    done = subprocess.run([str(cli), str(spec), "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    types = out.read_text()
    assert "postAnalyticsUsersDetailsQuery" in types and "UserEntityListing" in types
