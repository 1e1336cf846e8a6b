"""What a call file declares about formal review: its attachments and its rules (a kind, parameters, a sentence)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from models.rules.base import KINDS
from models.strict import Slug, Strict

Condition = Literal[
    "retires_during_term",
    "ethics_needed",
    "in_service_graduate",
    "unit_is_enterprise",
    "international",
    "foreign_degree",
    "cross_field",
    "platform",
    "city_matching",
    "members_outside_units",
]
Stage = Literal["formal_review", "recommendation"]  # where a rule is checked
FORMAL: Stage = "formal_review"
RECOMMENDATION: Stage = "recommendation"


class AttachmentDef(Strict):
    """A required (or optional) attachment: when it is required (flag, condition) and what a file must be."""

    kind: Slug
    name: str
    required: bool = True
    when: Slug | None = None
    condition: Condition | None = None
    media_types: list[str] = Field(default_factory=list)
    max_bytes: int | None = Field(default=None, ge=1)
    date_after: date | None = None
    covers_term: bool = False
    max_count: int | None = Field(default=None, ge=1)
    seed: str | None = None


class RuleDef(Strict):
    """An eligibility rule: its id, a kind implemented in models/rules, the kind's parameters, the notice sentence,
    and where it is checked (`at`): at formal review, or at the recommender's step (不予推荐: the unit shall not
    recommend)."""

    id: Slug
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    seed: str = Field(min_length=1)
    note: str | None = None
    categories: list[Slug] = Field(default_factory=list)
    when: Slug | None = None
    at: Stage = FORMAL

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        """`at` is left out where it is the default, so the definition (and its version hash) of every file written
        before it existed is unchanged."""
        out: dict[str, Any] = handler(self)
        if self.at == FORMAL:
            out.pop("at", None)
        return out

    @field_validator("kind")
    @classmethod
    def _known(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown rule kind {kind!r} (kinds: {', '.join(sorted(KINDS))})")
        return kind

    @field_validator("params")
    @classmethod
    def _params(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        kind = info.data.get("kind")
        if kind in KINDS:
            KINDS[kind].params.model_validate(params)  # its errors are located at rules.<id>.params.<field>
        return params
