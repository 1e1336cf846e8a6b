"""The paper documents a notice asks the units for (推荐函, 汇总表, the printed application), with copy counts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from models.strict import Strict


class PaperDocument(Strict):
    """One document of the paper checklist: what it is, who produces it, how many copies, the notice's sentence."""

    kind: Literal["letter", "summary", "application", "other"]
    name: str = Field(min_length=1)
    by: Literal["applicant", "unit_admin", "recommender"] = "recommender"
    copies: int = Field(default=1, ge=1)
    seed: str = Field(min_length=1)
    note: str | None = None
