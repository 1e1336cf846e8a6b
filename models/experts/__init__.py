"""Expert review assignment as pure data and functions: the reviewer pool, eligibility and conflicts, the drawn
assignment with its audit figures, reassignment, and a seeded sample pool for simulations."""

from models.experts.assignment import SOLVER, Assignment, Replacement, assign, reassign
from models.experts.audit import Overrides, Reviewers, conflicts, cost_of, even_squares, loads, violations
from models.experts.eligibility import (
    LEVEL_COST,
    SECONDARY_COST,
    Policy,
    candidates,
    conflict_reasons,
    fit_cost,
    pair_problems,
)
from models.experts.flow import AssignmentError
from models.experts.pool import Collaboration, Expert, Proposal, Window, shared_level, snapshot_hash
from models.experts.sample import Sample, sample

__all__ = [
    "LEVEL_COST", "SECONDARY_COST", "SOLVER", "Assignment", "AssignmentError", "Collaboration", "Expert", "Overrides",
    "Policy", "Proposal", "Replacement", "Reviewers", "Sample", "Window", "assign", "candidates",
    "conflict_reasons", "conflicts", "cost_of", "even_squares", "fit_cost", "loads", "pair_problems", "reassign", "sample",
    "shared_level", "snapshot_hash", "violations",
]
