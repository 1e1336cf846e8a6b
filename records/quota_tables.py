"""Records tables for quotas: who must act on an application at each step, and limits set in the system."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from records.tables import AwareDateTime


class ApplicationPersonRow(SQLModel, table=True):
    """The person an application names for a role (its recommender, say): what a ratio quota counts as received."""

    __tablename__ = "application_people"
    application_id: str = Field(primary_key=True)
    role: str = Field(primary_key=True)
    actor_id: str = Field(index=True)


class QuotaLimitRow(SQLModel, table=True):
    """A quota's limit set by a programme manager (名额以系统显示为准); the call's event records who, when and why."""

    __tablename__ = "quota_limits"
    call_id: str = Field(primary_key=True)
    quota: str = Field(primary_key=True)
    limit: int
    set_at: datetime = Field(sa_type=AwareDateTime)
