"""Rule kinds: a registry of small pure checks, each with its parameter model and the seed sentences it implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from models.facts import Facts

Outcome = Literal["pass", "fail", "review"]


class Params(BaseModel):
    """Base of every rule kind's parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


@dataclass(frozen=True)
class Finding:
    """What a rule function returns: the outcome, why, and the facts it looked at."""

    outcome: Outcome
    reason: str
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """One rule's verdict on one application, as recorded and explained."""

    rule_id: str
    kind: str
    outcome: Outcome
    reason: str
    evidence: dict[str, str] = field(default_factory=dict)
    seed: str = ""


def passed(reason: str, **evidence: object) -> Finding:
    return Finding("pass", reason, {k: str(v) for k, v in evidence.items()})


def failed(reason: str, **evidence: object) -> Finding:
    return Finding("fail", reason, {k: str(v) for k, v in evidence.items()})


def review(reason: str, **evidence: object) -> Finding:
    return Finding("review", reason, {k: str(v) for k, v in evidence.items()})


P = TypeVar("P", bound=Params)
Check = Callable[[P, Facts], Finding]


@dataclass(frozen=True)
class RuleKind(Generic[P]):
    name: str
    params: type[P]
    check: Check[P]

    @property
    def doc(self) -> str:
        return (self.check.__doc__ or "").strip()

    def run(self, params: dict[str, Any], facts: Facts) -> Finding:
        return self.check(self.params.model_validate(params), facts)


KINDS: dict[str, RuleKind[Any]] = {}


def rule(name: str, params: type[P]) -> Callable[[Check[P]], Check[P]]:
    """Register `check` as rule kind `name` with parameter model `params`."""

    def register(check: Check[P]) -> Check[P]:
        if name in KINDS:
            raise ValueError(f"rule kind {name!r} registered twice")
        KINDS[name] = RuleKind(name, params, check)
        return check

    return register
