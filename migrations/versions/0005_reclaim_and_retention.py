"""reclaims (Rückforderung) and retention dates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
import grants.models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reclaim',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('principal', grants.models.base.Money(), nullable=False),
        sa.Column('interest', grants.models.base.Money(), nullable=False),
        sa.Column('interest_from', sa.Date(), nullable=False),
        sa.Column('interest_until', sa.Date(), nullable=False),
        sa.Column('pay_by', sa.Date(), nullable=False),
        sa.Column('reasons', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', grants.models.base.UTCDateTime(), nullable=False),
        sa.Column('settled_at', grants.models.base.UTCDateTime(), nullable=True),
        sa.Column('settled_note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_reclaim_application_id_application')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_reclaim_created_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reclaim')),
        sa.UniqueConstraint('application_id', name=op.f('uq_reclaim_application_id')),
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', grants.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', grants.models.base.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_application_closed_at'), ['closed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_closed_at'))
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('closed_at')
    op.drop_table('reclaim')
