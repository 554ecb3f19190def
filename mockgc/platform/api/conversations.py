"""Conversations: create a call, read it, patch a participant's attributes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mockgc.platform.api.base import MAX_VARIABLE_NAME, MAX_VARIABLE_VALUE, Answer, Body, NoBody, Route

VariableName = Annotated[str, Field(min_length=1, max_length=MAX_VARIABLE_NAME)]
VariableValue = Annotated[str, Field(max_length=MAX_VARIABLE_VALUE)]
Variables = dict[VariableName, VariableValue]


class CreateCallBody(Body):
    callUserId: Annotated[str, Field(min_length=1, max_length=1024)]
    phoneNumber: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class AttributesBody(Body):
    attributes: Variables


class CallReference(Answer):
    id: str
    selfUri: str


class Participant(Answer):
    id: str
    purpose: str
    attributes: dict[str, str]
    userId: str | None = None


class Conversation(Answer):
    id: str
    startTime: str
    participants: list[Participant]
    selfUri: str


CONVERSATION = "/api/v2/conversations/{conversation_id}"

ROUTES = (
    Route(
        "POST",
        "/api/v2/conversations/calls",
        "postConversationsCalls",
        "Place a call to an agent",
        "real",
        {200: CallReference},
        CreateCallBody,
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
