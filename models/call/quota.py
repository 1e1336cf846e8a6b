"""推荐名额 in a call file: how many applications a recommender (or all of them) may endorse at a step, and how
the limit is given (a count, a ratio of what arrived, a category's planned count, or set in the system)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from models.strict import Slug, Strict


class MinShare(Strict):
    """At least `share` of a quota's places go to applications carrying `flag` (enterprise-led, say): the others
    may take at most the rest of the limit."""

    flag: Slug
    share: float = Field(gt=0, le=1)


class QuotaDef(Strict):
    """One quota at a chain step. The limit is exactly one of: `max` (a count), `ratio` (of the applications the
    recommender received at the step, or all received at it with `scope: call`), `planned` (each category's planned
    count) or `in_system` (名额以系统显示为准: a manager sets it at run time). `scope: actor` counts each recommender
    alone, `scope: call` counts all together (a provincial cap); `category` limits it to one category; `actors`
    makes it a dedicated quota of named institutions, who are then outside the step's general per-actor quotas."""

    id: Slug | None = None
    step: Slug
    max: int | None = Field(default=None, ge=0)
    ratio: float | None = Field(default=None, gt=0, le=1)
    planned: bool = False
    in_system: bool = False
    scope: Literal["actor", "call"] = "actor"
    category: Slug | None = None
    actors: list[str] = Field(default_factory=list)
    min_share: MinShare | None = None
    seed: str | None = None
    note: str | None = None

    @property
    def key(self) -> str:
        """How refusals, reports and the manager's command name the quota: its id, or its step for the plain form."""
        return self.id or self.step

    @model_validator(mode="after")
    def _one_limit(self) -> QuotaDef:
        given = [k for k, v in (("max", self.max), ("ratio", self.ratio), ("planned", self.planned or None),
                                ("in_system", self.in_system or None)) if v is not None]
        if len(given) != 1:
            raise ValueError(f"a quota gives exactly one of max, ratio, planned, in_system (got {given or 'none'})")
        if self.planned and self.category is not None:
            raise ValueError("planned counts are per category already: drop category")
        return self

    def describe(self) -> str:
        """The quota in a few words, for a refusal line."""
        what = ("each category's planned count" if self.planned else f"{self.ratio:.0%} of those received"
                if self.ratio is not None else "set in the system" if self.in_system else "a count")
        who = (", ".join(self.actors) if self.actors else "all recommenders") if self.scope == "call" else (
            "each of " + ", ".join(self.actors) if self.actors else "each recommender")
        extra = f", {self.min_share.flag} at least {self.min_share.share:.0%}" if self.min_share else ""
        return f"{what}, {who}" + (f", category {self.category}" if self.category else "") + extra
