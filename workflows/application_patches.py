"""The application workflow's patches: the paths a run takes, and the one marker a run started on today's code
records for all of them (each patch costs every history a marker and a search-attribute upsert)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.lifecycle import STAGED_PAPER_PATCH

IDENTITY_PATCH = "identity-checks"  # handlers check the request's identity and grants, as validators always do
EXTENSION_FLOOR_PATCH = "extension-never-shortens"  # an application's extension never binds before a later call-wide close
RECOMMENDATION_PATCH = "recommendation-rules"  # a recommender's step checks the call's rules first
STEADY_WAKE_PATCH = "steady-wake-timer"  # one timer per wake instant, kept across updates and signals (workflows.alarm)

# Newest first: the marker a run started on that code records, and the patches it takes as applied without a marker
# of their own. A set never changes once released: a new patch gets its own marker until a new line names it.
LINES: tuple[tuple[str, frozenset[str]], ...] = (
    ("application-2026-12", frozenset((
        IDENTITY_PATCH, EXTENSION_FLOOR_PATCH, RECOMMENDATION_PATCH, STEADY_WAKE_PATCH, STAGED_PAPER_PATCH,
        "bulk-closure", "formal-verdicts", "no-reminder-after-its-deadline", "paper-receipts", "quota-forms",
        "record-returns-recorded", "vacancy"))),
)


def started_on() -> frozenset[str]:
    """The patches this run takes as applied: the newest line's for a new run (one marker), an older line's for a
    run that recorded it, none for a run from before the lines (it asks for each patch where it always did)."""
    return next((applied for marker, applied in LINES if workflow.patched(marker)), frozenset())


class Patched:
    """`_patched` for the workflow class and its parts; `applied` is set from `started_on` when the run starts."""

    applied: frozenset[str]

    def _patched(self, patch: str) -> bool:
        """`workflow.patched(patch)`, or applied by the line the run started on."""
        return patch in self.applied or workflow.patched(patch)
