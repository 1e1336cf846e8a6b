"""Revision 0005: application contacts (who each application's notices go to), read by the bulk closure of a window."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('application_contacts',
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('call_id', sa.String(), nullable=False),
    sa.Column('people_json', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('application_id')
    )
    with op.batch_alter_table('application_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_contacts_call_id'), ['call_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('application_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_contacts_call_id'))

    op.drop_table('application_contacts')
