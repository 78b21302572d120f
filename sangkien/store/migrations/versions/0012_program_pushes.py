"""Pushes and what people read, per program: submissions carry their program (an older child's push counts for
the default program 1trieu), the kept figures, targets and cluster ranks are keyed by program,
program_summaries records the programs other than the node's default worked out on request, and a pushed
entry may carry the day it was submitted (submission_entries.submitted_on, for quarter ranks)

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

DEFAULT_PROGRAM = '1trieu'


def _figures(program: bool) -> None:
    keyed = [sa.Column('program', sa.String(length=32), nullable=False)] if program else []
    key = ['program'] if program else []
    op.create_table('unit_figures', *keyed,
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    *[sa.Column(name, sa.Integer(), nullable=False)
      for name in ('records', 'initiatives', 'valid', 'pending', 'rejected', 'registrants')],
    sa.Column('basis', sa.String(length=32), nullable=True),
    sa.Column('target', sa.BigInteger(), nullable=True),
    sa.Column('counted', sa.Integer(), nullable=False),
    sa.Column('completion', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint(*key, 'unit_code', 'phase')
    )
    keyed = [sa.Column('program', sa.String(length=32), nullable=False)] if program else []
    op.create_table('unit_targets', *keyed,
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.String(length=64), nullable=False),
    sa.Column('basis', sa.String(length=32), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('counted', sa.Float(), nullable=True),
    sa.Column('completion', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint(*key, 'unit_code', 'phase', 'assigned_by', 'basis')
    )
    keyed = [sa.Column('program', sa.String(length=32), nullable=False)] if program else []
    op.create_table('cluster_ranks', *keyed,
    sa.Column('cluster_code', sa.String(length=32), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=8), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('cluster_name', sa.Text(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('of', sa.Integer(), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=True),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('completion', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint(*key, 'cluster_code', 'phase', 'quarter', 'unit_code')
    )


def _drop_figures() -> None:
    for name in ('cluster_ranks', 'unit_targets', 'unit_figures'):
        op.drop_table(name)


def upgrade() -> None:
    # the kept summary is worked out again on first read (these tables hold nothing that is not derived)
    op.execute('DELETE FROM summary_state')
    _drop_figures()
    _figures(program=True)
    op.create_table('program_summaries',
    sa.Column('program', sa.String(length=32), nullable=False),
    sa.Column('counts_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('program')
    )
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('program', sa.String(length=32), server_default=DEFAULT_PROGRAM, nullable=False))
    with op.batch_alter_table('submission_entries') as batch:
        batch.add_column(sa.Column('submitted_on', sa.Date(), nullable=True))


def downgrade() -> None:
    # before programs were pushed every submission counted for the default program: the others' go
    with op.batch_alter_table('submission_entries') as batch:
        batch.drop_column('submitted_on')
    others = f"SELECT id FROM submissions WHERE program <> '{DEFAULT_PROGRAM}'"
    for table in ('submission_entries', 'submission_units', 'submission_ineligible'):
        op.execute(f"DELETE FROM {table} WHERE submission_id IN ({others})")
    op.execute(f"DELETE FROM submissions WHERE program <> '{DEFAULT_PROGRAM}'")
    with op.batch_alter_table('submissions') as batch:
        batch.drop_column('program')
    op.drop_table('program_summaries')
    op.execute('DELETE FROM summary_state')
    _drop_figures()
    _figures(program=False)
