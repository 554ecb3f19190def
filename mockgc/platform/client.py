"""The mock's two clients, one each: its admin API (/mock, with the admin key) and a WFM publish through the real
update-upload flow.

The parent of a live run (its target), the companions (the async worker's, the external worker's watch),
the Locust master (the truth at test stop, the fault profile) and the scripted demo all reach /mock
through MockAdmin; the nemesis and the scripted demo publish through `publish_through_upload`. Nothing
else builds a /mock URL.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import tenacity

from mockgc.platform.domain.wfm import PUBLISH_WEEK

POLL_ATTEMPTS = 5  # tries of one status poll (no answer, a timeout or a 5xx) before giving up on it
POLL_WAIT_SECONDS = 0.25  # first wait between tries; doubles, at most POLL_MAX_WAIT_SECONDS
POLL_MAX_WAIT_SECONDS = 2.0


class MockError(RuntimeError):
    """The mock did not answer an admin call, or answered it with something other than what it should."""


class PublishError(RuntimeError):
    """A step of the update-upload flow answered something other than what it should."""


class _ServerTrouble(Exception):
    """A 5xx answer: worth another try, like no answer at all."""


def retrying_get(http: requests.Session, url: str, headers: Mapping[str, str] | None = None) -> Any:
    """GET a status URL and its JSON, retried with exponential backoff on no answer, a timeout or a 5xx;
    MockError naming the URL and the last error once POLL_ATTEMPTS tries have failed."""

    def get() -> Any:
        response = http.get(url, headers=dict(headers or {}), timeout=10)
        if response.status_code >= 500:
            raise _ServerTrouble(f"{response.status_code}: {response.text[:200]}")
        response.raise_for_status()
        return response.json()

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(POLL_ATTEMPTS),
        wait=tenacity.wait_exponential(multiplier=POLL_WAIT_SECONDS, max=POLL_MAX_WAIT_SECONDS),
        retry=tenacity.retry_if_exception_type((requests.ConnectionError, requests.Timeout, _ServerTrouble)),
        reraise=True,
    )
    try:
        return retrying(get)
    except (requests.RequestException, ValueError, _ServerTrouble) as error:
        tries = retrying.statistics.get("attempt_number", 1)
        raise MockError(
            f"GET {url} failed after {tries} {'try' if tries == 1 else 'tries'}: {type(error).__name__}: {error}"
        ) from None


@dataclass
class MockAdmin:
    """The mock's admin API at `url`; every call carries the admin key."""

    url: str
    admin_key: str
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def call(self, method: str, path: str, body: Any = None, *, expect: int = 200, timeout: float = 30.0) -> Any:
        """One admin call, its JSON answer (None for an empty one); MockError on no answer or another status."""
        try:
            reply = self.http.request(
                method, f"{self.url}/mock{path}", json=body, headers=self.headers, timeout=timeout
            )
        except requests.RequestException as error:
            raise MockError(f"{method} /mock{path}: {error}") from None
        if reply.status_code != expect:
            raise MockError(f"{method} /mock{path} answered {reply.status_code}: {reply.text[:300]}")
        return reply.json() if reply.content else None

    def poll(self, path: str) -> Any:
        """A status read retried with backoff (retrying_get): one lost answer must not end a run."""
        return retrying_get(self.http, f"{self.url}/mock{path}", self.headers)

    def why_not_ready(self) -> str | None:
        """None when the mock answers /mock/info with this admin key; else what is wrong, told apart: no
        answer at all, a refused key, or something that is not a mockgc mock."""
        try:
            reply = self.http.get(f"{self.url}/mock/info", headers=self.headers, timeout=10)
        except requests.ConnectionError:
            return (
                f"no answer at {self.url}: nothing accepts connections there (is `mockgc serve` running on that port?)"
            )
        except requests.RequestException as error:
            return f"no answer at {self.url}: {type(error).__name__}"
        if reply.status_code in (401, 403):
            return (
                f"the mock at {self.url} refused the admin key ({reply.status_code}): give the key `mockgc serve` "
                "printed, with --admin-key or MOCKGC_ADMIN_KEY"
            )
        if reply.status_code != 200:
            return f"{self.url} answered {reply.status_code} to /mock/info: is it a mockgc mock?"
        return None

    def info(self) -> dict[str, Any]:
        return self.call("GET", "/info")  # type: ignore[no-any-return]

    def reset(self, org: Mapping[str, Any]) -> dict[str, Any]:
        """Rebuild the org: `org` is what reset reads (RunSpec.org(): seed, agents, fault profile)."""
        return self.call("POST", "/reset", dict(org))  # type: ignore[no-any-return]

    def set_profile(self, name: str) -> dict[str, Any]:
        return self.call("PUT", "/faults/profile", {"name": name})  # type: ignore[no-any-return]

    def register_client(self, client_id: str, client_secret: str, rate_limit_per_minute: int | None) -> None:
        """A load client; rate limit None means its tokens are never throttled."""
        body = {"clientId": client_id, "clientSecret": client_secret, "rateLimitPerMinute": rate_limit_per_minute}
        self.call("POST", "/oauth/clients", body, expect=201)

    def truth(self, timeout: float = 120.0) -> dict[str, dict[str, Any]]:
        """Every stored script session, sessionId -> its ground truth."""
        return self.call("GET", "/truth", timeout=timeout)["sessions"]  # type: ignore[no-any-return]

    def windows(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Every publish operation with its lock window."""
        return self.call("GET", "/windows", timeout=timeout)["operations"]  # type: ignore[no-any-return]

    def add_webhook(self, url: str, secret: str) -> str:
        """Register a webhook for publish events, signed with `secret`; its id."""
        return str(self.call("POST", "/webhooks", {"url": url, "secret": secret}, expect=201, timeout=10)["id"])

    def remove_webhook(self, webhook_id: str) -> None:
        self.call("DELETE", f"/webhooks/{webhook_id}", expect=204, timeout=5)


def _expect(response: requests.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise PublishError(
            f"{response.request.method} {response.url} answered {response.status_code}: {response.text[:300]}"
        )
    return response.json() if response.content else None


def publish_through_upload(http: requests.Session, base: str, bu_id: str, week: str = PUBLISH_WEEK) -> dict[str, Any]:
    """A WFM schedule publish the way the platform takes one: create, upload URL, PUT gzipped JSON, then update.

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
    """A session carrying a client-credentials bearer token of the mock's (or the platform's) OAuth."""
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


USERS_PAGE_SIZE = 500  # the platform's largest page


def agent_names(base: str, client_id: str, client_secret: str) -> dict[str, str]:
    """Every agent's name by id, listed as a client does (a token, then every page of /api/v2/users): a report
    names agents, not UUIDs. {} when the mock cannot be asked (the report then shows the ids)."""
    names: dict[str, str] = {}
    try:
        http = authenticated_session(base, client_id, client_secret)
        uri: str | None = f"/api/v2/users?pageSize={USERS_PAGE_SIZE}&pageNumber=1"
        while uri:
            body = _expect(http.get(f"{base}{uri}", timeout=30), 200)
            names |= {str(u["id"]): str(u.get("name") or u["id"]) for u in body.get("entities", [])}
            uri = body.get("nextUri")
    except (PublishError, requests.RequestException, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return names
