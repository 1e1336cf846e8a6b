"""The contradictions a call's timeline may hold, and only those: stages out of their order, a window with no valid
instant, a deadline before its own opening, a batch cut outside its intake. Windows may overlap in time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from models.call.levels import level_problems

if TYPE_CHECKING:
    from models.call.schema import CallDefinition, PhaseDef

# Stages in their relative order (recommendation is a window, not a stage: anywhere after the application phase, one
# per level that has a deadline of its own).
STAGES = ("paper", "formal_review", "expert_review", "publicity", "contract")
LATE_PAPER = ("publicity", "contract")  # a paper phase may follow publicity: paper only from funded projects


def timeline_problems(call: CallDefinition) -> list[str]:
    return (_order_problems(call.phases) + _window_problems(call.phases) + _category_problems(call) + _step_problems(call)
            + _end_problems(call) + _batch_problems(call) + level_problems(call) + _defence_problems(call))


def _defence_problems(call: CallDefinition) -> list[str]:
    """A defence's days inside its phase's dated window, in the call's timezone."""
    problems: list[str] = []
    for phase_id, stage in (call.review.stages.items() if call.review else ()):
        phase = next((p for p in call.phases if p.id == phase_id), None)
        if stage.defence is None or phase is None:
            continue
        first = phase.opens.astimezone(call.zone).date() if isinstance(phase.opens, datetime) else None
        last = phase.closes.astimezone(call.zone).date() if isinstance(phase.closes, datetime) else None
        problems += [f"review.stages.{phase_id}.defence.days: {d} is outside the phase's window "
                     f"({first or 'manual'} to {last or 'manual'})" for d in stage.defence.days
                     if (first and d < first) or (last and d > last)]
    return problems


def _order_problems(phases: Sequence[PhaseDef]) -> list[str]:
    problems: list[str] = []
    if phases and phases[0].kind != "application":
        problems.append(f"phases: the first phase is {phases[0].id} ({phases[0].kind}): a call's phases start with "
                        f"its application phase (list the others after it, whatever their dates)")
    kinds = [p.kind for p in phases]
    repeated = sorted({k for k in kinds if k not in ("expert_review", "recommendation") and kinds.count(k) > 1})
    problems += [f"phases: only one {k} phase" for k in repeated]
    stages = [p for p in phases if p.kind in STAGES]
    papers = [i for i, p in enumerate(stages) if p.kind == "paper"]
    late = bool(papers) and any(p.kind == "publicity" for p in stages[:papers[0]])
    rank = {k: i for i, k in enumerate(STAGES)}
    if late:
        rank["paper"] = rank["publicity"] + 0.5  # type: ignore[assignment]
    for a, b in zip(stages, stages[1:]):
        if rank[b.kind] < rank[a.kind]:
            problems.append(f"phases: {b.id} ({b.kind}) cannot follow {a.id} ({a.kind}) (stages run paper, "
                            f"formal_review, expert_review, publicity, contract, and paper may instead follow publicity)")
    return problems


def _category_problems(call: CallDefinition) -> list[str]:
    """A stage for some categories only: a paper or review phase (答辩 for the major projects), of known categories."""
    known = [c.id for c in call.categories]
    problems: list[str] = []
    for p in call.phases:
        if p.categories and p.kind not in ("paper", "expert_review"):
            problems.append(f"phases.{p.id}.categories: only a paper or expert_review phase is for some categories "
                            f"(this one is {p.kind})")
        problems += [f"phases.{p.id}.categories: unknown category {c!r} (categories: {', '.join(known)})"
                     for c in p.categories if c not in known]
    return problems


def stage_flags(call: CallDefinition, category: str) -> dict[str, bool]:
    """The conditions `in_<phase>` of the stages for some categories that an application of `category` passes."""
    return {f"in_{p.id}": True for p in call.phases if category in p.categories}


def _window_problems(phases: Sequence[PhaseDef]) -> list[str]:
    """A phase opening when the previous one closes must close after that: otherwise its window has no instant."""
    problems: list[str] = []
    for prev, p in zip(phases, phases[1:]):
        if p.opens == "previous" and isinstance(prev.closes, datetime) and isinstance(p.closes, datetime) \
                and p.closes <= prev.closes:
            problems.append(f"phases.{p.id}.closes: {p.closes.isoformat()} is not after {prev.id} closes "
                            f"{prev.closes.isoformat()}, when {p.id} opens (opens: previous): a window with no valid "
                            f"instant (give {p.id} an opening date of its own if it overlaps {prev.id})")
    return problems


def _step_problems(call: CallDefinition) -> list[str]:
    """A step deadline of its own must come after the application phase opens (a deadline before its opening)."""
    problems: list[str] = []
    app = next((p for p in call.phases if p.kind == "application"), None)
    for s in call.chain:
        at = s.deadline.at if s.deadline else None
        if at is not None and app is not None and isinstance(app.opens, datetime) and at <= app.opens:
            problems.append(f"chain.{s.id}.deadline.at: {at.isoformat()} is not after phases.{app.id} opens "
                            f"{app.opens.isoformat()} (a deadline before its own opening)")
    return problems


def _end_problems(call: CallDefinition) -> list[str]:
    has_contract = any(p.kind == "contract" for p in call.phases)
    if not has_contract and not call.forwarded_to:
        return ["forwarded_to: the call has no contract phase, so say where its applications go after its last phase "
                "(e.g. forwarded_to: 省科技厅 (the province's system of record))"]
    if has_contract and call.forwarded_to:
        return ["forwarded_to: a call with a contract phase keeps its applications to the contract: leave "
                "forwarded_to out"]
    return []


def _batch_problems(call: CallDefinition) -> list[str]:
    """Batch cuts of a rolling intake: strictly later one after another, inside the application phase, the last
    one at its close (an application submitted after the last cut would join no batch)."""
    batches = call.intake.batches
    if not batches:
        return []
    problems: list[str] = []
    if call.intake.mode != "rolling":
        problems.append("intake.batches: only a rolling intake (mode: rolling) is reviewed in batches")
    for a, b in zip(batches, batches[1:]):
        if b.cut <= a.cut:
            problems.append(f"intake.batches.{b.id}.cut: {b.cut.isoformat()} is not after batch {a.id}'s cut "
                            f"{a.cut.isoformat()} (a batch with no valid instant)")
    app = next((p for p in call.phases if p.kind == "application"), None)
    if app is None:
        return problems
    if isinstance(app.opens, datetime) and batches[0].cut <= app.opens:
        problems.append(f"intake.batches.{batches[0].id}.cut: {batches[0].cut.isoformat()} is not after "
                        f"phases.{app.id} opens {app.opens.isoformat()} (a cut before its own opening)")
    if isinstance(app.closes, datetime):
        problems += [f"intake.batches.{b.id}.cut: {b.cut.isoformat()} is after phases.{app.id} closes "
                     f"{app.closes.isoformat()} (the intake's last cut is its close)" for b in batches if b.cut > app.closes]
        if batches[-1].cut < app.closes:
            problems.append(f"intake.batches.{batches[-1].id}.cut: the last cut {batches[-1].cut.isoformat()} is before "
                            f"phases.{app.id} closes {app.closes.isoformat()}: an application submitted between them "
                            f"would join no batch (add a batch cut at the close)")
    return problems
