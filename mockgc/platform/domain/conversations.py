"""The conversations area: calls between a customer and an agent, and their participants' attributes."""

from __future__ import annotations

from collections.abc import Callable

from mockgc.platform.domain.context import OrgContext, operation
from mockgc.platform.domain.errors import NotFound
from mockgc.platform.domain.interactions import Conversation, Participant
from mockgc.platform.domain.store import InteractionStore
from mockgc.platform.domain.users import Users


class Conversations:
    def __init__(self, ctx: OrgContext, store: InteractionStore, users: Users) -> None:
        self.ctx = ctx
        self.store = store
        self.users = users

    @operation
    def create_call(self, user_id: str) -> Conversation:
        """A call from a customer to the agent `user_id`: two participants."""
        called = self.users.agent(user_id)
        now, new_id = self.ctx.clock.now(), self.ctx.new_id
        conversation_id = new_id()
        customer = Participant(new_id(), "customer", None)
        agent = Participant(new_id(), "agent", user_id, name=called.name)
        queue_id = next(iter(called.active_queue_ids()), None)
        conversation = Conversation(conversation_id, now, [customer, agent], now, queue_id)
        self.store.add_conversation(conversation)
        self._announce(conversation)
        return conversation.copy()

    @operation
    def get(self, conversation_id: str) -> Conversation:
        return self.store.conversation(conversation_id).copy()

    @operation
    def patch_attributes(self, conversation_id: str, participant_id: str, attributes: dict[str, str]) -> None:
        """Merge the attributes into the participant's (the generic route answers 202 and no body)."""
        self._merge(conversation_id, participant_id, attributes)

    @operation
    def patch_call_attributes(
        self, conversation_id: str, participant_id: str, attributes: dict[str, str]
    ) -> dict[str, str]:
        """The call-specific route: the same merge, answering the participant's attributes after it."""
        return dict(self._merge(conversation_id, participant_id, attributes))

    def _merge(self, conversation_id: str, participant_id: str, attributes: dict[str, str]) -> dict[str, str]:
        conversation = self.store.conversation(conversation_id)
        participant = conversation.participant(participant_id)
        if participant is None:
            raise NotFound(f"Participant {participant_id} not found")
        participant.attributes.update(attributes)
        self._announce(conversation)
        return participant.attributes

    def _announce(self, conversation: Conversation) -> None:
        """The call as it is now, on each of its users' conversations and conversations.calls topics, and
        on its queue's (the call's model and the conversation's model each)."""
        users = [p.user_id for p in conversation.participants if p.user_id]
        # Built when first read (a snapshot of the conversation as it is now), once for every topic.
        snapshot = conversation.copy()
        call = _once(snapshot.call_event_to_api)
        whole = _once(snapshot.conversation_event_to_api)
        now, emit = self.ctx.clock.now(), self.ctx.events.emit
        for user_id in users:
            emit(now, f"v2.users.{user_id}.conversations.calls", call)
            emit(now, f"v2.users.{user_id}.conversations", whole)
        if conversation.queue_id:
            emit(now, f"v2.routing.queues.{conversation.queue_id}.conversations.calls", call)
            emit(now, f"v2.routing.queues.{conversation.queue_id}.conversations", whole)


def _once(build: Callable[[], dict[str, object]]) -> Callable[[], dict[str, object]]:
    """`build`, called at most once however many events share it."""
    built: list[dict[str, object]] = []

    def body() -> dict[str, object]:
        if not built:
            built.append(build())
        return built[0]

    return body
