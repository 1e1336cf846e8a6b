"""Revision 0007: quotas in every form. A place records the application's category and flags (planned counts per
category, minimum shares); application_people names who acts for an application in each role (the base of a ratio);
quota_limits holds the limits managers set in the system. Places taken before get their application's category (their
flags were never recorded: they count as unflagged); applications registered before name nobody in a role."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('application_people',
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('actor_id', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('application_id', 'role')
    )
    with op.batch_alter_table('application_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_people_actor_id'), ['actor_id'], unique=False)

    op.create_table('quota_limits',
    sa.Column('call_id', sa.String(), nullable=False),
    sa.Column('quota', sa.String(), nullable=False),
    sa.Column('limit', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('call_id', 'quota')
    )
    with op.batch_alter_table('quota_uses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('flags', sa.String(), nullable=False, server_default=''))
    op.execute("UPDATE quota_uses SET category = COALESCE((SELECT applications.category FROM applications "
               "WHERE applications.id = quota_uses.application_id), '')")


def downgrade() -> None:
    with op.batch_alter_table('quota_uses', schema=None) as batch_op:
        batch_op.drop_column('flags')
        batch_op.drop_column('category')

    op.drop_table('quota_limits')
    with op.batch_alter_table('application_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_people_actor_id'))

    op.drop_table('application_people')
