"""The app's current org and the server around it: what a reset swaps, and who hears of the new org."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from mockgc.clock import Clock
from mockgc.faults import FaultProfile, resolve_profile
from mockgc.platform.domain.archive import InteractionArchive
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.oauth import OAuthRegistry
from mockgc.platform.http.journal import Journal
from mockgc.platform.settings import OrgSettings, ServerSettings


def release_memory() -> None:
    """Give a dropped org's memory back to the system: collect its cycles, then ask glibc to return
    free heap pages (CPython's allocator keeps them otherwise). A no-op where there is no glibc."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).malloc_trim(0)  # the process's own symbols: glibc's, on Linux


class PlatformHolder:
    """The app's current org and the server around it; reset swaps in a freshly built org (moto's reset)."""

    def __init__(
        self, server: ServerSettings, org: OrgSettings, clock: Clock, profile: FaultProfile | None = None
    ) -> None:
        self.server = server
        self.org = org
        self.clock = clock
        # The profile it started with (a built-in's name or a profile file in the settings, or one given),
        # where POST /mock/faults/reset goes back to.
        self.start_profile = profile or resolve_profile(org.profile)
        self.platform = self._build(self.start_profile)
        self.journal = Journal(server.journal_size)
        self._listeners: list[Callable[[Platform], None]] = []
        # Where the server bound (the HTTP server sets it: port 0 picks one); see base_url.
        self.bound_url = f"http://{server.host}:{server.port}"

    def set_bound_url(self, url: str) -> None:
        self.bound_url = url

    @property
    def base_url(self) -> str:
        """The mock's base URL for links it hands out: the configured public_url, else the bound address."""
        return (self.server.public_url or self.bound_url).rstrip("/")

    def trusts(self, authorization: str) -> bool:
        """Whether an Authorization header carries the admin key or a live token. Called on the
        server's event loop for every request with a body, so it reads without the org's lock."""
        if authorization[:7].lower() != "bearer ":
            return False
        value = authorization[7:].strip().encode()
        if secrets.compare_digest(value, self.server.admin_key.encode()):
            return True
        return self.platform.auth.oauth.is_live(value.decode(), self.clock.now())

    def _build(self, profile: FaultProfile, clients: OAuthRegistry | None = None) -> Platform:
        archive = InteractionArchive() if self.org.archive_after_seconds > 0 else None
        return Platform(self.org, profile, self.clock, archive, clients=clients)

    def on_new_platform(self, listener: Callable[[Platform], None]) -> None:
        """Call `listener` with the current org now, and with each org a reset builds later."""
        self._listeners.append(listener)
        listener(self.platform)

    def reset(self, profile: FaultProfile | None = None, **changes: Any) -> Platform:
        old = self.platform
        self.org = replace(self.org, **changes)
        # Clients and their tokens survive a reset, so load users that logged in keep working.
        self.platform = self._build(profile or old.profile, old.auth.oauth)
        self.journal = Journal(self.server.journal_size)
        for listener in self._listeners:
            listener(self.platform)
        old.close()
        del old
        release_memory()
        return self.platform
