"""Where interactions live: the ones a request touched lately in memory, idle ones in the archive (if any)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, ValuesView
from dataclasses import dataclass
from itertools import chain, takewhile
from typing import Any

from mockgc.platform.domain.archive import InteractionArchive
from mockgc.platform.domain.context import OrgContext
from mockgc.platform.domain.errors import NotFound
from mockgc.platform.domain.interactions import Conversation, ScriptSession

ARCHIVE_EVERY = 500  # creations between two looks for idle interactions to archive


@dataclass(frozen=True, slots=True)
class MemoryCounts:
    sessions_in_memory: int
    conversations_in_memory: int
    sessions_archived: int

    def to_api(self) -> dict[str, int]:
        return {
            "sessionsInMemory": self.sessions_in_memory,
            "conversationsInMemory": self.conversations_in_memory,
            "sessionsArchived": self.sessions_archived,
        }


class InteractionStore:
    """Conversations and script sessions by id, for the areas that use them.

    With an archive, idle interactions leave memory for it (least recently used first) and come
    back when a request names them; without one (the simulator), everything stays here. The
    publish lock sets the two hooks: while it holds or will hold anyone nothing is archived
    (`pinned`), and it sees every session woken from the archive (`on_wake`).
    """

    def __init__(self, ctx: OrgContext, archive: InteractionArchive | None) -> None:
        self.ctx = ctx
        self.archive = archive
        self.conversations: dict[str, Conversation] = OrderedDict() if archive else {}
        self.sessions: dict[str, ScriptSession] = OrderedDict() if archive else {}
        self._by_agent: dict[str, dict[str, ScriptSession]] = {}
        self._created_since_archiving = 0
        self.pinned: Callable[[], bool] = lambda: False
        self.on_wake: Callable[[ScriptSession], None] = lambda session: None

    # -- adding and finding ----------------------------------------------------------

    def add_conversation(self, conversation: Conversation) -> None:
        self.conversations[conversation.id] = conversation
        self._created()

    def add_session(self, session: ScriptSession) -> None:
        self.sessions[session.id] = session
        self._by_agent.setdefault(session.agent_id, {})[session.id] = session
        self._created()

    def conversation(self, conversation_id: str) -> Conversation:
        conversation = self.conversations.get(conversation_id)
        if self.archive is not None:
            if conversation is None:
                conversation = self.archive.conversation(conversation_id)
                if conversation is not None:
                    self.conversations[conversation.id] = conversation
            else:
                self.conversations.move_to_end(conversation_id)  # type: ignore[attr-defined]
            if conversation is not None:
                conversation.touched = self.ctx.clock.now()
        if conversation is None:
            raise NotFound(f"Conversation {conversation_id} not found")
        return conversation

    def has_conversation(self, conversation_id: str) -> bool:
        """In memory or in the archive, without waking it."""
        if conversation_id in self.conversations:
            return True
        return self.archive is not None and self.archive.conversation(conversation_id) is not None

    def conversations_started(self, start: float, end: float) -> list[Conversation]:
        """Copies of every conversation that started in [start, end), in memory or archived (none is
        woken), in the order they started."""
        found = [c.copy() for c in self.conversations.values() if start <= c.started < end]
        if self.archive is not None:
            found += self.archive.conversations_started(start, end, set(self.conversations))
        found.sort(key=lambda c: (c.started, c.id))
        return found

    def session(self, session_id: str) -> ScriptSession:
        session = self.sessions.get(session_id)
        if self.archive is not None:
            if session is None:
                session = self.archive.session(session_id)
                if session is not None:
                    self._wake(session)
            else:
                self.sessions.move_to_end(session_id)  # type: ignore[attr-defined]
            if session is not None:
                session.touched = self.ctx.clock.now()
        if session is None:
            raise NotFound(f"Script session {session_id} not found", details=[{"entityId": session_id}])
        return session

    def sessions_of(self, agent_id: str) -> ValuesView[ScriptSession]:
        """The agent's sessions in memory (while anyone is held, that is all of them)."""
        return self._by_agent.get(agent_id, {}).values()

    def detach_archived(self, agent_id: str) -> None:
        if self.archive is not None:
            self.archive.detach_agent(agent_id)

    # -- the archive: idle interactions leave memory, the ground truth keeps them -----------

    def _created(self) -> None:
        if self.archive is not None:
            self._created_since_archiving += 1
            if self._created_since_archiving >= ARCHIVE_EVERY:
                self._archive_idle(self.ctx.clock.now())

    def _archive_idle(self, now: float) -> None:
        """Move what nobody touched for `archive_after_seconds` to the archive, oldest first.

        Never while a publish holds or will hold anyone: a clobber's snapshot and restore, and an
        invalidation, then see every session of the agent in memory (see _wake for the ones that
        were archived before the publish began).
        """
        if self.archive is None or self.pinned():
            return
        self._created_since_archiving = 0
        cutoff = now - self.ctx.settings.archive_after_seconds
        sessions = list(takewhile(lambda s: s.touched <= cutoff, self.sessions.values()))
        conversations = list(takewhile(lambda c: c.touched <= cutoff, self.conversations.values()))
        if not sessions and not conversations:
            return
        self.archive.put(sessions, conversations)
        for session in sessions:
            del self.sessions[session.id]
            del self._by_agent[session.agent_id][session.id]
        for conversation in conversations:
            del self.conversations[conversation.id]

    def _wake(self, session: ScriptSession) -> None:
        """Bring an archived session back into memory, and show it to the publish lock: a clobber hold
        that began while it was archived must restore what it held then, which is what the archive
        holds now (nothing can change a session that is not in memory)."""
        self.sessions[session.id] = session
        self._by_agent.setdefault(session.agent_id, {})[session.id] = session
        self.on_wake(session)

    # -- the ground truth ---------------------------------------------------------------

    def truth(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(session id, truth entry) pairs, memory first, then the archive. Both are captured now
        (the caller holds the org's lock), so they agree; the archive's rows are then read lazily,
        so a long run's truth is streamed rather than built in memory."""
        awake = [(s.id, s.truth()) for s in self.sessions.values()]
        if self.archive is None:
            return iter(awake)
        return chain(awake, self.archive.truth({sid for sid, _ in awake}))

    def counts(self) -> MemoryCounts:
        archived = self.archive.archived if self.archive else 0
        return MemoryCounts(len(self.sessions), len(self.conversations), archived)

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None
