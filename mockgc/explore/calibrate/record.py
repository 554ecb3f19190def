"""`mockgc record`: a trace of a real org's publishes, read with ordinary OAuth credentials through the platform's routes.

Only real routes, as a team's own integration calls them (never the admin key, never `/mock`):

- `GET /api/v2/workforcemanagement/businessunits` and `…/{bu}/weeks/recent/schedules`: the publishes, each a
  published schedule whose `metadata.dateModified` (when its update was accepted) falls in the window; its
  agents from `POST …/schedules/{id}/agentschedules/query`;
- `POST /api/v2/analytics/users/details/query`: each agent's presence and routing-status changes, paged
  (`paging.pageSize` 100, `pageNumber`), 100 users per query;
- `POST /api/v2/analytics/conversations/details/jobs`, then `GET …/jobs/{id}` until it is FULFILLED and
  `GET …/jobs/{id}/results` by `cursor`: every conversation with its participants' attributes, where a
  flow logs each call (mockgc/flows/calllog.py: `mockgc.call.NN`); a conversation whose flow logged only the
  seed's try/catch error (`mockgc.setDataError`) gives a failed Set Data at the conversation's start.

A 429 is waited out as its `Retry-After` says (tenacity), a bounded number of times; so is a 5xx.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from tenacity import RetryCallState, retry, retry_if_result, stop_after_attempt

from mockgc.explore.calibrate.trace import (
    CallEvent,
    OrgEvent,
    PublishEvent,
    StatusEvent,
    Trace,
    format_time,
    parse_time,
)
from mockgc.flows.calllog import SESSION_ATTRIBUTE, logged_from

USERS_PER_QUERY = 100  # userId predicates one users details query holds
DETAILS_PAGE = 100  # a synchronous details query pages at most 100 at a time
JOB_PAGE = 10_000  # a details job's results page at most this many conversations
MAX_ATTEMPTS = 8  # tries of one request through 429s and 5xxs
MAX_WAIT_S = 60.0  # the longest one wait may be, whatever Retry-After says
JOB_POLL_S = 1.0
JOB_TIMEOUT_S = 300.0
SEED_ERROR_ATTRIBUTE = "mockgc.setDataError"  # the seed's try/catch remedy logs its error here
MAX_WINDOW_S = 31 * 86_400.0  # a details job spans at most 31 days


class RecordError(RuntimeError):
    """The platform refused what record asked (a bad credential, a permission it lacks): one line."""


@dataclass
class Counters:
    """What recording cost: requests made, 429s and 5xxs waited out, and how long."""

    requests: int = 0
    throttled: int = 0
    server_errors: int = 0
    waited_s: float = 0.0


def _wait(retry_state: RetryCallState) -> float:
    reply: requests.Response = retry_state.outcome.result()  # type: ignore[union-attr]
    header = reply.headers.get("Retry-After")
    try:
        seconds = float(header) if header is not None else 2.0 ** (retry_state.attempt_number - 1)
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_WAIT_S)


def _again(reply: requests.Response) -> bool:
    return reply.status_code == 429 or reply.status_code >= 500


class PlatformClient:
    """HTTP to the platform with a client-credentials token, waiting out 429s (Retry-After) and 5xxs."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        login_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.login = (login_url or login_of(self.base)).rstrip("/")
        self.http = requests.Session()
        self.counters = Counters()
        self._sleep = sleep
        self.send = retry(
            retry=retry_if_result(_again),
            wait=_wait,
            stop=stop_after_attempt(MAX_ATTEMPTS),
            sleep=self._slept,
            retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
        )(self._send)
        reply = self.send(
            "POST",
            "/oauth/token",
            base=self.login,
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
        )
        if reply.status_code != 200:
            raise RecordError(f"POST {self.login}/oauth/token answered {reply.status_code}: {reply.text[:200].strip()}")
        self.http.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"

    def pause(self, seconds: float) -> None:
        """Wait (a job's poll), counted with the waits for the rate limit."""
        self._slept(seconds)

    def _slept(self, seconds: float) -> None:
        self.counters.waited_s += seconds
        self._sleep(seconds)

    def _send(self, method: str, path: str, *, base: str | None = None, **kwargs: Any) -> requests.Response:
        if not path.startswith(("/api/v2/", "/oauth/token")):
            raise AssertionError("record reads only the platform's own routes")
        self.counters.requests += 1
        try:
            reply = self.http.request(method, (base or self.base) + path, timeout=60, **kwargs)
        except requests.RequestException as error:
            raise RecordError(f"{method} {path}: {type(error).__name__}: {error}") from None
        if reply.status_code == 429:
            self.counters.throttled += 1
        elif reply.status_code >= 500:
            self.counters.server_errors += 1
        return reply

    def json(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        reply = self.send(method, path, json=body, params=params)
        if not 200 <= reply.status_code < 300:
            raise RecordError(f"{method} {path} answered {reply.status_code}: {reply.text[:300].strip()}")
        return reply.json() if reply.content else None


def login_of(api_url: str) -> str:
    """The OAuth host of an API host: the platform's regions serve tokens from login.<region> and the API from
    api.<region> (https://api.mypurecloud.com -> https://login.mypurecloud.com); any other host (the mock)
    serves both."""
    scheme, sep, rest = api_url.partition("://")
    if sep and rest.startswith("api."):
        return f"{scheme}://login.{rest[4:]}"
    return api_url


@dataclass
class Window:
    """What to record: [start, end) in epoch seconds, which business unit (None: all), and the page sizes
    (the platform's largest by default)."""

    start: float
    end: float
    business_unit: str | None = None
    details_page: int = DETAILS_PAGE
    job_page: int = JOB_PAGE
    members: dict[str, set[str]] = field(default_factory=dict)

    def interval(self) -> str:
        return f"{format_time(self.start)}/{format_time(self.end)}"


def record(client: PlatformClient, window: Window) -> Trace:
    """The window's publishes, the status changes of their agents, and the calls their flows logged."""
    if not 0 < window.end - window.start <= MAX_WINDOW_S:
        raise RecordError("the window must end after it starts and span at most 31 days")
    trace = Trace("record")
    _publishes(client, window, trace)
    agents = sorted({a for members in window.members.values() for a in members})
    _statuses(client, window, agents, trace)
    _calls(client, window, trace)
    return trace


# -- publishes, from the WFM routes ------------------------------------------------------------------------


def _publishes(client: PlatformClient, window: Window, trace: Trace) -> None:
    units = client.json("GET", "/api/v2/workforcemanagement/businessunits")["entities"]
    wanted = [u["id"] for u in units if window.business_unit in (None, u["id"])]
    if window.business_unit is not None and not wanted:
        raise RecordError(f"no business unit {window.business_unit} in this org")
    first = datetime.fromtimestamp(window.start, UTC).date()
    for unit in wanted:
        base = f"/api/v2/workforcemanagement/businessunits/{unit}"
        # A publish may be of a schedule weeks away from when it is made: a year either side of the window.
        params = {
            "earliestWeekDate": (first - timedelta(weeks=52)).isoformat(),
            "latestWeekDate": (first + timedelta(weeks=52)).isoformat(),
            "includeOnlyPublished": "true",
        }
        schedules = client.json("GET", f"{base}/weeks/recent/schedules", params=params)["entities"]
        members: set[str] = set()
        for schedule in schedules:
            modified = (schedule.get("metadata") or {}).get("dateModified")
            if not schedule.get("published") or modified is None:
                continue
            started = parse_time(modified, "a schedule's metadata.dateModified")
            if not window.start <= started < window.end:
                continue
            trace.publishes.append(PublishEvent(unit, schedule["id"], started, None))
            query = f"{base}/weeks/{schedule['weekDate']}/schedules/{schedule['id']}/agentschedules/query"
            answer = client.json("POST", query, {})
            result = answer.get("result") or {}
            members |= {a["user"]["id"] for a in result.get("agentSchedules", [])}
        if members:
            window.members[unit] = members
            trace.orgs.append(OrgEvent(unit, len(members), tuple(sorted(members))))


# -- status changes, from the users details query ------------------------------------------------------------


def _statuses(client: PlatformClient, window: Window, agents: list[str], trace: Trace) -> None:
    for first in range(0, len(agents), USERS_PER_QUERY):
        chunk = agents[first : first + USERS_PER_QUERY]
        for detail in _user_details(client, window, chunk):
            _status_events(detail, window, trace)


def _user_details(client: PlatformClient, window: Window, users: list[str]) -> Iterator[dict[str, Any]]:
    body: dict[str, Any] = {
        "interval": window.interval(),
        "userFilters": [{"type": "or", "predicates": [{"dimension": "userId", "value": user} for user in users]}],
        "order": "asc",
        "paging": {"pageSize": window.details_page, "pageNumber": 1},
    }
    while True:
        page = client.json("POST", "/api/v2/analytics/users/details/query", body)
        details = page.get("userDetails") or []
        yield from details
        seen = (body["paging"]["pageNumber"] - 1) * window.details_page + len(details)
        if not details or seen >= page.get("totalHits", 0):
            return
        body["paging"]["pageNumber"] += 1


def _status_events(detail: dict[str, Any], window: Window, trace: Trace) -> None:
    """A status change at each interval's start inside the window (the first interval may predate it)."""
    agent = detail["userId"]
    for kind, key in (("primaryPresence", "systemPresence"), ("routingStatus", "routingStatus")):
        records = sorted(detail.get(kind) or [], key=lambda r: r["startTime"])
        previous: str | None = None
        for entry in records:
            value = f"{'presence' if kind == 'primaryPresence' else 'routing'}:{entry[key]}"
            at = parse_time(entry["startTime"], f"{agent}'s {kind} startTime")
            if window.start <= at < window.end and previous is not None:
                trace.statuses.append(StatusEvent(agent, at, previous, value))
            previous = value


# -- calls, from the conversations details job --------------------------------------------------------------


def _calls(client: PlatformClient, window: Window, trace: Trace) -> None:
    jobs = "/api/v2/analytics/conversations/details/jobs"
    job = client.json("POST", jobs, {"interval": window.interval(), "order": "asc", "orderBy": "conversationStart"})
    job_id = job["jobId"]
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        state = client.json("GET", f"{jobs}/{job_id}")["state"]
        if state == "FULFILLED":
            break
        if state in ("FAILED", "CANCELLED", "EXPIRED") or time.monotonic() > deadline:
            raise RecordError(f"the conversations details job {job_id} ended {state}")
        client.pause(JOB_POLL_S)
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"pageSize": window.job_page}
        if cursor:
            params["cursor"] = cursor
        page = client.json("GET", f"{jobs}/{job_id}/results", params=params)
        for conversation in page.get("conversations") or []:
            trace.calls.extend(_conversation_calls(conversation))
        cursor = page.get("cursor")
        if not cursor:
            break
    client.send("DELETE", f"{jobs}/{job_id}")


def _conversation_calls(conversation: dict[str, Any]) -> list[CallEvent]:
    participants = conversation.get("participants") or []
    agent = next((p.get("userId") for p in participants if p.get("userId")), None)
    if agent is None:
        return []
    calls = []
    for participant in participants:
        attributes = participant.get("attributes") or {}
        session = attributes.get(SESSION_ATTRIBUTE)
        logged = logged_from(attributes)
        for call in logged:
            calls.append(
                CallEvent(
                    agent,
                    call.at,
                    call.operation,
                    call.status,
                    call.error,
                    None if call.duration_ms is None else float(call.duration_ms),
                    conversation["conversationId"],
                    session,
                    participant.get("participantId"),
                    call.branch,
                    call.value,
                )
            )
        seed_error = attributes.get(SEED_ERROR_ATTRIBUTE)
        if not logged and seed_error:
            # The seed's try/catch logs "<status> <code>" with no time: the conversation's start stands in.
            status, _, code = seed_error.partition(" ")
            calls.append(
                CallEvent(
                    agent,
                    parse_time(conversation["conversationStart"], "conversationStart"),
                    "set",
                    int(status) if status.isdigit() and int(status) < 600 else 400,
                    code or None,
                    None,
                    conversation["conversationId"],
                    session,
                    participant.get("participantId"),
                )
            )
    return calls


def window_of(start: str | None, end: str | None, *, now: float | None = None, default_hours: float = 1.0) -> Window:
    """The window from --from and --to (ISO 8601); the last hour by default."""
    end_s = parse_time(end, "--to") if end else (now or time.time())
    start_s = parse_time(start, "--from") if start else end_s - default_hours * 3600
    return Window(start_s, end_s)
