"""The chain index: a call's transitions by id, so appending reads the chain's head, not the whole chain."""

from alembic import op

revision = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    op.create_index("ix_transitions_chain", "transitions", ["call_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_transitions_chain", table_name="transitions")
