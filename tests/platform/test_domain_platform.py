"""The rest of the domain: publish completion and events, OAuth tokens, rate limits, the journal."""

from __future__ import annotations

import pytest

from mockgc.clock import VirtualClock
from mockgc.faults import get_profile
from mockgc.platform.domain import oauth, ratelimit
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import (
    AuthenticationRequired,
    BadCredentials,
    InvalidClient,
    InvalidValue,
    NotFound,
    TooManyRequests,
)
from mockgc.platform.domain.oauth import OAuthClient, OAuthRegistry
from mockgc.platform.domain.ratelimit import UNLIMITED_PER_MINUTE, RateLimiter
from mockgc.platform.domain.users import PresenceChange
from mockgc.platform.domain.wfm import PublishOperation, ScheduleUpload
from mockgc.platform.http.errors import error_headers
from mockgc.platform.http.holder import PlatformHolder
from mockgc.platform.http.journal import Journal
from mockgc.platform.settings import OrgSettings, Settings
from tests.conftest import CLIENT_ID, CLIENT_SECRET

# -- publish operations ----------------------------------------------------------


def upload_and_update(platform: Platform, bu: str, week: str, published: bool = True) -> PublishOperation:
    schedule = platform.wfm.create_schedule(bu, week, "week 48", 1)
    slot = platform.wfm.create_upload(bu, week, schedule.id, 64)
    platform.wfm.receive_upload(slot.key, ScheduleUpload(published, 1))
    return platform.wfm.process_update(bu, week, schedule.id, slot.key)


def test_publish_completes_bumps_the_version_and_announces_it(platform: Platform, clock: VirtualClock) -> None:
    bu = next(iter(platform.business_units))
    started = upload_and_update(platform, bu, "2026-11-23")
    op_id = started.id
    assert started.status == "Processing"
    op = platform.operations[op_id]
    schedule_id = op.schedule_id
    topic = f"v2.workforcemanagement.businessunits.{bu}.schedules"

    clock.set(op.completes_at - 0.001)
    assert platform.wfm.get_operation(op_id).operation.status == "Processing"
    assert [e for e in platform.events.log if e.topic == topic] == []

    clock.set(op.completes_at)
    done = platform.wfm.get_operation(op_id, bu).to_api()
    assert done["status"] == "Complete"
    assert done["result"]["published"] is True
    assert done["result"]["metadata"]["version"] == 2
    assert platform.wfm.get_schedule(bu, "2026-11-23", schedule_id).version == 2
    [event] = [e for e in platform.events.log if e.topic == topic]
    assert event.at == op.completes_at
    assert event.body["status"] == "Complete"
    assert event.body["operationId"] == op_id
    assert event.body["eventType"] == "Update"
    assert event.body["result"]["id"] == schedule_id
    assert platform.lock_windows()[0]["status"] == "Complete"


def test_an_update_that_does_not_publish_holds_nobody(platform: Platform, clock: VirtualClock) -> None:
    bu = next(iter(platform.business_units))
    started = upload_and_update(platform, bu, "2026-11-23", published=False)
    assert platform.locks.windows() == []
    clock.advance(0.001)
    done = platform.wfm.get_operation(started.id).to_api()
    assert done["status"] == "Complete" and done["result"]["published"] is False
    assert platform.lock_windows() == []


def test_a_stale_upload_is_accepted_and_its_operation_fails(platform: Platform, clock: VirtualClock) -> None:
    bu = next(iter(platform.business_units))
    week = "2026-11-23"
    schedule = platform.wfm.create_schedule(bu, week, "", 1)
    first = platform.wfm.create_upload(bu, week, schedule.id, 1)
    platform.wfm.receive_upload(first.key, ScheduleUpload(True, 1))
    op = platform.wfm.process_update(bu, week, schedule.id, first.key)
    clock.set(platform.operations[op.id].completes_at)
    stale = platform.wfm.create_upload(bu, week, schedule.id, 1)
    platform.wfm.receive_upload(stale.key, ScheduleUpload(True, 1))
    failing = platform.wfm.process_update(bu, week, schedule.id, stale.key)
    assert (failing.status, failing.publishes, failing.batches) == ("Processing", False, [])
    assert failing.error is not None and "version 2" in failing.error
    clock.set(failing.completes_at)
    assert platform.wfm.get_operation(failing.id).operation.status == "Error"
    assert platform.wfm.get_schedule(bu, week, schedule.id).version == 2  # unchanged by the failed update
    [event] = [e for e in platform.events.log if e.body.get("operationId") == failing.id]
    assert event.body == {"status": "Error", "operationId": failing.id, "eventType": "Update"}
    assert failing.id not in {w["operationId"] for w in platform.lock_windows()}
    # An upload key is single-use: the consumed ones are gone.
    with pytest.raises(InvalidValue):
        platform.wfm.process_update(bu, week, schedule.id, stale.key)
    with pytest.raises(InvalidValue):
        platform.wfm.process_update(bu, week, schedule.id, first.key)


def test_operations_are_scoped_to_their_business_unit(platform: Platform) -> None:
    bu = next(iter(platform.business_units))
    op = platform.publish_schedule(bu)
    assert platform.wfm.get_operation(op.id, bu).operation.id == op.id
    with pytest.raises(NotFound):
        platform.wfm.get_operation(op.id, "another-bu")
    with pytest.raises(NotFound):
        platform.wfm.get_operation("no-such-operation")
    assert [o.id for o in platform.wfm.list_operations(bu)] == [op.id]


def test_manual_changes_emit_user_topics(platform: Platform) -> None:
    user = next(iter(platform.agents))
    platform.users.set_presence(user, "purecloud", PresenceChange("Meal"))
    platform.users.set_routing_status(user, "OFF_QUEUE")  # already off queue: a new start time all the same
    log = [e for e in platform.events.log if not e.topic.endswith(".activity")]  # see test_domain_people.py
    topics = [e.topic for e in log]
    # Meal takes the agent off queue (if it was on) as it changes its presence.
    on_queue_first = len(topics) == 3
    expected = [f"v2.users.{user}.presence"] + [f"v2.users.{user}.routingStatus"] * (1 + on_queue_first)
    assert topics == expected
    assert log[0].body["presenceDefinition"]["systemPresence"] == "Meal"


# -- OAuth -------------------------------------------------------------------


def test_tokens_are_issued_to_known_clients_only(platform: Platform) -> None:
    token = platform.auth.issue_token(CLIENT_ID, CLIENT_SECRET)
    assert platform.auth.authorize(token.value).client.client_id == CLIENT_ID
    # One answer for both: a stranger learns nothing about which client ids exist.
    with pytest.raises(InvalidClient) as wrong_secret:
        platform.auth.issue_token(CLIENT_ID, "wrong")
    with pytest.raises(InvalidClient) as unknown_client:
        platform.auth.issue_token("nobody", CLIENT_SECRET)
    assert (wrong_secret.value.error, wrong_secret.value.description) == (
        unknown_client.value.error,
        unknown_client.value.description,
    )
    with pytest.raises(InvalidClient):
        platform.auth.issue_token(CLIENT_ID, "sécret")  # non-ASCII must be a refusal, not a TypeError
    with pytest.raises(AuthenticationRequired):
        platform.auth.authorize(None)
    with pytest.raises(BadCredentials):
        platform.auth.authorize("not-a-token")


def test_tokens_expire_after_their_ttl(clock: VirtualClock) -> None:
    settings = OrgSettings(seed=1, agents=2, client_id="c", client_secret="s", token_ttl_seconds=60)
    platform = Platform(settings, get_profile("fast"), clock)
    token = platform.auth.issue_token("c", "s")
    assert token.expires_at == clock.now() + 60
    clock.advance(59.9)
    platform.auth.authorize(token.value)
    clock.advance(0.1)
    with pytest.raises(BadCredentials, match="expired"):
        platform.auth.authorize(token.value)
    with pytest.raises(BadCredentials, match="Invalid login credentials"):
        platform.auth.authorize(token.value)  # an expired token is forgotten


def test_registry_keeps_tokens_per_client() -> None:
    registry = OAuthRegistry(token_ttl_seconds=10)

    registry.add_client(OAuthClient("a", "sa", "A", None))
    registry.add_client(OAuthClient("b", "sb", "B", 5))
    ta, tb = registry.issue("a", "sa", 0.0), registry.issue("b", "sb", 0.0)
    assert ta.value != tb.value
    assert registry.authenticate(tb.value, 9.99)[1].rate_limit_per_minute == 5
    assert registry.authenticate(ta.value, 1.0)[1].rate_limit_per_minute is None


def test_expired_tokens_are_forgotten_as_new_ones_are_issued() -> None:
    registry = OAuthRegistry(token_ttl_seconds=60)
    registry.add_client(OAuthClient("a", "sa", "A", None))
    for second in range(100):
        registry.issue("a", "sa", float(second))
    assert registry.token_count == 60  # those issued in the last minute
    registry.issue("a", "sa", 1000.0)
    assert registry.token_count == 1


def test_a_client_holds_at_most_its_cap_of_tokens_the_oldest_revoked_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oauth, "MAX_TOKENS_PER_CLIENT", 5)
    registry = OAuthRegistry(token_ttl_seconds=3600)
    registry.add_client(OAuthClient("a", "sa", "A", None))
    registry.add_client(OAuthClient("b", "sb", "B", None))
    other = registry.issue("b", "sb", 0.0)
    tokens = [registry.issue("a", "sa", float(i)) for i in range(8)]
    assert registry.token_count == 5 + 1
    for old in tokens[:3]:
        with pytest.raises(BadCredentials):
            registry.authenticate(old.value, 10.0)
    for kept in (*tokens[3:], other):
        registry.authenticate(kept.value, 10.0)
    registry.revoke_client("a")
    assert registry.token_count == 1


def test_token_requests_are_rate_limited_per_client_and_refusals_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oauth, "TOKEN_REQUESTS_PER_MINUTE", 3)
    monkeypatch.setattr(oauth, "FAILED_TOKEN_REQUESTS_PER_MINUTE", 4)
    registry = OAuthRegistry(token_ttl_seconds=3600)
    registry.add_client(OAuthClient("a", "sa", "A", None))
    registry.add_client(OAuthClient("b", "sb", "B", None))
    for _ in range(3):
        registry.issue("a", "sa", 0.0)
    with pytest.raises(TooManyRequests):
        registry.issue("a", "sa", 1.0)
    registry.issue("b", "sb", 1.0)  # another client's allowance is its own
    for made_up in ("x", "y", "z", "a"):  # made-up ids and a wrong secret share one allowance
        with pytest.raises(InvalidClient):
            registry.issue(made_up, "guess", 2.0)
    with pytest.raises(TooManyRequests):
        registry.issue("w", "guess", 3.0)
    registry.issue("a", "sa", 61.0)  # a new minute


def test_the_rate_limiter_forgets_windows_that_ended() -> None:
    limiter = RateLimiter()
    for key in range(5000):
        limiter.hit(f"token-{key}", 300, float(key) * 0.1)  # 500 s of one request per new token
    assert len(limiter) < 2 * ratelimit.PRUNE_FLOOR
    # Forgetting an ended window changes nothing a caller sees: a fresh window starts either way.
    assert limiter.hit("token-0", 300, 1000.0).count == 1


# -- rate limits --------------------------------------------------------------


def test_rate_limiter_allows_n_per_window_then_429s_until_the_window_resets() -> None:
    limiter, t0 = RateLimiter(), 1000.0
    statuses = [limiter.hit("tok", 300, t0 + i * 0.1) for i in range(300)]
    assert [s.count for s in statuses] == list(range(1, 301))
    assert statuses[0].reset_seconds == 60 and statuses[-1].reset_seconds == 31  # 29.9 s into the window
    with pytest.raises(TooManyRequests) as caught:
        limiter.hit("tok", 300, t0 + 45.2)
    error = caught.value
    assert (error.status, error.code, error.retry_after) == (429, "too.many.requests.retry.after", 15)
    assert error.message == "Rate limit exceeded the maximum. Retry the request in [15] seconds"
    assert error_headers(error) == {"Retry-After": "15"}
    assert limiter.hit("other-token", 300, t0 + 45.2).count == 1  # per token
    with pytest.raises(TooManyRequests):
        limiter.hit("tok", 300, t0 + 59.99)
    assert limiter.hit("tok", 300, t0 + 60.0).count == 1


def test_platform_rate_limits_per_token_on_the_virtual_clock(platform: Platform, clock: VirtualClock) -> None:
    token = platform.auth.issue_token(CLIENT_ID, CLIENT_SECRET).value
    for _ in range(300):
        access = platform.auth.authorize(token)
    assert access.rate is not None and (access.rate.count, access.rate.allowed) == (300, 300)
    with pytest.raises(TooManyRequests) as caught:
        platform.auth.authorize(token)
    assert caught.value.retry_after == 60
    fresh = platform.auth.issue_token(CLIENT_ID, CLIENT_SECRET).value
    assert platform.auth.authorize(fresh).rate.count == 1
    clock.advance(60)
    assert platform.auth.authorize(token).rate.count == 1


def test_a_client_with_no_limit_is_never_throttled(platform: Platform) -> None:
    platform.auth.add_client("loader", "pw", None)
    platform.auth.add_client("tight", "pw", 2)
    unlimited, tight = platform.auth.issue_token("loader", "pw").value, platform.auth.issue_token("tight", "pw").value
    for count in range(1, 1001):
        rate = platform.auth.authorize(unlimited).rate  # counted, so its headers are real, never refused
        assert (rate.count, rate.allowed) == (count, UNLIMITED_PER_MINUTE)
    platform.auth.authorize(tight)
    platform.auth.authorize(tight)
    with pytest.raises(TooManyRequests):
        platform.auth.authorize(tight)
    with pytest.raises(InvalidValue):
        platform.auth.add_client("broken", "pw", 0)


def test_rate_limit_zero_in_settings_turns_the_default_client_off(clock: VirtualClock) -> None:
    settings = OrgSettings(seed=1, agents=2, client_id="c", client_secret="s", rate_limit_per_minute=0)
    platform = Platform(settings, get_profile("fast"), clock)
    token = platform.auth.issue_token("c", "s").value
    rates = [platform.auth.authorize(token).rate for _ in range(400)]  # past the platform's 300, never refused
    assert [r.count for r in rates] == list(range(1, 401))
    assert {r.allowed for r in rates} == {UNLIMITED_PER_MINUTE}


# -- journal ------------------------------------------------------------------


def test_journal_is_a_bounded_ring_buffer_that_counts_what_it_dropped() -> None:
    journal = Journal(capacity=3)
    for i in range(5):
        journal.record(float(i), "GET", f"/p/{i}", 200, "c", f"corr-{i}")
    assert len(journal) == 3
    assert journal.dropped == 2
    assert [e["seq"] for e in journal.since()] == [3, 4, 5]
    assert [e["path"] for e in journal.since(4)] == ["/p/4"]
    assert [e["seq"] for e in journal.since(0, limit=2)] == [3, 4]
    assert journal.since(5) == []
    entry = journal.since(4)[0]
    assert entry == {
        "seq": 5,
        "at": 4.0,
        "method": "GET",
        "path": "/p/4",
        "status": 200,
        "client_id": "c",
        "correlation_id": "corr-4",
    }


def test_the_server_journal_size_comes_from_settings(clock: VirtualClock) -> None:
    settings = Settings(seed=1, agents=2, admin_key="a", client_secret="s", journal_size=10)
    holder = PlatformHolder(settings.server, settings.org, clock)
    for i in range(25):
        holder.journal.record(clock.now(), "GET", "/x", 200, None, str(i))
    assert (len(holder.journal), holder.journal.dropped) == (10, 15)
    holder.reset()
    assert (len(holder.journal), holder.journal.dropped) == (0, 0)  # a reset starts a new journal
