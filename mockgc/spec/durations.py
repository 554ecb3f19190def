"""Durations as Locust writes them (30s, 1m, 1h30m; a bare number is seconds), parsed once for every command."""

from __future__ import annotations

import math
import re

# Locust's own format (locust.util.timespan), read here because importing Locust outside the harness's
# child processes would monkey-patch the interpreter. A decimal is also taken where Locust's parser has
# none (0.5, 1.5s): the spec's durations have always been seconds as floats.
_SPAN = re.compile(r"(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?")
ACCEPTED = "seconds (30 or 2.5), or Locust's form: 30s, 1m, 1h30m, 1h30m10s"


def parse_duration(value: object, name: str = "duration") -> float:
    """Seconds from a number, a numeric string or Locust's `1h30m10s`; ValueError naming the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"{name} {value!r} is not a duration: use {ACCEPTED}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"{name} {value!r} is not a duration: use {ACCEPTED}")
        return float(value)
    text = str(value).strip().lower()
    try:
        seconds = float(text)
    except ValueError:
        match = _SPAN.fullmatch(text)
        if not text or match is None or not any(match.groupdict().values()):
            raise ValueError(f"{name} {str(value)!r} is not a duration: use {ACCEPTED}") from None
        parts = match.groupdict()
        return int(parts["h"] or 0) * 3600.0 + int(parts["m"] or 0) * 60.0 + float(parts["s"] or 0)
    if not math.isfinite(seconds):
        raise ValueError(f"{name} {str(value)!r} is not a duration: use {ACCEPTED}")
    return seconds
