"""Webhook signatures as the Standard Webhooks spec defines them: HMAC-SHA256, a timestamp, time injected.

The sender signs `{webhook-id}.{webhook-timestamp}.{body}` with the registration's secret and sends
three headers: `webhook-id` (the delivery's id, the same on every retry), `webhook-timestamp` (integer
seconds since the epoch) and `webhook-signature` (`v1,<base64 HMAC>`, several separated by spaces
while a secret rotates). A secret is `whsec_` + base64 of 24 to 64 random bytes. The receiver
recomputes the HMAC over the raw body it got, before parsing it, and refuses a timestamp more than
the tolerance away from its own clock, so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Mapping

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
DEFAULT_TOLERANCE_SECONDS = 300.0  # the spec's five minutes
MAX_SIGNATURES = 8  # a header listing more is not a rotation, it is someone guessing
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "webhook-id", "webhook-timestamp", "webhook-signature"


class SignatureMissing(Exception):
    """The delivery carries no (complete) signature."""


class SignatureInvalid(Exception):
    """The delivery is signed, but not with this secret, or not recently enough."""


def new_secret() -> str:
    """A fresh secret from `secrets`, in the spec's `whsec_` form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_...` secret stands for; ValueError when it is not one."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret is {SECRET_PREFIX!r} followed by base64")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"a webhook secret is {SECRET_PREFIX!r} followed by base64") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(f"a webhook secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {len(key)}")
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(secret: str, message_id: str, at: float, body: bytes) -> dict[str, str]:
    """The three headers of one delivery of `body`, signed at time `at`."""
    timestamp = math.floor(at)
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret_key(secret), message_id, timestamp, body),
    }


class Verifier:
    """Checks deliveries against one secret, with the receiver's injected clock."""

    def __init__(
        self, secret: str, clock: Callable[[], float], *, tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS
    ) -> None:
        self._key = secret_key(secret)
        self.clock = clock
        self.tolerance_seconds = tolerance_seconds

    def verify(self, body: bytes, headers: Mapping[str, str]) -> str:
        """The verified delivery id; SignatureMissing or SignatureInvalid otherwise."""
        lowered = {name.lower(): value for name, value in headers.items()}
        message_id = lowered.get(ID_HEADER, "")
        stamp = lowered.get(TIMESTAMP_HEADER, "")
        signatures = lowered.get(SIGNATURE_HEADER, "")
        if not (message_id and stamp and signatures):
            raise SignatureMissing(
                f"unsigned delivery: {ID_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required"
            )
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise SignatureInvalid(f"{TIMESTAMP_HEADER} must be whole seconds since the epoch")
        timestamp = int(stamp)
        skew = self.clock() - timestamp
        if abs(skew) > self.tolerance_seconds:
            raise SignatureInvalid(
                f"stale delivery: signed {abs(skew):.0f} s {'ago' if skew > 0 else 'in the future'}, "
                f"outside the {self.tolerance_seconds:g} s tolerance"
            )
        expected = signature(self._key, message_id, timestamp, body)
        offered = signatures.split(" ")
        if len(offered) > MAX_SIGNATURES:
            raise SignatureInvalid(f"at most {MAX_SIGNATURES} signatures")
        # compare_digest on every candidate: how far a guess matched must not show in the timing.
        if not any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in offered):
            raise SignatureInvalid("no signature matches this webhook's secret")
        return message_id
