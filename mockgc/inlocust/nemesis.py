"""The nemesis: WFM schedule publishes through the real update-upload flow (mockgc/platform/client.py), at
scheduled offsets."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from mockgc.platform.client import PublishError, authenticated_session, business_unit_id, publish_through_upload


def run_schedule(
    base: str,
    client_id: str,
    client_secret: str,
    offsets: list[float],
    *,
    started: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    log: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Publish once per offset (seconds after `started`); each attempt is logged, failures included.

    Bounded: one attempt per offset and no retry; the caller bounds the time by killing the
    loop when the test stops.
    """
    log = [] if log is None else log
    try:
        http = authenticated_session(base, client_id, client_secret)
        bu_id = business_unit_id(http, base)
    except (PublishError, requests.RequestException, KeyError, IndexError) as error:
        for index, offset in enumerate(offsets):
            log.append({"index": index, "offset": offset, "error": f"nemesis setup: {error}"[:300]})
        return log
    for index, offset in enumerate(offsets):
        delay = started + offset - clock()
        if delay > 0:
            sleep(delay)
        record: dict[str, Any] = {"index": index, "offset": offset, "invokedAt": round(clock(), 3)}
        try:
            operation = publish_through_upload(http, base, bu_id)
            record["operationId"] = operation.get("operationId")
            record["status"] = operation.get("status")
        except (PublishError, requests.RequestException, KeyError, TypeError, ValueError) as error:
            record["error"] = f"{type(error).__name__}: {error}"[:300]
        record["completedAt"] = round(clock(), 3)
        log.append(record)
    return log
