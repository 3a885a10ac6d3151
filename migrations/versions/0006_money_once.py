"""money once: manual bookings, four eyes, runs in one file; job retries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

A payout file may carry several runs, so the message id is no longer unique per run. Existing
funds get the default threshold for four eyes on manual bookings (1,000.00 EUR, stored in cents).
"""
from alembic import op
import sqlalchemy as sa
import grants.models.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('manual_booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('amount', grants.models.base.Money(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', grants.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', grants.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_manual_booking_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['fund_id'], ['fund.id'], name=op.f('fk_manual_booking_fund_id_fund')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], name=op.f('fk_manual_booking_ledger_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_manual_booking_proposed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manual_booking')),
    sa.UniqueConstraint('request_key', name=op.f('uq_manual_booking_request_key'))
    )
    with op.batch_alter_table('manual_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manual_booking_fund_id'), ['fund_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_manual_booking_state'), ['state'], unique=False)

    with op.batch_alter_table('fund', schema=None) as batch_op:
        batch_op.add_column(sa.Column('four_eyes_from', grants.models.base.Money(), nullable=False,
                                      server_default=sa.text('100000')))

    with op.batch_alter_table('flow_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', grants.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_flow_job_not_before'), ['not_before'], unique=False)

    with op.batch_alter_table('payout_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payout_run_message_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_payout_run_message_id'), ['message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('flow_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_job_not_before'))
        batch_op.drop_column('not_before')

    with op.batch_alter_table('payout_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_run_message_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_payout_run_message_id'), ['message_id'])

    with op.batch_alter_table('fund', schema=None) as batch_op:
        batch_op.drop_column('four_eyes_from')

    with op.batch_alter_table('manual_booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manual_booking_state'))
        batch_op.drop_index(batch_op.f('ix_manual_booking_fund_id'))

    op.drop_table('manual_booking')
