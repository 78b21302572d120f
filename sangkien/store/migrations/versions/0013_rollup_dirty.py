"""rollup_dirty: the units whose own counts changed since the last roll-up, so a night recounts those units only

Validation and resolution name the units they touch (before and after); the roll-up recounts them
and empties the table. The kept per-unit counts are emptied here: a store upgraded from 0012 may hold
changes its last roll-up did not see, and the first roll-up after the upgrade counts everything.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_dirty', sa.Column('unit_code', sa.String(length=64), nullable=False))
    op.create_index('ix_rollup_dirty_unit_code', 'rollup_dirty', ['unit_code'])
    op.execute('DELETE FROM unit_own_counts')


def downgrade() -> None:
    op.drop_index('ix_rollup_dirty_unit_code', table_name='rollup_dirty')
    op.drop_table('rollup_dirty')
