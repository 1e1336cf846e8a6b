"""Tables of expert review: the pool as drawn from, applications as assignment sees them, every assigned pair with
its seed and pool hash, every valid review, and each stage's ranking."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from records.tables import AwareDateTime


class ExpertRow(SQLModel, table=True):
    """One expert of the registry pool (`models.experts.Expert` as JSON); `source` says where it came from."""

    __tablename__ = "experts"
    id: str = Field(primary_key=True)
    expert_json: str
    source: str = "registry"


class ReviewProfileRow(SQLModel, table=True):
    """What assignment and ranking need of an application: units, people, recommender, exclusions, money."""

    __tablename__ = "review_profiles"
    application_id: str = Field(primary_key=True)
    call_id: str = Field(index=True)
    profile_json: str


class AssignmentRow(SQLModel, table=True):
    """One expert assigned to one application in one stage, with the draw that chose them and what became of it."""

    __tablename__ = "assignments"
    call_id: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    application_id: str = Field(primary_key=True)
    expert_id: str = Field(primary_key=True)
    seed: int
    pool_hash: str
    request_hash: str
    status: str  # assigned | submitted | declined | lapsed
    reason: str = ""
    due: datetime = Field(sa_type=AwareDateTime)


class ReviewRow(SQLModel, table=True):
    """A valid review as it stood when the stage was settled."""

    __tablename__ = "reviews"
    call_id: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    application_id: str = Field(primary_key=True)
    expert_id: str = Field(primary_key=True)
    total: float
    scores_json: str
    at: datetime = Field(sa_type=AwareDateTime)
    version: int = 1


class RankingRow(SQLModel, table=True):
    """An application's place after a stage: its score, rank in its category and outcome."""

    __tablename__ = "rankings"
    call_id: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    application_id: str = Field(primary_key=True)
    category: str
    score: float | None = None
    rank: int | None = None
    outcome: str
    reason: str = ""
