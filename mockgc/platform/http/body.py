"""What every blueprint shares: the org, strict JSON bodies, and v1's delayed answers."""

from __future__ import annotations

import json
import math
import re
import zlib
from typing import Any, TypeVar

from flask import current_app, request

from mockgc.platform.api.validate import check_body
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import BadRequest, EntityTooLarge, UnsupportedMediaType
from mockgc.platform.domain.publish_lock import Waited

_MISSING = object()
T = TypeVar("T")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _no_constants(text: str) -> Any:
    raise ValueError(f"{text} is not valid JSON")


# Built once: json.loads with hooks would build a decoder on every request.
_STRICT = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constants)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(raw: bytes) -> Any:
    """Strict JSON: no NaN/Infinity (nor 1e999), no lone surrogate, and deep nesting is a bad request."""
    try:
        # Strict decoding: a surrogate encoded as bytes is not UTF-8 (json.loads would let it through).
        text = raw.decode(json.detect_encoding(raw))
        value = _STRICT.decode(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The request body is not valid JSON.") from None
    # An escaped pair becomes one character; only a lone surrogate survives parsing, and only an
    # escape can make one, so bodies without one (the hot path's) cost a substring search.
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise BadRequest(
            "The request body is not valid JSON: a string holds a lone surrogate (\\ud800-\\udfff).",
            details=[{"errorCode": "json.string.lone.surrogate"}],
        )
    return value


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def gunzip(raw: bytes, limit: int) -> bytes:
    """Exactly one gzip member, inflated to at most `limit` bytes and checked to its trailer.

    Streaming with a cap, so a small bomb costs at most `limit` bytes; zlib checks the
    trailer's CRC-32 and length (ISIZE) once it reaches it, and `eof` says it did.
    """
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # a gzip wrapper, nothing else
    try:
        inflated = inflater.decompress(raw, limit)
    except zlib.error:
        raise BadRequest("The upload is not valid gzip.") from None
    if inflater.unconsumed_tail or (len(inflated) == limit and not inflater.eof):
        raise EntityTooLarge(f"The upload inflates past {limit} bytes.")
    if not inflater.eof:
        raise BadRequest("The gzip upload is truncated: its trailer (CRC-32 and length) is missing.")
    if inflater.unused_data:
        raise BadRequest("The upload must be a single gzip member with nothing after it.")
    return inflated


def backend() -> Platform:
    return current_app.extensions["mockgc"].platform


def json_body(default: Any = _MISSING) -> Any:
    """The request's JSON, checked against its route's request model (mockgc/platform/api); an empty
    body gives `default` when one is allowed."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    raw = req.get_data(cache=True)
    if not raw:
        if default is not _MISSING:
            return default
        raise BadRequest("A JSON request body is required.")
    mimetype = req.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType()
    value = parse_json(raw)
    rule = req.url_rule
    if rule is not None:
        check_body(req.method, rule.rule, value)
    return value


def deliver(waited: Waited[T]) -> T:
    """Hold the answer until the v1 publish has let go of the agent (no-op on v2)."""
    if waited.ready_at is not None:
        backend().clock.wait_until(waited.ready_at)
    return waited.value
