"""Timestamps in the platform's ISO-8601 form."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
