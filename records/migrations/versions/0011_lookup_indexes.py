"""Revision 0011: applications by applicant and by unit, registry projects by person: the look-ups of every formal
review's snapshot, which scanned both tables (a cost that grew with the call: 9 of 27 ms at 10,000 applications)."""

from alembic import op

revision = "0011"
down_revision: str | None = "0010"

INDEXES = (("ix_applications_applicant", "applications", ["applicant", "call_id"]),
           ("ix_applications_unit", "applications", ["unit", "call_id"]),
           ("ix_registry_projects_person_id", "registry_projects", ["person_id"]))


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
