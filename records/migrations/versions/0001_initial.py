"""Initial schema: the read model (calls, applications, transitions, events), outbox, lockouts, quotas, extensions,
closure reports, the registry and stored files, as `create_all` made them before migrations."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None


def upgrade() -> None:
    op.create_table("applications",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("workflow_id", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("applicant", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("verdicts_json", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_applications_call_id", "applications", ["call_id"])
    op.create_index("ix_applications_state", "applications", ["state"])
    op.create_table("call_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("previous", sa.DateTime(), nullable=True),
        sa.Column("new", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "seq")
    )
    op.create_index("ix_call_events_call_id", "call_events", ["call_id"])
    op.create_table("calls",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("definition_json", sa.String(), nullable=False),
        sa.Column("timetable_json", sa.String(), nullable=False),
        sa.Column("timetable_seq", sa.Integer(), nullable=False),
        sa.Column("current_phase", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_table("closure_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("instant", sa.DateTime(), nullable=False),
        sa.Column("counts_json", sa.String(), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "phase")
    )
    op.create_table("extensions",
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("window", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("closes", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", "window")
    )
    op.create_index("ix_extensions_call_id", "extensions", ["call_id"])
    op.create_table("file_blobs",
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256")
    )
    op.create_table("lockouts",
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", "phase")
    )
    op.create_table("notices",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=True),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("key")
    )
    op.create_index("ix_notices_application_id", "notices", ["application_id"])
    op.create_index("ix_notices_call_id", "notices", ["call_id"])
    op.create_table("quota_uses",
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", "step", "application_id")
    )
    op.create_index("ix_quota_uses_actor_id", "quota_uses", ["actor_id"])
    op.create_table("registry_people",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("id_type", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("degree", sa.String(), nullable=False),
        sa.Column("unit_id", sa.String(), nullable=True),
        sa.Column("full_time", sa.Boolean(), nullable=False),
        sa.Column("student_status", sa.String(), nullable=False),
        sa.Column("civil_servant", sa.Boolean(), nullable=False),
        sa.Column("academician", sa.Boolean(), nullable=False),
        sa.Column("talent_level", sa.String(), nullable=True),
        sa.Column("retirement_date", sa.Date(), nullable=True),
        sa.Column("blacklisted_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_registry_people_unit_id", "registry_people", ["unit_id"])
    op.create_table("registry_projects",
        sa.Column("project_id", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("unit_id", sa.String(), nullable=False),
        sa.Column("programme", sa.String(), nullable=False),
        sa.Column("province", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("abstract", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("funds_owed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "person_id")
    )
    op.create_index("ix_registry_projects_unit_id", "registry_projects", ["unit_id"])
    op.create_table("registry_units",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("legal_entity", sa.Boolean(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("province", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("admin_level", sa.String(), nullable=False),
        sa.Column("high_tech", sa.Boolean(), nullable=False),
        sa.Column("rd_institution", sa.Boolean(), nullable=False),
        sa.Column("key_discipline", sa.Boolean(), nullable=False),
        sa.Column("cto_id", sa.String(), nullable=True),
        sa.Column("blacklisted_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_registry_units_province", "registry_units", ["province"])
    op.create_table("stored_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("media_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("document_date", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("uploaded_by", sa.String(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_stored_files_application_id", "stored_files", ["application_id"])
    op.create_index("ix_stored_files_sha256", "stored_files", ["sha256"])
    op.create_table("transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("dest", sa.String(), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("prev_hash", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "seq")
    )
    op.create_index("ix_transitions_application_id", "transitions", ["application_id"])
    op.create_index("ix_transitions_call_id", "transitions", ["call_id"])


def downgrade() -> None:
    op.drop_table("transitions")
    op.drop_table("stored_files")
    op.drop_table("registry_units")
    op.drop_table("registry_projects")
    op.drop_table("registry_people")
    op.drop_table("quota_uses")
    op.drop_table("notices")
    op.drop_table("lockouts")
    op.drop_table("file_blobs")
    op.drop_table("extensions")
    op.drop_table("closure_reports")
    op.drop_table("calls")
    op.drop_table("call_events")
    op.drop_table("applications")
