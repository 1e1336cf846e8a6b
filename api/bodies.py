"""Request bodies of the HTTP API; lengths bounded here, content checked once by the service layer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.forms import ApplicationForm
from models.inputs import MAX_ITEMS, MAX_REASON, MAX_TITLE, MAX_VALUE

Short = Annotated[str, Field(max_length=200)]
Reason = Annotated[str, Field(max_length=MAX_REASON + 100)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Apply(Body):
    category: Short
    title: Annotated[str, Field(max_length=MAX_TITLE + 100)]
    flags: Annotated[list[Short], Field(max_length=MAX_ITEMS)] = []
    attachments: Annotated[list[Short], Field(max_length=MAX_ITEMS)] = []
    id: Short | None = None
    form: ApplicationForm | None = None


class Event(Body):
    event: Short
    reason: Reason = ""
    data: Annotated[dict[Short, Annotated[str, Field(max_length=MAX_VALUE)]], Field(max_length=MAX_ITEMS)] = {}
    role: Short | None = None


class WithReason(Body):
    reason: Reason


class Extension(Body):
    window: Short = Field(description="a phase id, or step:<id> for one application's chain step")
    closes: Short = Field(description="ISO 8601 instant with its offset, e.g. 2025-04-10T17:00:00+08:00")
    reason: Reason


class Advance(WithReason):
    until: Short | None = Field(default=None, description="the opened phase then closes (needed when its dated close "
                                                          "passed): ISO 8601 instant with its offset")


class ConditionalExtension(Body):
    closes: Annotated[dict[Short, Short], Field(min_length=1, max_length=MAX_ITEMS,
                                                description="window (a phase id or step:<id>) -> new close")]
    reason: Reason
    created_before: Short | None = Field(default=None, description="only applications created before this instant")
    category: Annotated[list[Short], Field(max_length=MAX_ITEMS)] = []
    cohort: Annotated[list[Short], Field(max_length=MAX_ITEMS)] = []
    recommender: Annotated[list[Short], Field(max_length=MAX_ITEMS)] = []
    unit: Annotated[list[Short], Field(max_length=MAX_ITEMS)] = []


class Revision(Body):
    definition_yaml: Annotated[str, Field(max_length=1_000_000, description="the corrected call file")]
    reason: Reason


class Override(Body):
    rule: Short
    outcome: Literal["pass", "fail"]
    reason: Reason


class QuotaLimit(Body):
    limit: Annotated[int, Field(ge=0, le=1_000_000)]
    reason: Reason


class Decision(Body):
    rule: Short
    outcome: Literal["pass", "fail"]
    reason: Reason
    evidence: Annotated[str, Field(max_length=MAX_VALUE + 100, description="what the decision rests on")]


class PaperCopy(Body):
    code: Annotated[str, Field(max_length=1000, description="the text of the paper copy's QR code")]
    receive: bool = Field(default=False, description="register a matching copy as received")


class ScoreSheet(Body):
    scores: Annotated[dict[Short, Annotated[int, Field(ge=0, le=1000)]], Field(
        min_length=1, max_length=MAX_ITEMS, description="criterion -> whole-number score, one per criterion of the "
                                                        "call's score sheet")]
    comments: Annotated[dict[Short, Annotated[str, Field(max_length=MAX_VALUE)]], Field(
        max_length=MAX_ITEMS, description="criterion -> comment, where the score sheet asks for one")] = {}


class Reopening(Body):
    expert: Short = Field(description="the expert whose submitted review is reopened")
    reason: Reason


class Approval(Body):
    reason: Reason
    role: Literal["committee", "manager"] | None = Field(default=None, description="when the account holds both")
