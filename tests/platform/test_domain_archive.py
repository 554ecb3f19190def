"""The interaction archive: idle sessions leave memory, the ground truth and every fault still see them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockgc.clock import VirtualClock
from mockgc.faults import get_profile
from mockgc.platform.domain import store as store_module
from mockgc.platform.domain.archive import InteractionArchive
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import NotFound, PlatformError
from mockgc.platform.domain.publish_lock import Waited
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import Settings
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET, basic

IDLE_S = 5


@pytest.fixture(autouse=True)
def archive_often(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look for idle interactions every 10 creations instead of 500, so small scenarios archive."""
    monkeypatch.setattr(store_module, "ARCHIVE_EVERY", 10)


def build(tmp_path: Path, profile: str, *, archived: bool) -> tuple[Platform, VirtualClock]:
    clock = VirtualClock(start=1_795_000_000.0)
    settings = Settings(seed=3, agents=20, admin_key="a", client_secret="s", archive_after_seconds=IDLE_S)
    archive = InteractionArchive(str(tmp_path)) if archived else None
    return Platform(settings.org, get_profile(profile), clock, archive), clock


def attempt(outcomes: list[Any], action: Any, *args: Any) -> Any:
    """Run one platform call; record what it answered (the body, or the error's status and code)."""
    try:
        result = action(*args)
    except PlatformError as error:
        outcomes.append((error.status, error.code))
        return None
    if isinstance(result, Waited):
        result = result.value
    body = result.to_api() if hasattr(result, "to_api") else result
    outcomes.append(json.dumps(body, sort_keys=True, default=str))
    return body


def scenario(platform: Platform, clock: VirtualClock) -> tuple[list[Any], dict[str, Any]]:
    """Interactions for 60 s (most go idle), a publish during which old and new sessions are used,
    then more interactions, reads and re-attaches after it. Returns every answer and the truth."""
    outcomes: list[Any] = []
    agents = list(platform.agents)
    made: list[tuple[str, str]] = []  # (session id, conversation id)

    def interaction(n: int) -> None:
        agent = agents[n % len(agents)]
        call = attempt(outcomes, platform.conversations.create_call, agent)
        session = attempt(outcomes, platform.scripts.create, agent, call["id"])
        made.append((session["id"], call["id"]))
        attempt(outcomes, platform.scripts.set_variable, session["id"], "pref", f"v{n}", None)

    for n in range(120):
        interaction(n)
        clock.advance(0.5)
    operation = platform.publish_schedule()
    n = 120
    while clock.now() < operation.completes_at + 1:
        old_session, old_call = made[n % 60]  # archived before the publish began
        attempt(outcomes, platform.scripts.set_variable, old_session, "pref", f"late{n}", None)
        attempt(outcomes, platform.conversations.get, made[(n + 7) % 60][1])
        attempt(outcomes, platform.conversations.patch_attributes, old_call, "nobody", {})
        interaction(n)
        n += 1
        clock.advance(0.1)
    for session_id, _ in made[:: len(made) // 25]:
        attempt(outcomes, platform.scripts.get, session_id)
        attempt(outcomes, platform.scripts.attach, session_id)
        attempt(outcomes, platform.scripts.evaluate, session_id, "pref")
    for m in range(n, n + 40):
        interaction(m)
        clock.advance(0.5)
    attempt(outcomes, platform.scripts.get, "never-was")
    return outcomes, platform.ground_truth()


@pytest.mark.parametrize("profile", ["seed-default", "seed-clobber", "seed-invalidate", "legacy-v1"])
def test_the_archive_changes_no_answer_and_no_truth(tmp_path: Path, profile: str) -> None:
    """The same requests against an org that archives and one that keeps everything in memory."""
    archiving, archiving_clock = build(tmp_path, profile, archived=True)
    keeping, keeping_clock = build(tmp_path, profile, archived=False)
    answers, truth = scenario(archiving, archiving_clock)
    expected_answers, expected_truth = scenario(keeping, keeping_clock)
    assert archiving.store.archive is not None and archiving.store.archive.archived > 100  # it did archive
    assert len(archiving.sessions) < len(truth) / 2
    assert answers == expected_answers
    assert truth == expected_truth


def test_a_clobbered_session_woken_during_the_hold_gets_back_what_it_held(tmp_path: Path) -> None:
    platform, clock = build(tmp_path, "seed-clobber", archived=True)
    agent = next(iter(platform.agents))
    call = platform.conversations.create_call(agent)
    session = platform.scripts.create(agent, call.id).id
    platform.scripts.set_variable(session, "pref", "before", None)
    clock.advance(IDLE_S + 1)
    for _ in range(10):  # creations: the idle session is archived
        platform.conversations.create_call(agent)
    assert session not in platform.sessions
    operation = platform.publish_schedule()
    clock.set(operation.batches[0][0] + 0.1)  # inside the agent's hold
    assert platform.scripts.set_variable(session, "pref", "during", None).value.value == "during"
    clock.set(operation.completes_at + 0.1)
    assert platform.ground_truth()[session]["variables"] == {"pref": "before"}  # the acknowledged write is lost


def test_an_invalidation_reaches_archived_sessions(tmp_path: Path) -> None:
    platform, clock = build(tmp_path, "seed-invalidate", archived=True)
    agent = next(iter(platform.agents))
    call = platform.conversations.create_call(agent)
    session = platform.scripts.create(agent, call.id).id
    clock.advance(IDLE_S + 1)
    for _ in range(10):
        platform.conversations.create_call(agent)
    assert session not in platform.sessions
    operation = platform.publish_schedule()
    clock.set(operation.completes_at + 0.1)
    platform.settle()
    assert session not in platform.sessions  # never woken
    assert platform.ground_truth()[session]["attached"] is False
    assert platform.scripts.get(session).value.attached is False


def test_nothing_is_archived_while_a_publish_holds_anyone(tmp_path: Path) -> None:
    platform, clock = build(tmp_path, "long-hold", archived=True)  # 6 s holds
    agent = next(iter(platform.agents))
    call = platform.conversations.create_call(agent)
    platform.scripts.create(agent, call.id)
    operation = platform.publish_schedule()
    clock.advance(IDLE_S + 1)
    assert clock.now() < operation.completes_at
    for _ in range(20):
        platform.conversations.create_call(agent)
    assert platform.store.archive is not None and platform.store.archive.archived == 0
    clock.set(operation.completes_at + 0.1)
    for _ in range(10):
        platform.conversations.create_call(agent)
    assert platform.store.archive.archived == 1


def test_memory_holds_only_the_last_idle_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """200 interactions a second for 100 virtual seconds: memory keeps about IDLE_S seconds of them."""
    monkeypatch.setattr(store_module, "ARCHIVE_EVERY", 500)
    platform, clock = build(tmp_path, "calm", archived=True)
    agents = list(platform.agents)
    for n in range(20_000):
        agent = agents[n % len(agents)]
        call = platform.conversations.create_call(agent)
        session = platform.scripts.create(agent, call.id)
        platform.scripts.set_variable(session.id, "pref", f"v{n}", None)
        clock.advance(0.005)
    window = 200 * IDLE_S + 500  # an idle window's worth, plus one batch between looks
    assert len(platform.sessions) <= window and len(platform.store.conversations) <= window
    truth = platform.ground_truth()
    assert len(truth) == 20_000
    assert sum(1 for entry in truth.values() if entry["variables"]) == 20_000


def test_the_truth_is_a_snapshot(tmp_path: Path) -> None:
    platform, clock = build(tmp_path, "calm", archived=True)
    agents = list(platform.agents)
    ids = []
    for _ in range(40):
        call = platform.conversations.create_call(agents[0])
        ids.append(platform.scripts.create(agents[0], call.id).id)
        platform.scripts.set_variable(ids[-1], "pref", "old", None)
        clock.advance(1)
    entries = platform.truth_entries()
    # After the snapshot: writes, wakes and more archiving must not show, nor be lost or doubled.
    for session_id in ids:
        platform.scripts.set_variable(session_id, "pref", "new", None)
    clock.advance(IDLE_S + 1)
    for _ in range(20):
        platform.conversations.create_call(agents[1])
    pairs = list(entries)
    assert sorted(sid for sid, _ in pairs) == sorted(ids)
    assert {entry["variables"]["pref"] for _, entry in pairs} == {"old"}


def test_unknown_ids_are_still_not_found(tmp_path: Path) -> None:
    platform, _ = build(tmp_path, "calm", archived=True)
    with pytest.raises(NotFound):
        platform.scripts.get("nope")
    with pytest.raises(NotFound):
        platform.conversations.get("nope")


# -- served ----------------------------------------------------------------------------


def test_served_truth_streams_memory_and_archive_and_reset_deletes_the_file(tmp_path: Path) -> None:
    clock = VirtualClock(start=1_795_000_000.0)
    settings = Settings(
        seed=7,
        agents=20,
        profile="fast",
        admin_key=ADMIN_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        archive_after_seconds=IDLE_S,
    )
    client: FlaskClient = create_app(settings, clock=clock).test_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic()})
    auth, admin = {"Authorization": f"Bearer {token.json['access_token']}"}, {"Authorization": f"Bearer {ADMIN_KEY}"}
    users = [u["id"] for u in client.get("/mock/info", headers=admin).json["users"]]
    written = {}
    for n in range(60):
        call = client.post("/api/v2/conversations/calls", json={"callUserId": users[n % 20]}, headers=auth).json
        session = client.post(
            "/api/v2/scripts/sessions", json={"userId": users[n % 20], "conversationId": call["id"]}, headers=auth
        ).json["id"]
        client.put(f"/api/v2/scripts/sessions/{session}/variables/pref", json={"value": f"v{n}"}, headers=auth)
        written[session] = f"v{n}"
        branch = client.post(f"/api/v2/scripts/sessions/{session}/evaluate", json={"variable": "pref"}, headers=auth)
        assert (branch.json["branch"], branch.json["value"]) == ("personalized", f"v{n}")
        clock.advance(1)
    platform = client.application.extensions["mockgc"].platform
    archive = platform.store.archive
    assert archive is not None and archive.archived > 0 and len(platform.sessions) < 60
    reply = client.get("/mock/truth", headers=admin)
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    sessions = reply.json["sessions"]
    assert {sid: entry["variables"]["pref"] for sid, entry in sessions.items()} == written
    first = next(iter(written))  # archived long ago: its evaluate log must have gone to the archive too
    assert set(sessions[first]) == {
        "userId",
        "conversationId",
        "variables",
        "version",
        "attached",
        "evaluatedPersonalized",
    }
    assert first not in platform.sessions and sessions[first]["evaluatedPersonalized"] == {"pref": [written[first]]}

    assert client.post("/mock/reset", json={}, headers=admin).status_code == 200
    assert not Path(archive.path).exists()
    assert client.get("/mock/truth", headers=admin).json == {"sessions": {}}


def test_archive_after_zero_keeps_everything_in_memory(tmp_path: Path) -> None:
    settings = replace(Settings(admin_key="a", client_secret="s"), archive_after_seconds=0)
    app = create_app(settings, clock=VirtualClock())
    assert app.extensions["mockgc"].platform.store.archive is None
    with pytest.raises(ValueError, match="archive_after_seconds"):
        Settings(archive_after_seconds=-1).validate()
