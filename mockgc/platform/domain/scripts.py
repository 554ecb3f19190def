"""The script engine's area (mock-only): per-interaction variables with a version, Set Data and the branch decision."""

from __future__ import annotations

from dataclasses import dataclass

from mockgc.platform.domain.context import OrgContext, operation
from mockgc.platform.domain.errors import Conflict, InvalidValue, NotFound, SessionInvalidated, SessionLocked
from mockgc.platform.domain.interactions import ScriptSession
from mockgc.platform.domain.publish_lock import Locks, Waited
from mockgc.platform.domain.store import InteractionStore
from mockgc.platform.domain.users import Users

PERSONALIZED = "personalized"
DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Written:
    """What a Set Data acknowledged."""

    session_id: str
    name: str
    value: str
    version: int

    def to_api(self) -> dict[str, object]:
        return {"sessionId": self.session_id, "name": self.name, "value": self.value, "version": self.version}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The script's decision on one variable."""

    session_id: str
    variable: str
    value: str | None
    branch: str

    def to_api(self) -> dict[str, object]:
        return {"sessionId": self.session_id, "variable": self.variable, "value": self.value, "branch": self.branch}


@dataclass(frozen=True, slots=True)
class VariableUpdate:
    """One item of the bulk update: variables to set on a session."""

    session_id: str
    variables: dict[str, str]


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """One bulk item's result: the new version, or the error that refused it alone."""

    session_id: str
    status: int
    version: int | None = None
    code: str | None = None
    message: str | None = None

    def to_api(self) -> dict[str, object]:
        if self.version is not None:
            return {"sessionId": self.session_id, "status": self.status, "version": self.version}
        return {"sessionId": self.session_id, "status": self.status, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class UpdateResults:
    results: list[UpdateResult]

    def to_api(self) -> dict[str, object]:
        return {"results": [result.to_api() for result in self.results]}


class Scripts:
    """Script sessions: one per interaction, owned by the agent of the conversation. Every step goes
    through the publish lock's guard; answers are detached copies."""

    def __init__(self, ctx: OrgContext, store: InteractionStore, users: Users, locks: Locks) -> None:
        self.ctx = ctx
        self.store = store
        self.users = users
        self.locks = locks

    @operation
    def create(self, user_id: str, conversation_id: str) -> ScriptSession:
        self.users.agent(user_id)
        conversation = self.store.conversation(conversation_id)
        if not any(p.user_id == user_id for p in conversation.participants):
            raise InvalidValue(f"user {user_id} is not a participant of conversation {conversation_id}")
        now = self.ctx.clock.now()
        session = ScriptSession(
            self.ctx.new_id(), user_id, conversation_id, conversation.customer().id, now, touched=now
        )
        self.store.add_session(session)
        return session.copy()

    @operation
    def get(self, session_id: str) -> Waited[ScriptSession]:
        session = self.store.session(session_id)
        ready_at = self.locks.guard(session, writing=False)
        return Waited(session.copy(), ready_at)

    @operation
    def set_variable(self, session_id: str, name: str, value: str, expected_version: int | None) -> Waited[Written]:
        """Set Data: the write the field report loses."""
        session = self.store.session(session_id)
        ready_at = self.locks.guard(session, writing=True)
        if expected_version is not None and expected_version != session.version:
            raise Conflict(f"Script session {session_id} is at version {session.version}, not {expected_version}")
        session.variables[name] = value
        session.version += 1
        return Waited(Written(session.id, name, value, session.version), ready_at)

    @operation
    def evaluate(self, session_id: str, variable: str) -> Waited[Evaluation]:
        """The script's decision: personalized when the variable is visible and non-empty."""
        session = self.store.session(session_id)
        ready_at = self.locks.guard(session, writing=False)
        value = session.variables.get(variable) if session.attached else None
        if value:
            session.log_personalized_answer(variable, value)
        return Waited(Evaluation(session.id, variable, value, PERSONALIZED if value else DEFAULT), ready_at)

    @operation
    def attach(self, session_id: str) -> ScriptSession:
        """Re-attach after an invalidation."""
        session = self.store.session(session_id)
        self.locks.check_attach(session)
        session.attached = True
        return session.copy()

    @operation
    def update_many(self, updates: list[VariableUpdate]) -> Waited[UpdateResults]:
        """The seed's bulk variable update: per-item results, so one locked session fails alone."""
        results: list[UpdateResult] = []
        ready_at: float | None = None
        for update in updates:
            try:
                session = self.store.session(update.session_id)
                waits_until = self.locks.guard(session, writing=True)
            except (NotFound, SessionLocked, SessionInvalidated) as error:
                results.append(UpdateResult(update.session_id, error.status, code=error.code, message=error.message))
                continue
            if waits_until is not None:
                ready_at = max(ready_at or waits_until, waits_until)
            session.variables.update(update.variables)
            session.version += 1
            results.append(UpdateResult(session.id, 200, session.version))
        return Waited(UpdateResults(results), ready_at)
