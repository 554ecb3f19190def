"""The mock org: its areas composed over one shared context (moto's backend)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mockgc.clock import Clock
from mockgc.faults import FaultProfile
from mockgc.platform.domain.analytics import Analytics
from mockgc.platform.domain.archive import InteractionArchive
from mockgc.platform.domain.auth import Auth, default_clients
from mockgc.platform.domain.context import OrgContext, operation
from mockgc.platform.domain.conversations import Conversations
from mockgc.platform.domain.faults import Faults
from mockgc.platform.domain.groups import Groups
from mockgc.platform.domain.interactions import ScriptSession
from mockgc.platform.domain.oauth import OAuthRegistry
from mockgc.platform.domain.presence import PresenceCatalog
from mockgc.platform.domain.publish_lock import Locks
from mockgc.platform.domain.routing import Routing
from mockgc.platform.domain.scripts import Scripts
from mockgc.platform.domain.store import InteractionStore, MemoryCounts
from mockgc.platform.domain.topics import BUSINESS_UNIT, CONVERSATION, MANAGEMENT_UNIT, QUEUE, USER
from mockgc.platform.domain.users import Agent, Users
from mockgc.platform.domain.wfm import BusinessUnit, PublishOperation, Wfm
from mockgc.platform.settings import OrgSettings


class Platform:
    """One org. Reset means building a new one (moto's pattern), never mutating back.

    The areas are attributes (`users`, `routing`, `groups`, `conversations`, `scripts`, `wfm`, with `locks`, the publish
    lock they share, `auth` and `faults`); what is here spans them: the ground truth, the lock
    windows, the clock's due events, and a publish shortcut for in-process drivers.
    """

    def __init__(
        self,
        settings: OrgSettings,
        profile: FaultProfile,
        clock: Clock,
        archive: InteractionArchive | None = None,
        *,
        clients: OAuthRegistry | None = None,
    ) -> None:
        """`clients` carries registered clients and their tokens over from the org a reset replaces."""
        self.ctx = ctx = OrgContext(settings, clock)
        self.settings, self.clock, self.lock, self.events = settings, clock, ctx.lock, ctx.events
        self.auth = Auth(ctx, clients if clients is not None else default_clients(settings))
        self.faults = Faults(ctx, profile)
        self.users = Users(ctx)
        self.store = InteractionStore(ctx, archive)
        self.locks = Locks(ctx, self.store, self.users)
        self.conversations = Conversations(ctx, self.store, self.users)
        self.scripts = Scripts(ctx, self.store, self.users, self.locks)
        self.wfm = Wfm(ctx, self.users, self.locks, self.faults)
        bu = self.wfm.seed()
        self.users.seed(settings.agents, bu.id, [mu.id for mu in bu.management_units])
        self.routing = Routing(ctx, self.users)
        self.routing.seed()
        self.groups = Groups(ctx, self.users)
        self.groups.seed()
        self.users.seed_inactive()  # after the queues and groups: inactive users are in none
        self.presence = PresenceCatalog(ctx)
        self.analytics = Analytics(ctx, self.users, self.store, self.routing)

    # -- what drivers and tests read -----------------------------------------------------

    @property
    def profile(self) -> FaultProfile:
        return self.faults.profile

    @property
    def agents(self) -> dict[str, Agent]:
        """The business unit's agents (the org's users but the few inactive ones outside it)."""
        return {agent_id: agent for agent_id, agent in self.users.agents.items() if agent.business_unit_id}

    @property
    def business_units(self) -> dict[str, BusinessUnit]:
        return self.wfm.business_units

    @property
    def operations(self) -> dict[str, PublishOperation]:
        return self.wfm.operations

    @property
    def sessions(self) -> dict[str, ScriptSession]:
        """The script sessions in memory."""
        return self.store.sessions

    def publish_schedule(self, bu_id: str | None = None) -> PublishOperation:
        """Create a schedule and publish it at once (in-process drivers and tests)."""
        return self.wfm.publish_now(bu_id)

    # -- across the areas ------------------------------------------------------------------

    @operation
    def entity_exists(self, kind: str, entity_id: str) -> bool:
        """Whether the org has an entity of this kind (topics.py's kinds) and id: what a topic may name."""
        lookups = {
            USER: lambda: entity_id in self.users.agents,
            BUSINESS_UNIT: lambda: entity_id in self.wfm.business_units,
            MANAGEMENT_UNIT: lambda: self.wfm.has_management_unit(entity_id),
            CONVERSATION: lambda: self.store.has_conversation(entity_id),
            QUEUE: lambda: entity_id in self.routing.queues,
        }
        lookup = lookups.get(kind)
        return lookup is not None and lookup()

    @operation
    def settle(self) -> None:
        """Apply every event due by now (each operation does this too)."""

    def ground_truth(self) -> dict[str, dict[str, Any]]:
        """Every session's stored variables, whether or not a client could see them."""
        return dict(self.truth_entries())

    @operation
    def truth_entries(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The ground truth as (session id, entry) pairs, memory first, then the archive, streamed."""
        return self.store.truth()

    @operation
    def lock_windows(self) -> list[dict[str, Any]]:
        """Every publish's lock window, in the shape GET /mock/windows answers and the checker reads."""
        return [op.window_to_api() for op in self.wfm.operations.values() if op.publishes]

    @operation
    def memory_counts(self) -> MemoryCounts:
        """How many interactions are in memory and how many session rows the archive took."""
        return self.store.counts()

    def close(self) -> None:
        """Delete the archive (a reset built a new org); requests still on this one see an empty org."""
        with self.lock:
            self.store.close()
