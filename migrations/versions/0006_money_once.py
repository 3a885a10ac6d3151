"""money once: manual bookings, four eyes, runs in one file; job retries; ledger per month

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


SQLITE_TRIGGERS = (
    """CREATE TRIGGER ledger_month_add AFTER INSERT ON ledger_entry BEGIN
         INSERT INTO ledger_month (fund_id, month, kind, reversed_kind, total, entries)
         VALUES (NEW.fund_id, substr(NEW.booked_on, 1, 7), NEW.kind,
                 coalesce((SELECT kind FROM ledger_entry WHERE id = NEW.reverses_id), ''), NEW.amount, 1)
         ON CONFLICT (fund_id, month, kind, reversed_kind)
         DO UPDATE SET total = total + excluded.total, entries = entries + 1;
       END""",
    """CREATE TRIGGER ledger_month_remove AFTER DELETE ON ledger_entry BEGIN
         UPDATE ledger_month SET total = total - OLD.amount, entries = entries - 1
         WHERE fund_id = OLD.fund_id AND month = substr(OLD.booked_on, 1, 7) AND kind = OLD.kind
           AND reversed_kind = coalesce((SELECT kind FROM ledger_entry WHERE id = OLD.reverses_id), '');
       END""",
)
POSTGRES_TRIGGERS = (
    """CREATE FUNCTION ledger_month_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           INSERT INTO ledger_month (fund_id, month, kind, reversed_kind, total, entries)
           VALUES (NEW.fund_id, to_char(NEW.booked_on, 'YYYY-MM'), NEW.kind,
                   coalesce((SELECT kind FROM ledger_entry WHERE id = NEW.reverses_id), ''), NEW.amount, 1)
           ON CONFLICT (fund_id, month, kind, reversed_kind)
           DO UPDATE SET total = ledger_month.total + EXCLUDED.total, entries = ledger_month.entries + 1;
         ELSE
           UPDATE ledger_month SET total = total - OLD.amount, entries = entries - 1
           WHERE fund_id = OLD.fund_id AND month = to_char(OLD.booked_on, 'YYYY-MM') AND kind = OLD.kind
             AND reversed_kind = coalesce((SELECT kind FROM ledger_entry WHERE id = OLD.reverses_id), '');
         END IF;
         RETURN NULL;
       END $$""",
    "CREATE TRIGGER ledger_month_change AFTER INSERT OR DELETE ON ledger_entry "
    "FOR EACH ROW EXECUTE FUNCTION ledger_month_change()",
)
BACKFILL = """INSERT INTO ledger_month (fund_id, month, kind, reversed_kind, total, entries)
  SELECT e.fund_id, {month}, e.kind, coalesce(r.kind, ''), sum(e.amount), count(*)
  FROM ledger_entry e LEFT JOIN ledger_entry r ON r.id = e.reverses_id
  GROUP BY e.fund_id, {month}, e.kind, coalesce(r.kind, '')"""


def upgrade() -> None:
    op.create_table('ledger_month',
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('reversed_kind', sa.String(length=30), nullable=False),
    sa.Column('total', grants.models.base.Money(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['fund.id'], name=op.f('fk_ledger_month_fund_id_fund')),
    sa.PrimaryKeyConstraint('fund_id', 'month', 'kind', 'reversed_kind', name=op.f('pk_ledger_month'))
    )
    op.create_index('ix_ledger_entry_fund_kind', 'ledger_entry', ['fund_id', 'kind'], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(BACKFILL.format(month="to_char(e.booked_on, 'YYYY-MM')" if postgres else "substr(e.booked_on, 1, 7)"))
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)
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

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_changed_at', grants.models.base.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('flow_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', grants.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_flow_job_not_before'), ['not_before'], unique=False)

    with op.batch_alter_table('payout_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payout_run_message_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_payout_run_message_id'), ['message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('bank_changed_at')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_month_change ON ledger_entry")
        op.execute("DROP FUNCTION ledger_month_change()")
    else:
        op.execute("DROP TRIGGER ledger_month_add")
        op.execute("DROP TRIGGER ledger_month_remove")
    op.drop_table('ledger_month')
    op.drop_index('ix_ledger_entry_fund_kind', table_name='ledger_entry')
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
