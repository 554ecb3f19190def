"""Mock-only script-engine sessions, and the seed's bulk script-data update."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mockgc.platform.api.base import MAX_VARIABLE_NAME, MAX_VARIABLE_VALUE, Answer, Body, Route

Id = Annotated[str, Field(min_length=1, max_length=1024)]
VariableName = Annotated[str, Field(min_length=1, max_length=MAX_VARIABLE_NAME)]
VariableValue = Annotated[str, Field(max_length=MAX_VARIABLE_VALUE)]


class NewSessionBody(Body):
    userId: Id
    conversationId: Id


class WriteBody(Body):
    value: VariableValue
    expectedVersion: int | None = None


class EvaluateBody(Body):
    variable: VariableName


class VariableUpdateBody(Body):
    sessionId: Id
    variables: dict[VariableName, VariableValue]


class ScriptDataBody(Body):
    updates: list[VariableUpdateBody]


class Session(Answer):
    id: str
    userId: str
    conversationId: str
    participantId: str
    variables: dict[str, str]
    version: int
    attached: bool
    selfUri: str


class Write(Answer):
    sessionId: str
    name: str
    value: str
    version: int


class Evaluation(Answer):
    sessionId: str
    variable: str
    value: str | None
    branch: str


class UpdateResult(Answer):
    sessionId: str
    status: int
    version: int | None = None
    code: str | None = None
    message: str | None = None


class UpdateResults(Answer):
    results: list[UpdateResult]


SESSION = "/api/v2/scripts/sessions/{session_id}"

ROUTES = (
    Route(
        "POST",
        "/api/v2/scripts/sessions",
        "postScriptsSession",
        "Create an interaction's script session",
        "mock-only",
        {201: Session},
        NewSessionBody,
        errors=(409,),
    ),
    Route("GET", SESSION, "getScriptsSession", "Read a script session", "mock-only", {200: Session}, errors=(409,)),
    Route(
        "PUT",
        SESSION + "/variables/{name}",
        "putScriptsSessionVariable",
        "Set Data: write one variable",
        "mock-only",
        {200: Write},
        WriteBody,
        errors=(409,),
    ),
    Route(
        "POST",
        SESSION + "/evaluate",
        "postScriptsSessionEvaluate",
        "Evaluate the branch on a variable",
        "mock-only",
        {200: Evaluation},
        EvaluateBody,
        errors=(409,),
    ),
    Route(
        "POST",
        SESSION + "/attach",
        "postScriptsSessionAttach",
        "Re-attach an invalidated session",
        "mock-only",
        {200: Session},
        errors=(409,),
    ),
    Route(
        "PUT",
        "/api/v2/analytics/script-data",
        "putAnalyticsScriptData",
        "The seed's bulk script-data update",
        "mock-only",
        {200: UpdateResults},
        ScriptDataBody,
    ),
)
