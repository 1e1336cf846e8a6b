"""The publicity result of a call as published (one row per call, written once): what the public page shows."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from records.tables import AwareDateTime


class PublicityResultRow(SQLModel, table=True):
    """A call's publicity result (`models.review.publicity.PublicityResult` as JSON), public from `published_at`."""

    __tablename__ = "publicity_results"
    call_id: str = Field(primary_key=True)
    phase: str
    published_at: datetime = Field(sa_type=AwareDateTime)
    result_json: str
