"""The nemesis: WFM schedule publishes through the real update-upload flow, at scheduled offsets."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from typing import Any

import requests

DEFAULT_WEEK = "2026-11-23"


class PublishError(RuntimeError):
    """A step of the update-upload flow answered something other than what it should."""


def _expect(response: requests.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise PublishError(
            f"{response.request.method} {response.url} answered {response.status_code}: {response.text[:300]}"
        )
    return response.json() if response.content else None


def publish_schedule(http: requests.Session, base: str, bu_id: str, week: str = DEFAULT_WEEK) -> dict[str, Any]:
    """The real update-upload flow: create, upload URL, PUT gzipped JSON, then update.

    `http` carries the bearer token. Only the last POST starts the publish, and nothing here
    retries it: a lost answer must never turn one scheduled publish into two.
    """
    schedules = f"{base}/api/v2/workforcemanagement/businessunits/{bu_id}/weeks/{week}/schedules"
    schedule = _expect(http.post(schedules, json={"description": "Monday publish", "weekCount": 1}, timeout=30), 200)
    document = gzip.compress(
        json.dumps({"published": True, "metadata": {"version": schedule["metadata"]["version"]}}).encode()
    )
    upload = _expect(
        http.post(
            f"{schedules}/{schedule['id']}/update/uploadurl", json={"contentLengthBytes": len(document)}, timeout=30
        ),
        200,
    )
    # The upload URL is pre-signed: it takes the headers it names and no bearer token.
    _expect(requests.put(upload["url"], data=document, headers=upload["headers"], timeout=30), 200)
    return _expect(  # type: ignore[no-any-return]
        http.post(f"{schedules}/{schedule['id']}/update", json={"uploadKey": upload["uploadKey"]}, timeout=30), 200
    )


def authenticated_session(base: str, client_id: str, client_secret: str) -> requests.Session:
    http = requests.Session()
    reply = _expect(
        http.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
            timeout=30,
        ),
        200,
    )
    http.headers["Authorization"] = f"Bearer {reply['access_token']}"
    return http


def business_unit_id(http: requests.Session, base: str) -> str:
    units = _expect(http.get(f"{base}/api/v2/workforcemanagement/businessunits", timeout=30), 200)
    return str(units["entities"][0]["id"])


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
            operation = publish_schedule(http, base, bu_id)
            record["operationId"] = operation.get("operationId")
            record["status"] = operation.get("status")
        except (PublishError, requests.RequestException, KeyError, TypeError, ValueError) as error:
            record["error"] = f"{type(error).__name__}: {error}"[:300]
        record["completedAt"] = round(clock(), 3)
        log.append(record)
    return log
