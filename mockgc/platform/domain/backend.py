"""The platform backend: one object per mock org, with methods named after API operations."""

from __future__ import annotations

import math
import random
import re
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial, wraps
from itertools import chain, takewhile
from typing import Any, Concatenate, ParamSpec, TypeVar

from faker import Faker

from mockgc.clock import Clock
from mockgc.faults import MAX_MS, FaultProfile, Toxic
from mockgc.platform.domain.agents import (
    PRESENCE_BY_ID,
    PRESENCE_DEFINITIONS,
    ROUTING_STATUSES,
    SCENARIO_AVAILABLE,
    SCENARIO_RESERVED,
    Agent,
)
from mockgc.platform.domain.archive import InteractionArchive, truth_entry
from mockgc.platform.domain.conversations import Conversation, Participant
from mockgc.platform.domain.errors import (
    AuthenticationRequired,
    Conflict,
    InvalidValue,
    NotFound,
    SessionInvalidated,
    SessionLocked,
)
from mockgc.platform.domain.events import EventBus
from mockgc.platform.domain.locks import Hold, LockTable
from mockgc.platform.domain.oauth import OAuthClient, OAuthRegistry, Token
from mockgc.platform.domain.ratelimit import RateLimiter, RateStatus
from mockgc.platform.domain.scripts import DEFAULT, PERSONALIZED, ScriptSession
from mockgc.platform.domain.timeline import Timeline
from mockgc.platform.domain.wfm import BusinessUnit, ManagementUnit, PublishOperation, Schedule, UploadSlot
from mockgc.settings import OrgSettings

P = ParamSpec("P")
R = TypeVar("R")

PRESENCE_SOURCE = "purecloud"
MAX_BULK_PRESENCES = 50
MAX_VARIABLE_NAME = 128
MAX_VARIABLE_VALUE = 4096
ARCHIVE_EVERY = 500  # creations between two looks for idle interactions to archive
UPLOAD_KEY_BYTES = 32  # 256 bits, as unguessable as a pre-signed URL's signature
WEEK_ID = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def operation(method: Callable[Concatenate[Platform, P], R]) -> Callable[Concatenate[Platform, P], R]:
    """Serialize the call and first apply every timed event that is due, so state matches now()."""

    @wraps(method)
    def wrapper(self: Platform, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            self.timeline.run_due(self.clock.now())
            return method(self, *args, **kwargs)

    return wrapper


@dataclass(frozen=True, slots=True)
class Access:
    """Who made an authenticated request, and the rate-limit state it leaves."""

    token: Token
    client: OAuthClient
    rate: RateStatus | None


@dataclass(frozen=True, slots=True)
class Waited:
    """A result the caller may only deliver at `ready_at` (v1 serializes instead of failing)."""

    body: dict[str, Any]
    ready_at: float | None = None


@dataclass(frozen=True, slots=True)
class ToxicEffect:
    toxic: Toxic
    delay: float = 0.0


def _require_str(value: Any, field: str, *, max_length: int = 1024, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"{field} must be a string", details=[{"fieldName": field}])
    if not allow_empty and not value:
        raise InvalidValue(f"{field} must not be empty", details=[{"fieldName": field}])
    if len(value) > max_length:
        raise InvalidValue(f"{field} is longer than {max_length} characters", details=[{"fieldName": field}])
    return value


def _string_map(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidValue(f"{field} must be an object of strings", details=[{"fieldName": field}])
    for key, item in value.items():
        _require_str(key, f"{field} key", max_length=MAX_VARIABLE_NAME)
        _require_str(item, f"{field}.{key}", max_length=MAX_VARIABLE_VALUE, allow_empty=True)
    return value


class Platform:
    """The mock org. Reset means building a new one (moto's pattern), never mutating back."""

    def __init__(
        self, settings: OrgSettings, profile: FaultProfile, clock: Clock, archive: InteractionArchive | None = None
    ) -> None:
        self.settings = settings
        self.profile = profile
        self.clock = clock
        self.lock = threading.RLock()
        self.timeline = Timeline()
        self.locks = LockTable()
        self.events = EventBus()
        self.oauth = OAuthRegistry(settings.token_ttl_seconds)
        self.rate_limiter = RateLimiter()
        self.toxics: dict[str, Toxic] = {t.name: t for t in profile.toxics}

        self._ids = random.Random(f"ids:{settings.seed}")
        self._toxic_rng = random.Random(f"toxics:{settings.seed}")
        self._publish_count = 0
        self.agents: dict[str, Agent] = {}
        self.business_units: dict[str, BusinessUnit] = {}
        # With an archive, idle interactions leave memory for it (least recently used first); without
        # one (the simulator), everything stays here.
        self._archive = archive
        self.conversations: dict[str, Conversation] = OrderedDict() if archive else {}
        self.sessions: dict[str, ScriptSession] = OrderedDict() if archive else {}
        self._sessions_by_agent: dict[str, dict[str, ScriptSession]] = {}
        self._created_since_archiving = 0
        self.schedules: dict[str, Schedule] = {}
        self.uploads: dict[str, UploadSlot] = {}
        self.operations: dict[str, PublishOperation] = {}
        self._snapshots: dict[Hold, dict[str, tuple[dict[str, str], int]]] = {}

        limit = settings.rate_limit_per_minute or None
        if settings.client_secret:
            self.oauth.add_client(OAuthClient(settings.client_id, settings.client_secret, "default client", limit))
        self._seed_org(settings.seed, settings.agents)

    # -- identity and seeding -------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _seed_org(self, seed: int, agent_count: int) -> None:
        faker = Faker("en_US")
        faker.seed_instance(seed)
        now = self.clock.now()
        bu = BusinessUnit(self.new_id(), "Chicago Contact Center", [])
        bu.management_units = [ManagementUnit(self.new_id(), f"MU {n}", bu.id) for n in ("North", "South")]
        self.business_units[bu.id] = bu
        for index in range(agent_count):
            name = faker.name()
            mu = bu.management_units[index % len(bu.management_units)]
            handle = name.lower().replace(" ", ".").replace("'", "")
            email = f"{handle}.{index}@example.com"
            agent = Agent(self.new_id(), name, email, bu.id, mu.id, "IDLE", now, "Available", "", now)
            self.agents[agent.id] = agent

    # -- OAuth, rate limits, toxics ---------------------------------------------

    @operation
    def issue_token(self, client_id: str, secret: str) -> Token:
        return self.oauth.issue(client_id, secret, self.clock.now())

    @operation
    def add_client(self, client_id: str, secret: str, rate_limit_per_minute: int | None) -> OAuthClient:
        if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
            raise InvalidValue("rateLimitPerMinute must be positive, or null for no limit")
        return self.oauth.add_client(OAuthClient(client_id, secret, client_id, rate_limit_per_minute))

    @operation
    def revoke_token(self, bearer: str) -> None:
        """DELETE /api/v2/tokens/me: the token that asks is revoked (it was authorized just before)."""
        self.oauth.revoke(bearer)

    @operation
    def authorize(self, bearer: str | None) -> Access:
        if not bearer:
            raise AuthenticationRequired()
        now = self.clock.now()
        token, client = self.oauth.authenticate(bearer, now)
        rate = None
        if client.rate_limit_per_minute is not None:
            rate = self.rate_limiter.hit(token.value, client.rate_limit_per_minute, now)
        return Access(token, client, rate)

    @operation
    def roll_toxics(self, path: str) -> ToxicEffect | None:
        """Pick the first matching toxic that fires; the HTTP layer carries out its effect."""
        for toxic in self.toxics.values():
            if path.startswith(toxic.path_prefix) and self._toxic_rng.random() < toxic.toxicity:
                delay = self._toxic_latency(toxic) if toxic.type == "latency" else 0.0
                return ToxicEffect(toxic, delay)
        return None

    def _toxic_latency(self, toxic: Toxic) -> float:
        """Seconds of delay: latency_ms spread by jitter_ms (uniform, normal) or by sigma (lognormal)."""
        attributes, rng = toxic.attributes, self._toxic_rng
        latency, jitter = float(attributes.get("latency_ms", 0)), float(attributes.get("jitter_ms", 0))
        distribution = attributes.get("distribution", "uniform")
        if distribution == "normal":
            ms = rng.gauss(latency, jitter)
        elif distribution == "lognormal":
            # latency_ms is the median; a heavy right tail, as real service latency has.
            ms = latency * math.exp(rng.gauss(0.0, float(attributes.get("sigma", 0.5))))
        else:
            ms = latency + rng.uniform(-jitter, jitter)
        return min(max(0.0, ms), MAX_MS) / 1000

    @operation
    def set_toxic(self, toxic: Toxic) -> None:
        self.toxics[toxic.name] = toxic

    @operation
    def remove_toxic(self, name: str) -> None:
        if self.toxics.pop(name, None) is None:
            raise NotFound(f"toxic {name} not found")

    @operation
    def set_profile(self, profile: FaultProfile) -> None:
        """Applies to publishes that start from now on; running ones keep the holds they computed."""
        self.profile = profile
        self.toxics = {t.name: t for t in profile.toxics}

    # -- users: routing status and presence ------------------------------------

    def _agent(self, user_id: str) -> Agent:
        agent = self.agents.get(user_id)
        if agent is None:
            raise NotFound(f"User {user_id} not found", details=[{"entityId": user_id, "entityName": "user"}])
        return agent

    @operation
    def list_users(self) -> list[Agent]:
        return list(self.agents.values())

    @operation
    def get_routing_status(self, user_id: str) -> dict[str, object]:
        return self._agent(user_id).routing_to_api()

    @operation
    def put_routing_status(self, user_id: str, status: Any) -> dict[str, object]:
        """A manual change: it never takes the publish lock."""
        agent = self._agent(user_id)
        if status not in ROUTING_STATUSES:
            raise InvalidValue(
                f"status must be one of {', '.join(ROUTING_STATUSES)}", details=[{"fieldName": "status"}]
            )
        now = self.clock.now()
        agent.routing_status, agent.routing_started = status, now
        self.events.emit(now, f"v2.users.{user_id}.routingStatus", {"routingStatus": agent.routing_to_api()})
        return agent.routing_to_api()

    def _check_source(self, source_id: str) -> str:
        if source_id.lower() != PRESENCE_SOURCE:
            raise NotFound(f"Presence source {source_id} not found")
        return "PURECLOUD"

    @operation
    def get_presence(self, user_id: str, source_id: str) -> dict[str, object]:
        source = self._check_source(source_id)
        return self._agent(user_id).presence_to_api(source)

    @staticmethod
    def _parse_presence(body: Any) -> tuple[str | None, str | None]:
        """(system presence, message) from a presence body; validated before anything changes."""
        if not isinstance(body, dict):
            raise InvalidValue("the presence must be an object")
        definition, system = body.get("presenceDefinition"), None
        if definition is not None:
            if not isinstance(definition, dict):
                raise InvalidValue(
                    "presenceDefinition must be an object", details=[{"fieldName": "presenceDefinition"}]
                )
            # Only strings can name a presence; anything else (a list, say) is unhashable.
            presence_id, system = definition.get("id"), definition.get("systemPresence")
            if isinstance(presence_id, str):
                system = PRESENCE_BY_ID.get(presence_id)
            if not isinstance(system, str) or system not in PRESENCE_DEFINITIONS:
                raise InvalidValue(
                    "presenceDefinition does not name a known presence",
                    details=[{"fieldName": "presenceDefinition.id"}],
                )
        message = body.get("message")
        if message is not None:
            _require_str(message, "message", max_length=1024, allow_empty=True)
        if definition is None and message is None:
            raise InvalidValue("nothing to change: give presenceDefinition or message")
        return system, message

    def _set_presence(self, agent: Agent, source: str, system: str | None, message: str | None) -> dict[str, object]:
        if system is not None:
            agent.system_presence = system
            if system in ("Available", "On Queue"):
                # An agent who makes themselves available by hand is no longer reserved.
                agent.scenario_status = SCENARIO_AVAILABLE
        if message is not None:
            agent.presence_message = message
        agent.presence_modified = self.clock.now()
        presence = agent.presence_to_api(source)
        self.events.emit(agent.presence_modified, f"v2.users.{agent.id}.presence", presence)
        return presence

    @operation
    def patch_presence(self, user_id: str, source_id: str, body: Any) -> dict[str, object]:
        """A manual change: it never takes the publish lock."""
        source = self._check_source(source_id)
        agent = self._agent(user_id)
        return self._set_presence(agent, source, *self._parse_presence(body))

    @operation
    def put_presences_bulk(self, body: Any, source_id: str = PRESENCE_SOURCE) -> list[dict[str, object]]:
        source = self._check_source(source_id)
        if not isinstance(body, list):
            raise InvalidValue("the body must be a list of user presences")
        if len(body) > MAX_BULK_PRESENCES:
            raise InvalidValue(f"at most {MAX_BULK_PRESENCES} user presences may be updated at once")
        changes = []
        for item in body:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise InvalidValue("each entry needs the user's id", details=[{"fieldName": "id"}])
            changes.append((self._agent(item["id"]), *self._parse_presence(item)))
        # All entries were valid: apply them together, so a bad entry never leaves half a batch applied.
        return [self._set_presence(agent, source, system, message) for agent, system, message in changes]

    # -- conversations ----------------------------------------------------------

    @operation
    def create_call(self, body: Any) -> dict[str, object]:
        if not isinstance(body, dict):
            raise InvalidValue("the body must be an object")
        user_id = _require_str(body.get("callUserId"), "callUserId")
        self._agent(user_id)
        phone = body.get("phoneNumber", "+13125550100")
        _require_str(phone, "phoneNumber", max_length=64)
        now = self.clock.now()
        conversation = Conversation(
            self.new_id(),
            now,
            [Participant(self.new_id(), "customer", None), Participant(self.new_id(), "agent", user_id)],
            now,
        )
        self.conversations[conversation.id] = conversation
        self._created()
        return {"id": conversation.id, "selfUri": f"/api/v2/conversations/{conversation.id}"}

    def _conversation(self, conversation_id: str) -> Conversation:
        conversation = self.conversations.get(conversation_id)
        if self._archive is not None:
            if conversation is None:
                conversation = self._archive.conversation(conversation_id)
                if conversation is not None:
                    self.conversations[conversation.id] = conversation
            else:
                self.conversations.move_to_end(conversation_id)  # type: ignore[attr-defined]
            if conversation is not None:
                conversation.touched = self.clock.now()
        if conversation is None:
            raise NotFound(f"Conversation {conversation_id} not found")
        return conversation

    @operation
    def get_conversation(self, conversation_id: str) -> dict[str, object]:
        return self._conversation(conversation_id).to_api()

    @operation
    def patch_participant_attributes(self, conversation_id: str, participant_id: str, body: Any) -> None:
        participant = self._conversation(conversation_id).participant(participant_id)
        if participant is None:
            raise NotFound(f"Participant {participant_id} not found")
        if not isinstance(body, dict) or "attributes" not in body:
            raise InvalidValue('the body must be {"attributes": {...}}', details=[{"fieldName": "attributes"}])
        participant.attributes.update(_string_map(body["attributes"], "attributes"))

    # -- script engine (mock-only) ---------------------------------------------

    def _session(self, session_id: str) -> ScriptSession:
        session = self.sessions.get(session_id)
        if self._archive is not None:
            if session is None:
                session = self._archive.session(session_id)
                if session is not None:
                    self._wake(session)
            else:
                self.sessions.move_to_end(session_id)  # type: ignore[attr-defined]
            if session is not None:
                session.touched = self.clock.now()
        if session is None:
            raise NotFound(f"Script session {session_id} not found", details=[{"entityId": session_id}])
        return session

    # -- the archive: idle interactions leave memory, the ground truth keeps them -----------

    def _created(self) -> None:
        if self._archive is not None:
            self._created_since_archiving += 1
            if self._created_since_archiving >= ARCHIVE_EVERY:
                self._archive_idle(self.clock.now())

    def _archive_idle(self, now: float) -> None:
        """Move what nobody touched for `archive_after_seconds` to the archive, oldest first.

        Never while a publish holds or will hold anyone: a clobber's snapshot and restore, and an
        invalidation, then see every session of the agent in memory (see _wake for the ones that
        were archived before the publish began).
        """
        if self._archive is None or self.locks.windows():
            return
        self._created_since_archiving = 0
        cutoff = now - self.settings.archive_after_seconds
        sessions = list(takewhile(lambda s: s.touched <= cutoff, self.sessions.values()))
        conversations = list(takewhile(lambda c: c.touched <= cutoff, self.conversations.values()))
        if not sessions and not conversations:
            return
        self._archive.put(sessions, conversations)
        for session in sessions:
            del self.sessions[session.id]
            del self._sessions_by_agent[session.agent_id][session.id]
        for conversation in conversations:
            del self.conversations[conversation.id]

    def _wake(self, session: ScriptSession) -> None:
        """Bring an archived session back into memory.

        A clobber hold that began while it was archived must restore what it held then, which is
        what the archive holds now: nothing can change a session that is not in memory.
        """
        self.sessions[session.id] = session
        self._sessions_by_agent.setdefault(session.agent_id, {})[session.id] = session
        for hold, snapshot in self._snapshots.items():
            if hold.agent_id == session.agent_id:
                snapshot.setdefault(session.id, (dict(session.variables), session.version))

    def close(self) -> None:
        """Delete the archive (a reset built a new org); requests still on this one see an empty org."""
        with self.lock:
            if self._archive is not None:
                self._archive.close()
                self._archive = None

    def _guard(self, session: ScriptSession, *, writing: bool) -> float | None:
        """Apply the publish lock to one session step; returns when a v1 caller may be answered."""
        now = self.clock.now()
        hold = self.locks.active(session.agent_id, now)
        if hold is not None and hold.toxic:
            if hold.kind == "reject":
                raise SessionLocked(session.id, session.agent_id, hold.operation_id, hold.end)
            if hold.kind == "serialize":
                return hold.end
        if writing and not session.attached:
            raise SessionInvalidated(session.id)
        return None

    @operation
    def create_script_session(self, body: Any) -> dict[str, object]:
        if not isinstance(body, dict):
            raise InvalidValue("the body must be an object")
        user_id = _require_str(body.get("userId"), "userId")
        conversation_id = _require_str(body.get("conversationId"), "conversationId")
        self._agent(user_id)
        conversation = self._conversation(conversation_id)
        if not any(p.user_id == user_id for p in conversation.participants):
            raise InvalidValue(f"user {user_id} is not a participant of conversation {conversation_id}")
        now = self.clock.now()
        session = ScriptSession(self.new_id(), user_id, conversation_id, conversation.customer().id, now, touched=now)
        self.sessions[session.id] = session
        self._sessions_by_agent.setdefault(user_id, {})[session.id] = session
        self._created()
        return session.to_api()

    @operation
    def get_script_session(self, session_id: str) -> Waited:
        session = self._session(session_id)
        ready_at = self._guard(session, writing=False)
        return Waited(session.to_api(), ready_at)

    @operation
    def set_script_variable(self, session_id: str, name: str, body: Any) -> Waited:
        """Set Data: the write the field report loses."""
        session = self._session(session_id)
        _require_str(name, "name", max_length=MAX_VARIABLE_NAME)
        if not isinstance(body, dict):
            raise InvalidValue('the body must be {"value": "..."}')
        value = _require_str(body.get("value"), "value", max_length=MAX_VARIABLE_VALUE, allow_empty=True)
        expected = body.get("expectedVersion")
        if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
            raise InvalidValue("expectedVersion must be an integer", details=[{"fieldName": "expectedVersion"}])
        ready_at = self._guard(session, writing=True)
        if expected is not None and expected != session.version:
            raise Conflict(f"Script session {session_id} is at version {session.version}, not {expected}")
        session.variables[name] = value
        session.version += 1
        return Waited({"sessionId": session.id, "name": name, "value": value, "version": session.version}, ready_at)

    @operation
    def evaluate_script_branch(self, session_id: str, body: Any) -> Waited:
        """The script's decision: personalized when the variable is visible and non-empty."""
        session = self._session(session_id)
        if not isinstance(body, dict):
            raise InvalidValue('the body must be {"variable": "..."}')
        variable = _require_str(body.get("variable"), "variable", max_length=MAX_VARIABLE_NAME)
        ready_at = self._guard(session, writing=False)
        value = session.variables.get(variable) if session.attached else None
        branch = PERSONALIZED if value else DEFAULT
        if value:
            session.log_personalized_answer(variable, value)
        return Waited({"sessionId": session.id, "variable": variable, "value": value, "branch": branch}, ready_at)

    @operation
    def attach_script_session(self, session_id: str) -> dict[str, object]:
        session = self._session(session_id)
        hold = self.locks.active(session.agent_id, self.clock.now())
        if hold is not None and hold.toxic and hold.kind == "reject":
            raise SessionLocked(session.id, session.agent_id, hold.operation_id, hold.end)
        session.attached = True
        return session.to_api()

    @operation
    def put_script_data(self, body: Any) -> Waited:
        """The seed's bulk variable update: per-item results, so one locked session fails alone."""
        if not isinstance(body, dict) or not isinstance(body.get("updates"), list):
            raise InvalidValue('the body must be {"updates": [...]}', details=[{"fieldName": "updates"}])
        updates = body["updates"]
        limit = self.settings.script_data_chunk_limit
        if len(updates) > limit:
            raise InvalidValue(f"at most {limit} updates per request", details=[{"fieldName": "updates"}])
        results: list[dict[str, Any]] = []
        ready_at: float | None = None
        for item in updates:
            if not isinstance(item, dict):
                raise InvalidValue("each update must be an object", details=[{"fieldName": "updates"}])
            _require_str(item.get("sessionId"), "sessionId")
            _string_map(item.get("variables"), "variables")
        for item in updates:
            try:
                session = self._session(item["sessionId"])
                waited = self._guard(session, writing=True)
            except (NotFound, SessionLocked, SessionInvalidated) as error:
                results.append(
                    {
                        "sessionId": item["sessionId"],
                        "status": error.status,
                        "code": error.code,
                        "message": error.message,
                    }
                )
                continue
            if waited is not None:
                ready_at = max(ready_at or waited, waited)
            session.variables.update(item["variables"])
            session.version += 1
            results.append({"sessionId": session.id, "status": 200, "version": session.version})
        return Waited({"results": results}, ready_at)

    # -- workforce management -------------------------------------------------

    def _business_unit(self, bu_id: str) -> BusinessUnit:
        bu = self.business_units.get(bu_id)
        if bu is None:
            raise NotFound(f"Business unit {bu_id} not found")
        return bu

    @operation
    def list_business_units(self) -> list[dict[str, Any]]:
        return [bu.to_api() for bu in self.business_units.values()]

    @operation
    def get_business_unit(self, bu_id: str) -> dict[str, Any]:
        bu = self._business_unit(bu_id)
        body = bu.to_api()
        body["settings"] = {"startDayOfWeek": "Monday", "timeZone": "America/Chicago"}
        body["managementUnits"] = [{"id": mu.id, "name": mu.name} for mu in bu.management_units]
        return body

    @staticmethod
    def _week(week_id: str) -> str:
        if not WEEK_ID.match(week_id):
            raise InvalidValue("weekId must be a date in yyyy-MM-dd form", details=[{"fieldName": "weekId"}])
        try:
            date.fromisoformat(week_id)
        except ValueError:
            raise InvalidValue(f"weekId {week_id} is not a real date", details=[{"fieldName": "weekId"}]) from None
        return week_id

    @operation
    def create_schedule(self, bu_id: str, week_id: str, body: Any) -> dict[str, Any]:
        self._business_unit(bu_id)
        self._week(week_id)
        if not isinstance(body, dict):
            raise InvalidValue("the body must be an object")
        description = _require_str(body.get("description", ""), "description", allow_empty=True)
        week_count = body.get("weekCount", 1)
        if not isinstance(week_count, int) or isinstance(week_count, bool) or not 1 <= week_count <= 6:
            raise InvalidValue("weekCount must be an integer from 1 to 6", details=[{"fieldName": "weekCount"}])
        schedule = Schedule(self.new_id(), bu_id, week_id, week_count, description, self.clock.now())
        self.schedules[schedule.id] = schedule
        return schedule.to_api()

    def _schedule(self, bu_id: str, week_id: str, schedule_id: str) -> Schedule:
        self._business_unit(bu_id)
        self._week(week_id)
        schedule = self.schedules.get(schedule_id)
        if schedule is None or schedule.business_unit_id != bu_id or schedule.week_date != week_id:
            raise NotFound(f"Schedule {schedule_id} not found")
        return schedule

    @operation
    def get_schedule(self, bu_id: str, week_id: str, schedule_id: str) -> dict[str, Any]:
        return self._schedule(bu_id, week_id, schedule_id).to_api()

    @operation
    def create_schedule_upload(self, bu_id: str, week_id: str, schedule_id: str, body: Any) -> UploadSlot:
        schedule = self._schedule(bu_id, week_id, schedule_id)
        length = body.get("contentLengthBytes") if isinstance(body, dict) else None
        if not isinstance(length, int) or isinstance(length, bool) or not 0 < length <= 100_000_000:
            raise InvalidValue(
                "contentLengthBytes must be a positive integer", details=[{"fieldName": "contentLengthBytes"}]
            )
        # The key is the upload URL's only credential: a secret, never an id the seed would predict.
        slot = UploadSlot(secrets.token_urlsafe(UPLOAD_KEY_BYTES), schedule.id, length)
        self.uploads[slot.key] = slot
        return slot

    def _open_upload(self, upload_key: str) -> UploadSlot:
        """A live upload slot: issued, not yet uploaded to (a key takes one upload), not yet used."""
        slot = self.uploads.get(upload_key)
        if slot is None:
            raise NotFound("Upload not found")
        if slot.body is not None:
            raise Conflict("This upload URL was already uploaded to: an upload key takes one upload")
        return slot

    @operation
    def upload_length(self, upload_key: str) -> int:
        """The contentLengthBytes a live upload was issued for; checked before its body is read."""
        return self._open_upload(upload_key).content_length

    @operation
    def receive_upload(self, upload_key: str, document: Any) -> None:
        slot = self._open_upload(upload_key)
        if not isinstance(document, dict):
            raise InvalidValue("the uploaded schedule must be a JSON object")
        if not isinstance(document.get("published", False), bool):
            raise InvalidValue("published must be a boolean", details=[{"fieldName": "published"}])
        version = document.get("metadata", {}).get("version") if isinstance(document.get("metadata"), dict) else None
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidValue("metadata.version is required", details=[{"fieldName": "metadata.version"}])
        slot.body = document

    @operation
    def process_schedule_update(self, bu_id: str, week_id: str, schedule_id: str, body: Any) -> dict[str, Any]:
        schedule = self._schedule(bu_id, week_id, schedule_id)
        key = body.get("uploadKey") if isinstance(body, dict) else None
        _require_str(key, "uploadKey")
        slot = self.uploads.get(key)
        if slot is None or slot.schedule_id != schedule.id:
            raise InvalidValue(
                f"uploadKey {key} does not belong to schedule {schedule_id}", details=[{"fieldName": "uploadKey"}]
            )
        if slot.body is None:
            raise InvalidValue("nothing was uploaded for this uploadKey", details=[{"fieldName": "uploadKey"}])
        if slot.body["metadata"]["version"] != schedule.version:
            raise Conflict(
                f"Schedule {schedule_id} is at version {schedule.version}; the upload was made against {slot.body['metadata']['version']}"
            )
        del self.uploads[key]
        operation = self._start_update(schedule, publishes=bool(slot.body.get("published")))
        return operation.to_api()

    @operation
    def publish_schedule(self, bu_id: str | None = None) -> PublishOperation:
        """A shortcut for in-process drivers: create a schedule and publish it at once."""
        bu = self._business_unit(bu_id) if bu_id else next(iter(self.business_units.values()))
        schedule = Schedule(self.new_id(), bu.id, "2026-11-23", 1, "in-process publish", self.clock.now())
        self.schedules[schedule.id] = schedule
        return self._start_update(schedule, publishes=True)

    @operation
    def get_operation(self, operation_id: str, bu_id: str | None = None) -> dict[str, Any]:
        if bu_id is not None:
            self._business_unit(bu_id)
        op = self.operations.get(operation_id)
        if op is None or (bu_id is not None and op.business_unit_id != bu_id):
            raise NotFound(f"Operation {operation_id} not found")
        return op.to_api(self.schedules.get(op.schedule_id))

    @operation
    def list_operations(self, bu_id: str) -> list[dict[str, Any]]:
        self._business_unit(bu_id)
        return [op.to_api() for op in self.operations.values() if op.business_unit_id == bu_id]

    def _start_update(self, schedule: Schedule, *, publishes: bool) -> PublishOperation:
        lock = self.profile.publish
        now = self.clock.now()
        t0 = now + lock.start_delay_ms / 1000
        op = PublishOperation(self.new_id(), schedule.business_unit_id, schedule.id, t0, t0, publishes)
        self.operations[op.id] = op
        if publishes:
            self._plan_holds(op, schedule.business_unit_id)
        self.timeline.schedule(op.completes_at, partial(self._complete_update, op))
        return op

    def _plan_holds(self, op: PublishOperation, bu_id: str) -> None:
        """Compute every hold interval now; requests later compare them with clock.now()."""
        lock = self.profile.publish
        rng = random.Random(f"publish:{self.settings.seed}:{self._publish_count}")
        self._publish_count += 1
        kind = "serialize" if lock.platform_version == "v1" else lock.kind
        members = [a for a in self.agents.values() if a.business_unit_id == bu_id]
        hold_s, interval_s = lock.hold_ms / 1000, lock.interval_ms / 1000
        for batch_index, first in enumerate(range(0, len(members), lock.batch_size)):
            start = op.started + batch_index * interval_s
            end = start + hold_s
            op.batches.append((start, end))
            op.completes_at = max(op.completes_at, end)
            for agent in members[first : first + lock.batch_size]:
                hold = Hold(agent.id, op.id, start, end, rng.random() < lock.toxicity, kind)
                self.locks.add(hold)
                self.timeline.schedule(start, partial(self._hold_began, hold))
                self.timeline.schedule(end, partial(self._hold_ended, hold))
                op.agents_held += 1

    def _hold_began(self, hold: Hold, at: float) -> None:
        if hold.toxic and hold.kind == "clobber":
            self._snapshots[hold] = {
                s.id: (dict(s.variables), s.version) for s in self._sessions_by_agent.get(hold.agent_id, {}).values()
            }

    def _hold_ended(self, hold: Hold, at: float) -> None:
        agent = self.agents[hold.agent_id]
        agent.scenario_status = SCENARIO_RESERVED
        if hold.toxic and hold.kind == "clobber":
            snapshot = self._snapshots.pop(hold, {})
            for session in self._sessions_by_agent.get(hold.agent_id, {}).values():
                session.variables, session.version = snapshot.get(session.id, ({}, 0))
                session.variables = dict(session.variables)
        if hold.toxic and hold.kind == "invalidate":
            for session in self._sessions_by_agent.get(hold.agent_id, {}).values():
                session.attached = False
            if self._archive is not None:
                self._archive.detach_agent(hold.agent_id)
        self.locks.remove(hold)

    def _complete_update(self, op: PublishOperation, at: float) -> None:
        schedule = self.schedules[op.schedule_id]
        op.status = "Complete"
        schedule.version += 1
        if op.publishes:
            schedule.published = True
        self.events.emit(
            at,
            f"v2.workforcemanagement.businessunits.{op.business_unit_id}.schedules",
            {"status": "Complete", "operationId": op.id, "eventType": "Update", "result": schedule.to_api()},
        )

    # -- admin (mock-only) ----------------------------------------------------

    def ground_truth(self) -> dict[str, dict[str, Any]]:
        """Every session's stored variables, whether or not a client could see them."""
        return dict(self.truth_entries())

    @operation
    def truth_entries(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The ground truth as (session id, entry) pairs, memory first, then the archive.

        Both are captured now, under the lock, so they agree; the archive's rows are then read
        lazily, so a long run's truth is streamed rather than built in memory.
        """
        awake = [
            (
                s.id,
                truth_entry(s.agent_id, s.conversation_id, dict(s.variables), s.version, s.attached, s.evaluate_log()),
            )
            for s in self.sessions.values()
        ]
        if self._archive is None:
            return iter(awake)
        return chain(awake, self._archive.truth({sid for sid, _ in awake}))

    @operation
    def lock_windows(self) -> list[dict[str, Any]]:
        return [
            {
                "operationId": op.id,
                "startedEpochMs": int(op.started * 1000),
                "completesEpochMs": int(op.completes_at * 1000),
                "status": op.status,
                "batches": [[int(a * 1000), int(b * 1000)] for a, b in op.batches],
            }
            for op in self.operations.values()
            if op.publishes
        ]

    @operation
    def memory_counts(self) -> dict[str, int]:
        """How many interactions are in memory and how many session rows the archive took."""
        return {
            "sessionsInMemory": len(self.sessions),
            "conversationsInMemory": len(self.conversations),
            "sessionsArchived": self._archive.archived if self._archive else 0,
        }

    @operation
    def settle(self) -> None:
        """Apply every event due by now (each operation does this too)."""
