"""Idle interactions kept in an embedded SQLite file, so the ground truth stays complete while memory stays flat."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from mockgc.platform.domain.interactions import Conversation, Participant, ScriptSession, truth_entry

READ_BATCH = 2000

_SCHEMA = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
    participant_id TEXT NOT NULL, created REAL NOT NULL, variables TEXT NOT NULL,
    version INTEGER NOT NULL, attached INTEGER NOT NULL, personalized_answers TEXT NOT NULL
);
-- Only attached sessions: a status flip detaches each archived session once, however many flips follow.
CREATE INDEX sessions_attached ON sessions (agent_id) WHERE attached = 1;
CREATE TABLE conversations (id TEXT PRIMARY KEY, started REAL NOT NULL, participants TEXT NOT NULL, queue_id TEXT);
-- Analytics reads conversations by when they started.
CREATE INDEX conversations_started ON conversations (started);
"""


class InteractionArchive:
    """Script sessions and conversations nobody touched for a while, in a private temporary file.

    The org writes under its own lock, so one connection (and no locking here) is enough;
    truth readers get their own connection and a consistent snapshot (WAL). Nothing here needs
    to survive a crash: the file is the ground truth's overflow, deleted on close, so writes are
    not synced to disk.
    """

    def __init__(self, directory: str | None = None) -> None:
        self._directory = directory
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._db: sqlite3.Connection | None = None  # opened by the first put: most orgs never need it
        self.path = ""
        self.archived = 0  # rows written, counting a session archived again after it woke up

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self._dir = tempfile.TemporaryDirectory(prefix="mockgc-archive-", dir=self._directory)
            self.path = os.path.join(self._dir.name, "interactions.db")
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.executescript(_SCHEMA)
        return self._db

    # -- writing ---------------------------------------------------------------------

    def put(self, sessions: Iterable[ScriptSession], conversations: Iterable[Conversation]) -> None:
        """Store (or replace) these objects in one transaction."""
        session_rows = [
            (
                s.id,
                s.agent_id,
                s.conversation_id,
                s.participant_id,
                s.created,
                json.dumps(s.variables),
                s.version,
                int(s.attached),
                json.dumps(s.personalized_answers),
            )
            for s in sessions
        ]
        conversation_rows = [
            (
                c.id,
                c.started,
                json.dumps([[p.id, p.purpose, p.user_id, p.attributes, p.name] for p in c.participants]),
                c.queue_id,
            )
            for c in conversations
        ]
        db = self._open()
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", session_rows)
            db.executemany("INSERT OR REPLACE INTO conversations VALUES (?, ?, ?, ?)", conversation_rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self.archived += len(session_rows)

    def detach_agent(self, agent_id: str) -> None:
        """A status flip invalidated the agent's sessions: the archived ones too."""
        if self._db is not None:
            self._db.execute("UPDATE sessions SET attached = 0 WHERE agent_id = ? AND attached = 1", (agent_id,))

    # -- reading ---------------------------------------------------------------------

    def session(self, session_id: str) -> ScriptSession | None:
        if self._db is None:
            return None
        row = self._db.execute(
            "SELECT id, agent_id, conversation_id, participant_id, created, variables, version, attached, "
            "personalized_answers FROM sessions WHERE id = ?",
            (session_id,),
        ).fetchone()
        if row is None:
            return None
        sid, agent, conversation, participant, created, variables, version, attached, answers = row
        return ScriptSession(
            sid,
            agent,
            conversation,
            participant,
            created,
            json.loads(variables),
            version,
            bool(attached),
            personalized_answers=tuple((variable, value) for variable, value in json.loads(answers)),
        )

    def conversation(self, conversation_id: str) -> Conversation | None:
        if self._db is None:
            return None
        row = self._db.execute(
            "SELECT id, started, participants, queue_id FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return None if row is None else _conversation(row)

    def conversations_started(self, start: float, end: float, shadowed: set[str]) -> list[Conversation]:
        """The archived conversations that started in [start, end), but the `shadowed` ones (awake in memory)."""
        if self._db is None:
            return []
        rows = self._db.execute(
            "SELECT id, started, participants, queue_id FROM conversations WHERE started >= ? AND started < ?",
            (start, end),
        )
        return [_conversation(row) for row in rows if row[0] not in shadowed]

    def truth(self, shadowed: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every archived session's truth entry but the `shadowed` ones (they are awake in memory).

        The snapshot is taken before this returns (the first rows are read here), so a caller that
        holds the platform's lock gets the archive as it was at that instant, whatever is written
        while the rest is read.
        """
        if self._db is None:
            return iter(())
        reader = sqlite3.connect(self.path, check_same_thread=False)
        cursor = reader.execute(
            "SELECT id, agent_id, conversation_id, variables, version, attached, personalized_answers FROM sessions"
        )
        first = cursor.fetchmany(READ_BATCH)

        def rows() -> Iterator[tuple[str, dict[str, Any]]]:
            try:
                batch = first
                while batch:
                    for sid, agent, conversation, variables, version, attached, answers in batch:
                        if sid not in shadowed:
                            log = ScriptSession.log_as_truth(tuple(map(tuple, json.loads(answers))))
                            yield (
                                sid,
                                truth_entry(agent, conversation, json.loads(variables), version, bool(attached), log),
                            )
                    batch = cursor.fetchmany(READ_BATCH)
            finally:
                reader.close()

        return rows()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def _conversation(row: tuple[str, float, str, str | None]) -> Conversation:
    cid, started, participants, queue_id = row
    return Conversation(cid, started, [Participant(*p) for p in json.loads(participants)], queue_id=queue_id)
