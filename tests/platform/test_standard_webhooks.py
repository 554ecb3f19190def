"""Standard Webhooks signatures: the spec's published vector, and every way a delivery is refused (virtual clock)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from mockgc.clock import VirtualClock
from mockgc.platform.domain.standard_webhooks import (
    SignatureInvalid,
    SignatureMissing,
    Verifier,
    new_secret,
    secret_key,
    sign,
    signature,
)

# The spec's own example (its reference libraries test against it).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specs_published_example() -> None:
    assert signature(secret_key(SPEC_SECRET), SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP + 0.9, SPEC_BODY) == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),  # whole seconds, as the spec says
        "webhook-signature": SPEC_SIGNATURE,
    }
    clock = VirtualClock(SPEC_TIMESTAMP + 299)
    assert Verifier(SPEC_SECRET, clock.now).verify(SPEC_BODY, sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY))


def test_fresh_secrets_are_random_and_the_reference_library_agrees() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and len(secret_key(first)) == 32
    headers = sign(first, "msg_1", 1_795_000_000, b'{"a":1}')
    reference = Webhook(first).sign("msg_1", datetime.fromtimestamp(1_795_000_000, UTC), '{"a":1}')
    assert headers["webhook-signature"] == reference


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(1_795_000_000.0)


def signed(clock: VirtualClock, body: bytes = b'{"a":1}', secret: str = SPEC_SECRET) -> dict[str, str]:
    return sign(secret, "msg_1", clock.now(), body)


def test_a_signed_delivery_passes_within_the_tolerance_either_way(clock: VirtualClock) -> None:
    verifier = Verifier(SPEC_SECRET, clock.now)
    headers = signed(clock)
    clock.advance(300)  # five minutes late: still inside
    assert verifier.verify(b'{"a":1}', headers) == "msg_1"
    early = Verifier(SPEC_SECRET, lambda: clock.now() - 600)  # the receiver's clock five minutes behind
    assert early.verify(b'{"a":1}', headers) == "msg_1"
    # Header names are case-insensitive, as HTTP's are.
    assert verifier.verify(b'{"a":1}', {k.title(): v for k, v in headers.items()}) == "msg_1"


def test_a_stale_or_future_delivery_is_refused(clock: VirtualClock) -> None:
    verifier = Verifier(SPEC_SECRET, clock.now)
    headers = signed(clock)
    clock.advance(301)
    with pytest.raises(SignatureInvalid, match="stale delivery: signed 301 s ago"):
        verifier.verify(b'{"a":1}', headers)
    future = sign(SPEC_SECRET, "msg_2", clock.now() + 301, b"{}")
    with pytest.raises(SignatureInvalid, match="in the future"):
        verifier.verify(b"{}", future)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_an_unsigned_delivery_is_refused(clock: VirtualClock, missing: str) -> None:
    headers = signed(clock)
    del headers[missing]
    with pytest.raises(SignatureMissing):
        Verifier(SPEC_SECRET, clock.now).verify(b'{"a":1}', headers)


def test_a_badly_signed_delivery_is_refused(clock: VirtualClock) -> None:
    verifier = Verifier(SPEC_SECRET, clock.now)
    headers = signed(clock)
    with pytest.raises(SignatureInvalid):
        verifier.verify(b'{"a":2}', headers)  # the body changed
    with pytest.raises(SignatureInvalid):
        verifier.verify(b'{"a":1}', {**headers, "webhook-id": "msg_2"})  # the id changed
    with pytest.raises(SignatureInvalid):
        verifier.verify(b'{"a":1}', signed(clock, secret=new_secret()))  # another secret
    with pytest.raises(SignatureInvalid):
        verifier.verify(b'{"a":1}', {**headers, "webhook-timestamp": "12e3"})
    with pytest.raises(SignatureInvalid):
        verifier.verify(b'{"a":1}', {**headers, "webhook-signature": "v1,bm90IGl0"})
    with pytest.raises(SignatureInvalid, match="at most"):
        verifier.verify(b'{"a":1}', {**headers, "webhook-signature": " ".join(["v1,x"] * 50)})


def test_a_rotation_lists_several_signatures_and_one_match_is_enough(clock: VirtualClock) -> None:
    old, new = new_secret(), SPEC_SECRET
    headers = signed(clock, secret=new)
    previous = sign(old, "msg_1", clock.now(), b'{"a":1}')["webhook-signature"]
    rotating = {**headers, "webhook-signature": f"v2,abc {previous} {headers['webhook-signature']}"}
    assert Verifier(new, clock.now).verify(b'{"a":1}', rotating) == "msg_1"
    assert Verifier(old, clock.now).verify(b'{"a":1}', rotating) == "msg_1"


@pytest.mark.parametrize(
    "secret",
    ["", "s3cret", "whsec_", "whsec_%%%", "whsec_" + base64.b64encode(b"x" * 23).decode(), "whsec_" + "A" * 100],
)
def test_a_secret_must_be_whsec_and_24_to_64_bytes(secret: str) -> None:
    with pytest.raises(ValueError):
        secret_key(secret)
