"""Revision 0004: accounts, their grants, refused attempts, applicant claims and idempotency keys (identities)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=True),
    sa.Column('password_hash', sa.String(), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('applicant_claims',
    sa.Column('call_id', sa.String(), nullable=False),
    sa.Column('applicant', sa.String(), nullable=False),
    sa.Column('application_id', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('call_id', 'applicant'),
    sa.UniqueConstraint('application_id')
    )
    op.create_table('grants',
    sa.Column('account_id', sa.String(), nullable=False),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('scope', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'role', 'scope')
    )
    op.create_table('idempotency_keys',
    sa.Column('subject', sa.String(), nullable=False),
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('fingerprint', sa.String(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'key')
    )
    op.create_table('refusals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('subject', sa.String(), nullable=False),
    sa.Column('via', sa.String(), nullable=False),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('target', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('refusals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refusals_subject'), ['subject'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('refusals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refusals_subject'))

    op.drop_table('refusals')
    op.drop_table('idempotency_keys')
    op.drop_table('grants')
    op.drop_table('applicant_claims')
    op.drop_table('accounts')
