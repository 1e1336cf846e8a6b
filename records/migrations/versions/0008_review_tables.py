"""Revision 0008: expert review (the expert pool, review profiles, every assigned pair with its draw, the valid
reviews and each stage's ranking)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assignments',
    sa.Column('call_id', sa.String(), nullable=False),
    sa.Column('stage', sa.String(), nullable=False),
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('expert_id', sa.String(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('pool_hash', sa.String(), nullable=False),
    sa.Column('request_hash', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('due', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('call_id', 'stage', 'application_id', 'expert_id')
    )
    op.create_table('experts',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('expert_json', sa.String(), nullable=False),
    sa.Column('source', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rankings',
    sa.Column('call_id', sa.String(), nullable=False),
    sa.Column('stage', sa.String(), nullable=False),
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('category', sa.String(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('call_id', 'stage', 'application_id')
    )
    op.create_table('review_profiles',
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('call_id', sa.String(), nullable=False),
    sa.Column('profile_json', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('application_id')
    )
    with op.batch_alter_table('review_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_profiles_call_id'), ['call_id'], unique=False)

    op.create_table('reviews',
    sa.Column('call_id', sa.String(), nullable=False),
    sa.Column('stage', sa.String(), nullable=False),
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('expert_id', sa.String(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('scores_json', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('call_id', 'stage', 'application_id', 'expert_id')
    )


def downgrade() -> None:
    op.drop_table('reviews')
    with op.batch_alter_table('review_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_profiles_call_id'))

    op.drop_table('review_profiles')
    op.drop_table('rankings')
    op.drop_table('experts')
    op.drop_table('assignments')
