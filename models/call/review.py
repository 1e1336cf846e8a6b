"""What a call file says about expert review, decision, publicity and contract (`review:`), every part defaulted."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import Field, model_validator

from models.strict import Slug, Strict

Aggregation = Literal["mean", "trimmed_mean", "zscore"]


class Criterion(Strict):
    """One line of a score sheet: a weight and an integer scale; a comment may be required."""

    id: Slug
    name: str
    weight: float = Field(gt=0)
    scale_max: int = Field(default=10, ge=1)
    comment_required: bool = False


DEFAULT_SHEET: tuple[Criterion, ...] = (
    Criterion(id="innovation", name="创新性", weight=0.3),
    Criterion(id="feasibility", name="可行性", weight=0.3, comment_required=True),
    Criterion(id="team", name="研究基础与团队", weight=0.2),
    Criterion(id="benefit", name="预期效益", weight=0.2),
)


class DefenceDef(Strict):
    """A stage heard as a defence (答辩): slots of `slot_minutes` between `day_start` and `day_end` on `days` (none
    given: consecutive working days from the first that leaves the materials deadline after the opening), a panel
    of `panel` experts per slot, materials due at the end of the `materials_working_days`-th working day before the
    slot's day. `order`: `category` hears each category's applications together, best-ranked first; `rank` by score
    across categories."""

    slot_minutes: int = Field(ge=5, le=240)
    days: tuple[date, ...] = ()
    day_start: time = time(9)
    day_end: time = time(17, 30)
    panel: int = Field(default=5, ge=1)
    materials_working_days: int = Field(default=2, ge=0)
    order: Literal["category", "rank"] = "category"

    @model_validator(mode="after")
    def _day(self) -> DefenceDef:
        if self.day_start.tzinfo is not None or self.day_end.tzinfo is not None:
            raise ValueError("day_start and day_end are clock times of the call's timezone, without an offset")
        if self.per_day() < 1:
            raise ValueError(f"no {self.slot_minutes}-minute slot fits between day_start "
                             f"{self.day_start:%H:%M} and day_end {self.day_end:%H:%M}")
        if list(self.days) != sorted(set(self.days)):
            raise ValueError("days: list each day once, in order")
        return self

    def per_day(self) -> int:
        """Slots in one day."""
        span = datetime.combine(date.min, self.day_end) - datetime.combine(date.min, self.day_start)
        return int(span // timedelta(minutes=self.slot_minutes))


class StageDef(Strict):
    """One expert-review phase run as a stage: its own pool, k reviewers, task deadline and cut-off."""

    pool: Slug = "expert"  # the experts' stage label in the registry (`Expert.stages`)
    k: int = Field(default=3, ge=1)
    min_reviews: int = Field(default=3, ge=1)
    task_working_days: int = Field(default=5, ge=1)
    match_level: int = Field(default=2, ge=1, le=3)
    advance_ratio: float = Field(default=1.0, gt=0, le=1)  # share of each category that goes on to the next stage
    cutoff: float = Field(default=0.0, ge=0, le=100)  # a score below it does not go on, whatever the ratio
    defence: DefenceDef | None = None  # heard as a defence (答辩): slots, a panel per slot, materials before it


class ReviewDef(Strict):
    """Assignment, score sheet, aggregation, ranking, publicity and contract rules; `stages` by phase id."""

    stages: dict[str, StageDef] = Field(default_factory=dict)
    conflict_years: int = Field(default=3, ge=0)
    same_recommender_conflict: bool = False
    sheet: tuple[Criterion, ...] = DEFAULT_SHEET
    aggregation: Aggregation = "mean"
    trim: int = Field(default=1, ge=0)  # reviews dropped at each end by the trimmed mean
    outlier_points: float = Field(default=25.0, gt=0)  # a review this far from the application's mean is flagged
    reserve: int = Field(default=2, ge=0)  # 候补: ranked candidates per category kept for promotion
    max_per_unit: int | None = Field(default=None, ge=1)  # funded projects per lead unit and category
    investigate_working_days: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _sheet(self) -> ReviewDef:
        ids = [c.id for c in self.sheet]
        if not ids or len(set(ids)) != len(ids):
            raise ValueError("sheet: give at least one criterion, each id once")
        return self

    def stage(self, phase_id: str) -> StageDef:
        return self.stages.get(phase_id, StageDef())
