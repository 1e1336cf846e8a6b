"""A stage's draw from the registry pool on each records back end: no pair with a conflict of interest (same unit,
co-author within the call's years, declared, excluded by the applicant), every pair recorded with its seed and pool
hash, a draw repeated returns the recorded pairs, and a replacement is never conflicted nor an earlier holder."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from activities.review_draw import (
    DrawInput,
    ReassignInput,
    ReviewDrawActivities,
    Vacated,
    _expert_json,
    policy_of,
)
from client.calls import prepare
from models.call import load_call
from models.experts import Collaboration, Expert, Window, conflict_reasons
from models.review.profile import ReviewProfile, profile_json
from records.review_tables import AssignmentRow, ExpertRow, ReviewProfileRow
from records.tables import ApplicationRow
from tests.conftest import CALLS

OPENED = datetime.fromisoformat("2017-05-02T09:00:00+08:00")
DUE = OPENED + timedelta(days=7)
ALWAYS = (Window(OPENED - timedelta(days=30), OPENED + timedelta(days=90)),)


def _experts(pool: str) -> list[Expert]:
    codes = ("K0101", "K0201")
    conflicted = [Expert(f"e-unit-{j}", codes, f"unit-{j}", availability=ALWAYS, stages=frozenset({pool}))
                  for j in range(4)]
    conflicted += [
        Expert("e-coauthor", codes, "elsewhere-1", collaborations=(Collaboration("pi-t00", 2016, "coauthor"),),
               availability=ALWAYS, stages=frozenset({pool})),
        Expert("e-declared", codes, "elsewhere-2", declared_conflicts=frozenset({"t01"}), availability=ALWAYS,
               stages=frozenset({pool})),
        Expert("e-excluded", codes, "elsewhere-3", availability=ALWAYS, stages=frozenset({pool})),
    ]
    clean = [Expert(f"e-clean-{n}", codes, f"institute-{n}", availability=ALWAYS, stages=frozenset({pool}))
             for n in range(6)]
    return conflicted + clean


def _register(db: Engine, call_id: str, version: str, categories: list[str]) -> list[ReviewProfile]:
    profiles = [ReviewProfile(f"t{i:02d}", categories[i % 2], (f"K{i % 2 + 1:02d}01",), f"unit-{i % 4}", f"pi-t{i:02d}",
                              excluded_experts=("e-excluded",) if i == 2 else ()) for i in range(6)]
    with Session(db) as s:
        for p in profiles:
            s.add(ApplicationRow(id=p.application_id, call_id=call_id, workflow_id=f"application-{p.application_id}",
                                 category=p.category, title=p.application_id, applicant=p.pi_id, unit=p.lead_unit,
                                 version=version, state="in_preliminary", updated_at=OPENED))
            s.add(ReviewProfileRow(application_id=p.application_id, call_id=call_id, profile_json=profile_json(p)))
        s.commit()
    return profiles


def test_the_draw_assigns_no_conflicted_pair_and_a_replacement_neither(db: Engine) -> None:
    call = prepare(load_call(CALLS / "003-sx-2017-key-rd-general.yaml")).definition
    policy = policy_of(call, "preliminary", OPENED, DUE)
    experts = {e.id: e for e in _experts(policy.stage)}
    with Session(db) as s:
        for e in experts.values():
            s.add(ExpertRow(id=e.id, expert_json=_expert_json(e)))
        s.commit()
    profiles = {p.application_id: p for p in _register(db, call.id, call.version(), [c.id for c in call.categories])}
    draws = ReviewDrawActivities(db)
    drawn = draws._draw(DrawInput(call, "preliminary", OPENED, DUE, ["in_preliminary"]))
    assert len(drawn.pairs) == 6 * policy.k and not drawn.short and drawn.conflicts_violated == 0
    for pair in drawn.pairs:
        assert conflict_reasons(experts[pair.expert_id], profiles[pair.application_id].proposal(), policy) == []
    held = {(p.application_id, p.expert_id) for p in drawn.pairs}
    assert not held & {("t00", "e-coauthor"), ("t01", "e-declared"), ("t02", "e-excluded"), ("t00", "e-unit-0"),
                       ("t04", "e-unit-0"), ("t01", "e-unit-1"), ("t05", "e-unit-1")}
    with Session(db) as s:
        rows = s.exec(select(AssignmentRow).where(AssignmentRow.call_id == call.id)).all()
    assert {(r.application_id, r.expert_id) for r in rows} == held
    assert {r.seed for r in rows} == {drawn.seed} and {r.pool_hash for r in rows} == {drawn.pool_hash}
    again = draws._draw(DrawInput(call, "preliminary", OPENED, DUE, ["in_preliminary"]))
    assert ({(p.application_id, p.expert_id) for p in again.pairs}, again.seed) == (held, drawn.seed)

    gone = next(p for p in drawn.pairs if p.application_id == "t00")
    earlier = [p.expert_id for p in drawn.pairs if p.application_id == "t00"]
    other = next(p for p in drawn.pairs if p.application_id == "t03")
    added, again_added = draws.reassign_tasks(ReassignInput(
        call, "preliminary", [Vacated("t00", gone.expert_id, "no review by the deadline", earlier),
                              Vacated("t03", other.expert_id, "declined by the expert: 与本人研究方向不符",
                                      [p.expert_id for p in drawn.pairs if p.application_id == "t03"])],
        list(drawn.pairs), OPENED, DUE))
    assert again_added and again_added not in [p.expert_id for p in drawn.pairs if p.application_id == "t03"]
    assert added and added not in earlier
    assert conflict_reasons(experts[added], profiles["t00"].proposal(), policy) == []
    with Session(db) as s:
        old = s.get(AssignmentRow, (call.id, "preliminary", "t00", gone.expert_id))
        new = s.get(AssignmentRow, (call.id, "preliminary", "t00", added))
        declined = s.get(AssignmentRow, (call.id, "preliminary", "t03", other.expert_id))
    assert old is not None and (old.status, old.reason) == ("lapsed", "no review by the deadline")
    assert declined is not None and declined.status == "declined"
    assert new is not None and new.status == "assigned" and new.seed == drawn.seed
