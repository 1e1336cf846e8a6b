"""Score sheets, aggregation (mean, trimmed mean, per-reviewer z-scores), outliers, ranking within the planned count,
budget and unit quota under the stated tie rule, and promotion of the first reserve."""

from __future__ import annotations

from models.call import ReviewDef
from models.review.aggregate import Scored, aggregate, outliers
from models.review.ranking import Candidate, Limits, advancing, promote, rank
from models.review.sheets import sheet_problems, total

SHEET = ReviewDef().sheet


def test_a_sheet_needs_every_criterion_on_its_scale_and_the_mandatory_comments() -> None:
    full = {c.id: 8 for c in SHEET}
    assert sheet_problems(SHEET, full, {"feasibility": "方案可行"}) == []
    assert total(SHEET, full) == 80.0
    problems = sheet_problems(SHEET, {**full, "innovation": 11, "bogus": 1}, {})
    assert any("off its scale 0-10" in p for p in problems)
    assert any("unknown criterion 'bogus'" in p for p in problems)
    assert any("feasibility" in p and "needs a comment" in p for p in problems)
    assert any("has no score" in p for p in sheet_problems(SHEET, {"innovation": 5}, {"feasibility": "x"}))


def _reviews() -> list[Scored]:
    # a lenient reviewer L (always high) and a severe reviewer S (always low) see different applications
    return [Scored("a1", "L", 95), Scored("a2", "L", 85), Scored("a3", "S", 55), Scored("a4", "S", 45)]


def test_zscore_normalisation_counts_a_lenient_and_a_severe_reviewer_alike() -> None:
    plain = aggregate(_reviews(), ReviewDef(aggregation="mean"))
    assert plain["a1"] > plain["a3"] and plain["a2"] > plain["a3"]
    normal = aggregate(_reviews(), ReviewDef(aggregation="zscore"))
    assert normal["a1"] == normal["a3"] and normal["a2"] == normal["a4"] and normal["a1"] > normal["a2"]


def test_trimmed_mean_drops_the_extremes_and_outliers_are_flagged() -> None:
    reviews = [Scored("a", e, v) for e, v in (("x", 20), ("y", 80), ("z", 82), ("w", 84), ("v", 99))]
    assert aggregate(reviews, ReviewDef(aggregation="trimmed_mean", trim=1))["a"] == 82.0
    flagged = outliers(reviews, 30)  # mean 73: x is 53 away, v 26
    assert [(o.expert_id, o.total) for o in flagged] == [("x", 20)]


def test_ranking_funds_within_the_planned_count_with_the_stated_tie_rule() -> None:
    cands = [Candidate("b", "c", 90, first_criterion=8, requested_cny=100),
             Candidate("a", "c", 90, first_criterion=8, requested_cny=100),   # full tie with b: id decides
             Candidate("cheap", "c", 90, first_criterion=8, requested_cny=50),  # smaller amount goes first
             Candidate("first", "c", 90, first_criterion=9, requested_cny=500),  # first criterion goes first
             Candidate("top", "c", 95), Candidate("low", "c", 60), Candidate("few", "c", None)]
    ranked = rank("c", cands, Limits(planned=3), reserve=2)
    assert ranked.order == ["top", "first", "cheap", "a", "b", "low"]
    assert ranked.funded == ["top", "first", "cheap"] and ranked.reserves == ["a", "b"]
    assert ranked.rest == ["low"] and ranked.unranked == ["few"]
    assert len(ranked.funded) <= 3


def test_budget_and_unit_quota_pass_over_a_candidate_with_the_reason() -> None:
    cands = [Candidate("a", "c", 90, requested_cny=300, unit="u1"), Candidate("b", "c", 80, requested_cny=300,
             unit="u1"), Candidate("d", "c", 70, requested_cny=500, unit="u2"), Candidate("e", "c", 60,
             requested_cny=100, unit="u3")]
    ranked = rank("c", cands, Limits(planned=3, budget_cny=700, per_unit=1), reserve=1)
    assert ranked.funded == ["a", "e"]
    assert "unit u1" in ranked.skipped["b"] and "budget" in ranked.skipped["d"]


def test_an_upheld_objection_promotes_the_first_reserve_within_the_quota() -> None:
    ranked = rank("c", [Candidate(x, "c", s) for x, s in (("a", 90), ("b", 80), ("r1", 70), ("r2", 60))],
                  Limits(planned=2), reserve=2)
    assert promote(ranked, "a") == "r1"
    assert ranked.funded == ["b", "r1"] and ranked.reserves == ["r2"] and len(ranked.funded) == 2
    assert promote(ranked, "nobody") is None


def test_a_stage_advances_the_top_share_above_its_cutoff() -> None:
    cands = [Candidate(x, "c", s) for x, s in (("a", 90), ("b", 70), ("c", 45), ("d", 80), ("e", None))]
    assert advancing(cands, 0.75, 50) == ["a", "d", "b"]
    assert advancing(cands, 1.0, 50) == ["a", "d", "b"]
    assert advancing(cands, 0.5, 85) == ["a"]
