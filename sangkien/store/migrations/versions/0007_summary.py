"""summary: what each roll-up works out for people to read (figures, closure, the ranked worklist)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COUNTS = ('records', 'initiatives', 'valid', 'pending', 'rejected', 'ineligible', 'registrants')


def upgrade() -> None:
    op.create_index('ix_unit_counts_as_of', 'unit_counts', ['as_of'])
    op.create_table('unit_own_counts',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
    sa.Column('benefit_vnd', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('unit_code', 'phase')
    )
    op.create_table('unit_figures',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    *[sa.Column(name, sa.Integer(), nullable=False)
      for name in ('records', 'initiatives', 'valid', 'pending', 'rejected', 'registrants')],
    sa.Column('basis', sa.String(length=32), nullable=True),
    sa.Column('target', sa.BigInteger(), nullable=True),
    sa.Column('counted', sa.Integer(), nullable=False),
    sa.Column('completion', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('unit_code', 'phase')
    )
    op.create_table('unit_closure',
    sa.Column('ancestor', sa.String(length=64), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('ancestor', 'unit_code')
    )
    op.create_table('worklist',
    sa.Column('rank', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=32), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('expected', sa.BigInteger(), nullable=True),
    sa.Column('actual', sa.BigInteger(), nullable=True),
    sa.Column('basis', sa.String(length=32), nullable=True),
    sa.Column('target', sa.BigInteger(), nullable=True),
    sa.Column('standing', sa.BigInteger(), nullable=True),
    sa.Column('effect', sa.BigInteger(), nullable=False),
    sa.Column('crosses', sa.Boolean(), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('rank')
    )
    op.create_index('ix_worklist_unit_phase_kind_rank', 'worklist', ['unit_code', 'phase', 'kind', 'rank'])
    op.create_table('worklist_items',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('initiative_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True)
    )
    op.create_index('ix_worklist_items_row', 'worklist_items',
                    ['kind', 'cause', 'source', 'phase', 'unit_code', 'initiative_id'])
    op.create_table('summary_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('tree_date', sa.Date(), nullable=False),
    sa.Column('counts_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_index('ix_unit_counts_as_of', table_name='unit_counts')
    for table in ('summary_state', 'worklist_items', 'worklist', 'unit_closure', 'unit_figures', 'unit_own_counts'):
        op.drop_table(table)
