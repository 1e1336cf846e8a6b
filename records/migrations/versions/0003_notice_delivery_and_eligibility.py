"""Notice delivery (status, address, claims, attempts; the notice_attempts table), contact addresses of registry people
and units, and the eligibility facts of issue 20 (sex, foreign expert, verified identity, restrictions, unit statuses).
Rows already there get the models' defaults; a notice delivered before this revision is `sent`."""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notice_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_key', sa.String(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(), nullable=False),
    sa.Column('address', sa.String(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(), nullable=True),
    sa.Column('code', sa.Integer(), nullable=True),
    sa.Column('reply', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_key', 'attempt')
    )
    with op.batch_alter_table('notice_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_attempts_notice_key'), ['notice_key'], unique=False)

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(), nullable=False, server_default='queued'))
        batch_op.add_column(sa.Column('address', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('message_id', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('claim', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('failure', sa.String(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notices_status'), ['status'], unique=False)
    op.execute("UPDATE notices SET status = 'sent' WHERE delivered_at IS NOT NULL")

    with op.batch_alter_table('registry_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sex', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('foreign_expert', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('identity_verified', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('restricted_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('work_started_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('mobile', sa.String(), nullable=True))

    with op.batch_alter_table('registry_units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restricted_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('statuses', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('rd_registered_years', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('email', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('mobile', sa.String(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('registry_units', schema=None) as batch_op:
        batch_op.drop_column('mobile')
        batch_op.drop_column('email')
        batch_op.drop_column('rd_registered_years')
        batch_op.drop_column('statuses')
        batch_op.drop_column('restricted_until')

    with op.batch_alter_table('registry_people', schema=None) as batch_op:
        batch_op.drop_column('mobile')
        batch_op.drop_column('email')
        batch_op.drop_column('work_started_on')
        batch_op.drop_column('restricted_until')
        batch_op.drop_column('identity_verified')
        batch_op.drop_column('foreign_expert')
        batch_op.drop_column('sex')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_status'))
        batch_op.drop_column('failure')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claim')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('message_id')
        batch_op.drop_column('address')
        batch_op.drop_column('status')

    with op.batch_alter_table('notice_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_attempts_notice_key'))

    op.drop_table('notice_attempts')
