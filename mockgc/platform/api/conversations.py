"""Conversations: create a call, read it, patch a participant's attributes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, RootModel

from mockgc.platform.api.base import MAX_VARIABLE_NAME, MAX_VARIABLE_VALUE, Answer, Body, DateTime, NoBody, Route

VariableName = Annotated[str, Field(min_length=1, max_length=MAX_VARIABLE_NAME)]
VariableValue = Annotated[str, Field(max_length=MAX_VARIABLE_VALUE)]
Variables = dict[VariableName, VariableValue]


class CreateCallBody(Body):
    callUserId: Annotated[str, Field(min_length=1, max_length=1024)]
    phoneNumber: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class AttributesBody(Body):
    attributes: Variables


class CreateCallResponse(Answer):
    id: str
    selfUri: str


class ParticipantCall(Answer):
    """A participant's call within a Conversation (the SDK's Call)."""

    id: str
    state: str
    direction: str
    connectedTime: DateTime


class AttributeMap(RootModel[dict[str, str]]):
    """A participant's attributes, name to value. Its own schema, so that a generator's name for an inline
    map on Participant (ParticipantAttributes) never collides with the SDK's ParticipantAttributes
    answer below."""


class Participant(Answer):
    id: str
    name: str
    startTime: DateTime
    connectedTime: DateTime
    purpose: str
    attributes: AttributeMap
    calls: list[ParticipantCall]
    userId: str | None = None
    userUri: str | None = None


class Conversation(Answer):
    id: str
    startTime: DateTime
    state: str
    participants: list[Participant]
    selfUri: str


class EntityRef(Answer):
    id: str
    name: str
    selfUri: str


class CallParticipant(Answer):
    """The SDK's CallMediaParticipant: the call's state is the participant's own."""

    id: str
    name: str
    startTime: DateTime
    connectedTime: DateTime
    purpose: str
    state: str
    direction: str
    held: bool
    muted: bool
    attributes: dict[str, str]
    user: EntityRef | None = None


class CallConversation(Answer):
    id: str
    participants: list[CallParticipant]
    recordingState: str
    selfUri: str


class ParticipantAttributes(Answer):
    attributes: dict[str, str]


CONVERSATION = "/api/v2/conversations/{conversation_id}"
CALL = "/api/v2/conversations/calls/{conversation_id}"

ROUTES = (
    Route(
        "POST",
        "/api/v2/conversations/calls",
        "postConversationsCalls",
        "Place a call to an agent",
        "real",
        {200: CreateCallResponse},
        CreateCallBody,
    ),
    Route("GET", CALL, "getConversationsCall", "A call and its participants", "real", {200: CallConversation}),
    Route(
        "PATCH",
        CALL + "/participants/{participant_id}/attributes",
        "patchConversationsCallParticipantAttributes",
        "Set a call participant's attributes; the answer is all of them",
        "real",
        {200: ParticipantAttributes},
        AttributesBody,
    ),
    Route("GET", CONVERSATION, "getConversation", "A conversation and its participants", "real", {200: Conversation}),
    Route(
        "PATCH",
        CONVERSATION + "/participants/{participant_id}/attributes",
        "patchConversationParticipantAttributes",
        "Set a participant's attributes",
        "real",
        {202: NoBody},
        AttributesBody,
    ),
)
